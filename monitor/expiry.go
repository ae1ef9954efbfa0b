package monitor

import (
	"context"
	"strings"
	"time"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/store"
)

// expiryEvery is how often a profile's secret expiry is read from Graph:
// it changes only when someone rotates the secret.
const expiryEvery = time.Hour

// refreshExpiry reads the client secret's end date from Graph
// (passwordCredentials) and stores it with its source: through the
// profile's read-only monitoring app when it has one, whatever the access
// model, else when the product's app may read its own registration
// (app-only with Application.Read.All). When Graph says no, the date a
// person entered stays, with its source: the countdown is never left
// without one.
func (e *Engine) refreshExpiry(ctx context.Context, c *profileConn) {
	if c.prof.UsesCertificate() {
		e.learnCertificateKey(ctx, c)
		return
	}
	cs, err := c.Secret()
	if err != nil || cs.Value.IsZero() || c.prof.OnPremises {
		return
	}
	if !e.due(e.expiryRead, c.prof.ID, expiryEvery) {
		return
	}
	creds, err := c.appPasswords(ctx)
	if err != nil {
		e.opts.Logger.Debug("secret expiry not readable from Graph", "profile", c.prof.ID, "err", err)
		return
	}
	for _, pc := range creds {
		// By Secret ID when it is known; else by the hint, the value's
		// first three characters, when only one secret has it.
		if pc.KeyID == cs.KeyID || (cs.KeyID == "" && pc.Hint != "" && strings.HasPrefix(cs.Value.Reveal(), pc.Hint) && onlyHint(creds, pc.Hint)) {
			if cs.ExpirySource == store.ExpiryGraph && cs.Expiry.Equal(pc.EndDateTime) && cs.KeyID == pc.KeyID {
				return
			}
			cs.KeyID, cs.Expiry, cs.ExpirySource = pc.KeyID, pc.EndDateTime, store.ExpiryGraph
			if err := c.SaveSecret(cs); err != nil {
				e.opts.Logger.Error("store secret expiry", "profile", c.prof.ID, "err", err)
			}
			return
		}
	}
}

// appPasswords reads the product app's client secrets: with the
// monitoring app when there is one (its certificates too, which no
// profile keeps yet), else with the product app's own token.
func (c *profileConn) appPasswords(ctx context.Context) ([]exchange.PasswordCredential, error) {
	if g, ok := c.MonitorGraph(); ok {
		creds, err := g.AppCredentials(ctx, c.prof.ClientID)
		return creds.Passwords, err
	}
	return c.AppGraph().AppPasswords(ctx, c.prof.ClientID)
}

func onlyHint(creds []exchange.PasswordCredential, hint string) bool {
	n := 0
	for _, pc := range creds {
		if pc.Hint == hint {
			n++
		}
	}
	return n == 1
}

// learnCertificateKey finds the keyId Entra gave a certificate uploaded by
// hand in the portal, by its thumbprint among the app's keyCredentials:
// the sign-in log names a certificate by keyId only, so without it a
// rotation could not see the product switch. The certificate's expiry is
// its own NotAfter: nothing else to read.
func (e *Engine) learnCertificateKey(ctx context.Context, c *profileConn) {
	info := c.prof.Certificate
	if info == nil || info.KeyID != "" || !e.due(e.expiryRead, c.prof.ID, expiryEvery) {
		return
	}
	g, ok := c.MonitorGraph()
	if !ok {
		g = c.AppGraph()
	}
	creds, err := g.AppCredentials(ctx, c.prof.ClientID)
	if err != nil {
		e.opts.Logger.Debug("certificate keyId not readable from Graph", "profile", c.prof.ID, "err", err)
		return
	}
	for _, k := range creds.Keys {
		if k.Thumbprint() != info.Thumbprint {
			continue
		}
		sc, err := e.db.ClientCertificate(c.prof.ID)
		if err == nil && sc.KeyID == "" {
			sc.KeyID = k.KeyID
			err = e.db.SetClientCertificate(c.prof.ID, sc)
		}
		if err != nil {
			e.opts.Logger.Error("store certificate keyId", "profile", c.prof.ID, "err", err)
		}
		return
	}
}
