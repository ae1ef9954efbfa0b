package appreg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/store"
)

// A rotation never breaks the product. It runs in two parts, with the
// product's own change in between:
//
//  1. Rotation adds a new client secret beside the current one, proves it
//     with a token request, stores it as modauth's and hands it to the
//     product (the hand-off sheet). The old one stays valid.
//  2. Retirement removes the old secret, but only once the product is seen
//     signing in with the new one (the sign-in log, read by the monitoring
//     app) or an admin confirms it does.

// Rotation is the first part: add, prove, store, hand over.
type Rotation struct {
	// Graph may add secrets to the app: the app's own token with
	// Application.ReadWrite.OwnedBy, or an admin's.
	Graph    *exchange.Graph
	ClientID string
	Current  store.ClientSecret // the stored secret, with its KeyID
	Lifetime time.Duration      // of the new secret; default 12 months
	// Prove requests a token with the new secret (client credentials).
	Prove func(ctx context.Context, secret store.Secret) error
	// Save stores the new secret and the rotation under way; until it
	// returns nil the old secret is modauth's.
	Save func(store.ClientSecret, store.Rotation) error
	// HandOver gives the new value to the product: the sheet's 0600 file,
	// or the screen once. nil leaves it to the caller.
	HandOver func(store.ClientSecret) error
	Now      func() time.Time
	// Sleep waits between proofs: a new secret can take a little while to
	// reach every Entra ID server.
	Sleep func(ctx context.Context, d time.Duration) error
}

// proofAttempts and proofWait bound the wait for a new secret to work.
const (
	proofAttempts = 6
	proofWait     = 5 * time.Second
)

// The rights a rotation needs, named when Graph refuses.
const (
	rightAddSecret = "adding a client secret needs the application permission Application.ReadWrite.OwnedBy on the product's app (with admin consent, the app an owner of itself) or an admin's sign-in (Application Administrator, Cloud Application Administrator or Global Administrator): run again with --admin, or add the secret in the portal"
	rightRemove    = "removing a client secret needs Application.ReadWrite.OwnedBy on the product's app or an admin's sign-in: run again with --admin, or remove it in the portal (Certificates & secrets)"
)

// Run rotates and returns the new secret and the rotation under way.
func (r Rotation) Run(ctx context.Context) (store.ClientSecret, store.Rotation, error) {
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
		return store.ClientSecret{}, store.Rotation{}, missingRight("rotate secret: add the new one", rightAddSecret, err)
	}
	next := store.ClientSecret{Value: store.Secret(pc.SecretText), KeyID: pc.KeyID, Expiry: pc.EndDateTime, ExpirySource: store.ExpiryGraph}
	rot := store.Rotation{OldKeyID: r.Current.KeyID, OldHint: r.Current.Value.Hint(), OldExpiry: r.Current.Expiry, NewKeyID: next.KeyID, Started: t}

	if err := r.prove(ctx, next.Value); err != nil {
		// The old secret still works and is still stored: take the new one
		// back so no unused secret lingers.
		rerr := r.Graph.RemovePassword(ctx, r.ClientID, next.KeyID)
		return store.ClientSecret{}, store.Rotation{}, errors.Join(fmt.Errorf("rotate secret: the new secret does not work, the old one stays: %w", err), rerr)
	}
	if err := r.Save(next, rot); err != nil {
		rerr := r.Graph.RemovePassword(ctx, r.ClientID, next.KeyID)
		return store.ClientSecret{}, store.Rotation{}, errors.Join(fmt.Errorf("rotate secret: store the new secret, the old one stays: %w", err), rerr)
	}
	if r.HandOver != nil {
		if err := r.HandOver(next); err != nil {
			return next, rot, fmt.Errorf("rotate secret: the new secret %s is stored and both work, but handing it over failed (show the hand-off sheet again to hand it over): %w", next.KeyID, err)
		}
		rot.HandedOver = now()
	}
	return next, rot, nil
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

// ErrStillInUse is returned when the old secret may not be retired yet.
var ErrStillInUse = errors.New("the product is not seen using the new secret yet")

// Retirement is the second part: remove the old secret once the product
// uses the new one.
type Retirement struct {
	Graph    *exchange.Graph // may remove secrets, as for Rotation
	ClientID string
	Rotation store.Rotation
	// Use is how the product's app signed in with each key since the
	// rotation started; nil when nobody can read the sign-in log.
	Use map[string]store.KeyUse
	// Unseen says why the sign-in log cannot be read, when Use is nil.
	Unseen string
	// Confirmed: an admin says the product uses the new secret.
	Confirmed bool
	Now       func() time.Time
}

// Ready reports whether the old secret may go, and if not, why.
func (r Retirement) Ready() (bool, string) {
	if r.Confirmed {
		return true, ""
	}
	if r.Use == nil {
		why := r.Unseen
		if why == "" {
			why = "the product's sign-ins cannot be read"
		}
		return false, why + "; once the product works with the new secret, confirm it (--confirmed, or c on the dashboard)"
	}
	next, old := r.Use[r.Rotation.NewKeyID], r.Use[r.Rotation.OldKeyID]
	if next.Count == 0 {
		return false, fmt.Sprintf("the product has not signed in with the new secret %s yet; put it into the product's settings (the hand-off sheet)", r.Rotation.NewKeyID)
	}
	if old.Last.After(next.First) {
		return false, fmt.Sprintf("the product still signs in with the old secret too (last %s): an instance of it still has the old value", old.Last.Format(time.RFC3339))
	}
	return true, ""
}

// Run removes the old secret if it is ready to go, and returns the
// rotation as it ends.
func (r Retirement) Run(ctx context.Context) (store.Rotation, error) {
	rot := r.Rotation
	ok, why := r.Ready()
	if !ok {
		return rot, fmt.Errorf("retire secret %s: %w: %s", rot.OldKeyID, ErrStillInUse, why)
	}
	if rot.Switched.IsZero() {
		rot.Switched, rot.SwitchedBy = r.Use[rot.NewKeyID].First, store.SwitchedBySignInLog
		if r.Confirmed {
			rot.Switched, rot.SwitchedBy = r.Now(), store.SwitchedByAdmin
		}
	}
	if rot.OldKeyID == "" {
		return rot, nil // the old secret was never known by its ID: nothing to remove
	}
	err := r.Graph.RemovePassword(ctx, r.ClientID, rot.OldKeyID)
	if err != nil && !errors.Is(err, exchange.ErrNotFound) {
		return rot, missingRight("retire secret "+rot.OldKeyID, rightRemove, err)
	}
	return rot, nil
}

// missingRight names the right a refused Graph call needed.
func missingRight(step, right string, err error) error {
	if errors.Is(err, exchange.ErrForbidden) {
		return fmt.Errorf("%s: %s: %w", step, right, err)
	}
	return fmt.Errorf("%s: %w", step, err)
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
