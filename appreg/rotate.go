package appreg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/store"
)

// Rotation replaces a client secret without a moment in which no working
// secret exists: the new secret is added, proven, stored, and only then is
// the old one removed. Consent is untouched.
type Rotation struct {
	Graph    *exchange.Graph
	ClientID string
	Current  store.ClientSecret // the stored secret, with its KeyID
	Lifetime time.Duration      // of the new secret; default 12 months
	// Prove requests a token with the new secret (client credentials).
	Prove func(ctx context.Context, secret store.Secret) error
	// Save stores the new secret; until it returns nil the old one stays.
	Save func(store.ClientSecret) error
	// RemoveOld is asked before the old secret is deleted; nil keeps it,
	// to be removed later (or left to expire).
	RemoveOld func(old store.ClientSecret) bool
	Now       func() time.Time
	// Sleep waits between proofs: a new secret can take a little while to
	// reach every Entra ID server.
	Sleep func(ctx context.Context, d time.Duration) error
}

// proofAttempts and proofWait bound the wait for a new secret to work.
const (
	proofAttempts = 6
	proofWait     = 5 * time.Second
)

// Run rotates and returns the new secret.
func (r Rotation) Run(ctx context.Context) (store.ClientSecret, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	lifetime := r.Lifetime
	if lifetime == 0 {
		lifetime = 365 * 24 * time.Hour
	}
	t := now()
	pc, err := r.Graph.AddPassword(ctx, r.ClientID, "modauth "+t.Format("2006-01-02"), t.Add(lifetime))
	if err != nil {
		return store.ClientSecret{}, step("rotate secret: add the new one", rolesAppWrite, err)
	}
	next := store.ClientSecret{Value: store.Secret(pc.SecretText), KeyID: pc.KeyID, Expiry: pc.EndDateTime, ExpirySource: store.ExpiryGraph, Created: true}

	if err := r.prove(ctx, next.Value); err != nil {
		// The old secret still works and is still stored: take the new one
		// back so no unused secret lingers.
		rerr := r.Graph.RemovePassword(ctx, r.ClientID, next.KeyID)
		return store.ClientSecret{}, errors.Join(fmt.Errorf("rotate secret: the new secret does not work, the old one stays: %w", err), rerr)
	}
	if err := r.Save(next); err != nil {
		rerr := r.Graph.RemovePassword(ctx, r.ClientID, next.KeyID)
		return store.ClientSecret{}, errors.Join(fmt.Errorf("rotate secret: store the new secret, the old one stays: %w", err), rerr)
	}
	if r.Current.KeyID != "" && r.RemoveOld != nil && r.RemoveOld(r.Current) {
		if err := r.Graph.RemovePassword(ctx, r.ClientID, r.Current.KeyID); err != nil && !errors.Is(err, exchange.ErrNotFound) {
			return next, fmt.Errorf("rotate secret: the new secret is in use, but removing the old one failed; remove %s in the portal: %w", r.Current.KeyID, err)
		}
	}
	return next, nil
}

func (r Rotation) prove(ctx context.Context, s store.Secret) error {
	var err error
	for i := 0; i < proofAttempts; i++ {
		if err = r.Prove(ctx, s); err == nil {
			return nil
		}
		if i < proofAttempts-1 && r.Sleep != nil {
			if serr := r.Sleep(ctx, proofWait); serr != nil {
				return serr
			}
		}
	}
	return err
}

// SecretExpiry reads the secret's end date from Graph. When the app may not
// read it (no Application.Read.All), it keeps what the person entered and
// returns the reason, for the screen to say where the date comes from.
func SecretExpiry(ctx context.Context, g *exchange.Graph, clientID string, cs store.ClientSecret) (store.ClientSecret, error) {
	pcs, err := g.AppPasswords(ctx, clientID)
	if err != nil {
		if cs.ExpirySource == "" {
			cs.ExpirySource = store.ExpiryUnknown
		}
		return cs, err
	}
	for _, pc := range pcs {
		if pc.KeyID == cs.KeyID {
			cs.Expiry, cs.ExpirySource = pc.EndDateTime, store.ExpiryGraph
			return cs, nil
		}
	}
	return cs, fmt.Errorf("read secret expiry: the app has no secret %s any more: rotate or enter the current secret", cs.KeyID)
}
