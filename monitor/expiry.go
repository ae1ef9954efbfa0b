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
// (passwordCredentials) when the app may read its own registration, and
// stores it with its source. When Graph says no (no Application.Read.All),
// the date a person entered stays, with its source: the countdown is
// never left without one.
func (e *Engine) refreshExpiry(ctx context.Context, c *profileConn) {
	cs, err := c.Secret()
	if err != nil || cs.Value.IsZero() || c.prof.OnPremises {
		return
	}
	e.mu.Lock()
	last := e.expiryRead[c.prof.ID]
	due := e.opts.Now().Sub(last) >= expiryEvery
	if due {
		e.expiryRead[c.prof.ID] = e.opts.Now()
	}
	e.mu.Unlock()
	if !due {
		return
	}
	creds, err := c.AppGraph().AppPasswords(ctx, c.prof.ClientID)
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

func onlyHint(creds []exchange.PasswordCredential, hint string) bool {
	n := 0
	for _, pc := range creds {
		if pc.Hint == hint {
			n++
		}
	}
	return n == 1
}
