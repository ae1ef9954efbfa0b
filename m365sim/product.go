package m365sim

import (
	"context"
	"strings"
	"time"
)

// productSwitch is how long after a new secret is added the played
// product starts using it: the admin typing the hand-off sheet into the
// product's settings screen.
const productSwitch = time.Minute

// PlayProduct makes the tenant's business apps sign in as their products
// would, every interval until ctx ends, so that `modauth demo` has a
// product beside modauth whose sign-ins fill the log its monitoring app
// reads. An app with application permissions signs in app-only with its
// newest secret once that secret is a minute old; every user signed in to
// an app is refreshed in the background, failing where a refresh would
// (a revoked session, a disabled account).
func (s *Sim) PlayProduct(ctx context.Context, every time.Duration) {
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				s.productRound()
			}
		}
	}()
}

// productRound is one round of the played product's sign-ins.
func (s *Sim) productRound() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Clock.Now()
	for _, t := range s.tenants {
		for _, a := range t.Apps {
			if !isProduct(a) || len(t.roles[a.ClientID]) == 0 {
				continue
			}
			if pc := productSecret(a, now); pc != nil {
				s.recordSignIn(t, SignIn{AppID: a.ClientID, AppName: a.DisplayName, EventType: ServicePrincipal, ResourceID: GraphAppID,
					ClientCredentialType: "clientSecret", CredentialKeyID: pc.KeyID, ServicePrincipalID: a.SPObjectID}, nil)
			}
		}
	}
	type pair struct {
		app  *App
		user *User
	}
	done := map[pair]bool{}
	for _, g := range s.refresh {
		p := pair{g.app, g.user}
		if done[p] || !g.replaced.IsZero() || !isProduct(g.app) {
			continue
		}
		done[p] = true
		e := signInCheck(g.user)
		if g.revoked {
			e = aad(400, "invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed.")
		}
		ev := userSignIn(NonInteractiveUser, g.app, g.user, "", "")
		if pc := productSecret(g.app, now); pc != nil { // the product holds the secret, whoever made the grant
			ev.ClientCredentialType, ev.CredentialKeyID = "clientSecret", pc.KeyID
		}
		s.recordSignIn(g.tenant, ev, e)
	}
}

// isProduct tells a business product's app from Microsoft's own and from
// modauth's monitoring app.
func isProduct(a *App) bool {
	return !a.firstParty && !strings.HasSuffix(a.DisplayName, "(modauth monitor)")
}

// productSecret is the secret the product holds: the newest valid one
// added at least productSwitch ago, else the oldest valid one.
func productSecret(a *App, now time.Time) *PasswordCredential {
	var pick *PasswordCredential
	for _, pc := range a.Secrets {
		if !now.Before(pc.End) {
			continue
		}
		settled := !now.Before(pc.Start.Add(productSwitch))
		switch {
		case pick == nil:
			pick = pc
		case settled && pc.Start.After(pick.Start):
			pick = pc
		}
	}
	return pick
}
