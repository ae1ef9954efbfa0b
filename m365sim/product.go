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
			if kind, keyID := productCredential(a, now); keyID != "" {
				s.recordSignIn(t, SignIn{AppID: a.ClientID, AppName: a.DisplayName, EventType: ServicePrincipal, ResourceID: GraphAppID,
					ClientCredentialType: kind, CredentialKeyID: keyID, ServicePrincipalID: a.SPObjectID}, nil)
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
		if kind, keyID := productCredential(g.app, now); keyID != "" { // the product holds it, whoever made the grant
			ev.ClientCredentialType, ev.CredentialKeyID = kind, keyID
		}
		s.recordSignIn(g.tenant, ev, e)
	}
}

// isProduct tells a business product's app from Microsoft's own and from
// modauth's monitoring app.
func isProduct(a *App) bool {
	return !a.firstParty && !strings.HasSuffix(a.DisplayName, "(modauth monitor)")
}

// productCredential is the credential the product holds, as the sign-in
// log names it: its kind and keyId. A product of an app with secrets
// holds a secret; else, one with certificates a certificate: the newest
// valid one added at least productSwitch ago, else the oldest valid one.
func productCredential(a *App, now time.Time) (kind, keyID string) {
	if pc := productPick(a.Secrets, now, func(pc *PasswordCredential) (time.Time, time.Time) { return pc.Start, pc.End }); pc != nil {
		return "clientSecret", pc.KeyID
	}
	if kc := productPick(a.Certificates, now, func(kc *KeyCredential) (time.Time, time.Time) { return kc.Start, kc.End }); kc != nil {
		return "certificate", kc.KeyID
	}
	return "", ""
}

// productPick is the credential the product holds among creds, whose
// validity span tells.
func productPick[C any](creds []*C, now time.Time, span func(*C) (start, end time.Time)) *C {
	var pick *C
	var pickStart time.Time
	for _, c := range creds {
		start, end := span(c)
		if !now.Before(end) {
			continue
		}
		settled := !now.Before(start.Add(productSwitch))
		if pick == nil || (settled && start.After(pickStart)) {
			pick, pickStart = c, start
		}
	}
	return pick
}
