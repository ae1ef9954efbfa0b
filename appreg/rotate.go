package appreg

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
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
	// Save stores the new secret and the rotation under way
	// (store.DB.StartRotation); modauth keeps the old one as its own.
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
	next := store.ClientSecret{Value: store.Secret(pc.SecretText), KeyID: pc.KeyID, Expiry: pc.EndDateTime, ExpirySource: store.ExpiryGraph, Created: true}
	rot := store.Rotation{OldKeyID: r.Current.KeyID, OldHint: r.Current.Value.Hint(), OldExpiry: r.Current.Expiry, NewKeyID: next.KeyID, Started: t}

	err = r.prove(ctx, next.Value)
	rot.Proven = now()
	if err != nil {
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
var ErrStillInUse = errors.New("the old secret is still needed")

// whenLayout writes the times a retirement waits for, short enough for
// the dashboard's two-line message slot at 60 columns.
const whenLayout = "2 Jan 15:04 MST"

// Quiet times of a retirement: a sign-in can reach the log minutes late,
// and clocks differ a little.
const (
	retireQuiet = 10 * time.Minute
	clockSkew   = time.Minute
)

// Retirement is the second part: modauth takes the new secret once the
// product is seen using it, and the old one is removed once nothing signs
// in with it any more.
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
}

// Verdict is where a retirement stands.
type Verdict struct {
	Retire bool // the old secret may go now
	// Promote: the product uses the new secret, so modauth takes it as
	// its own (store.DB.PromoteRotation); Switched is since when, By how
	// that is known.
	Promote  bool
	Switched time.Time
	By       string
	Why      string // what is awaited, when not Retire
}

// Check says where the retirement stands at now.
func (r Retirement) Check(now time.Time) Verdict {
	rot := r.Rotation
	if r.Confirmed {
		return Verdict{Retire: true, Promote: rot.Promoted.IsZero(), Switched: now, By: store.SwitchedByAdmin}
	}
	if r.Use == nil {
		why := cmp.Or(r.Unseen, "the product's sign-ins cannot be read")
		return Verdict{Why: why + "; once the product works with the new secret, confirm it (--confirmed, or R on the dashboard)"}
	}
	next, old := r.Use[rot.NewKeyID], r.Use[rot.OldKeyID]
	proven := rot.Proven
	if proven.IsZero() {
		proven = rot.Started
	}
	if !next.Last.After(proven) {
		return Verdict{Why: "the product has not signed in with the new secret yet: enter it in the product's settings (the hand-off sheet)"}
	}
	if rot.Promoted.IsZero() {
		switched := next.First
		if !switched.After(proven) {
			switched = next.Last
		}
		return Verdict{Promote: true, Switched: switched, By: store.SwitchedBySignInLog,
			Why: fmt.Sprintf("the product uses the new secret since %s, and now modauth does too; the old one goes once unused for %v", switched.Local().Format(whenLayout), retireQuiet)}
	}
	if old.Last.After(rot.Promoted.Add(clockSkew)) {
		return Verdict{Why: fmt.Sprintf("the product still signs in with the old secret too (%d today, last %s): a copy of it still has the old value", old.UsedOn(now), old.Last.Local().Format(whenLayout))}
	}
	if wait := rot.Promoted.Add(retireQuiet); now.Before(wait) {
		return Verdict{Why: fmt.Sprintf("unused since modauth left it; it goes after %s (the log can be minutes late)", wait.Local().Format(whenLayout))}
	}
	return Verdict{Retire: true}
}

// Run moves the rotation on as far as it may at now: modauth takes the
// new secret once the product uses it, and the old secret is removed once
// nothing else signs in with it. It returns the rotation as it stands,
// and ErrStillInUse with what is awaited when the old one stays.
func (r Retirement) Run(ctx context.Context, db *store.DB, profileID string, now time.Time) (store.Rotation, error) {
	v := r.Check(now)
	if v.Promote {
		rot, err := db.PromoteRotation(profileID, v.Switched, v.By)
		if err != nil {
			return r.Rotation, fmt.Errorf("retire secret: take the new secret: %w", err)
		}
		r.Rotation = rot
		v = r.Check(now)
	}
	rot := r.Rotation
	if !v.Retire {
		return rot, fmt.Errorf("retire secret: the old secret %s stays, %w: %s", rot.OldKeyID, ErrStillInUse, v.Why)
	}
	if rot.OldKeyID != "" { // else it was never known by its ID: nothing to remove
		err := r.Graph.RemovePassword(ctx, r.ClientID, rot.OldKeyID)
		if err != nil && !errors.Is(err, exchange.ErrNotFound) {
			return rot, missingRight("retire secret "+rot.OldKeyID, rightRemove, err)
		}
	}
	if err := db.EndRotation(profileID); err != nil {
		return rot, fmt.Errorf("retire secret: the old secret is removed, but: %w", err)
	}
	if _, err := db.Append(store.Event{At: now, Profile: profileID, Kind: "secret", Message: rot.Retired()}); err != nil {
		return rot, fmt.Errorf("retire secret: the old secret is removed, but: %w", err)
	}
	return rot, nil
}

// KeyUse reads the product app's sign-ins since since (its own and its
// users', through a Graph that may read sign-in logs: the monitoring
// app's) and counts them per client secret key ID.
func KeyUse(ctx context.Context, g *exchange.Graph, appID string, since time.Time) (map[string]store.KeyUse, error) {
	use := map[string]store.KeyUse{}
	for _, kind := range []exchange.SignInKind{exchange.AppSignIns, exchange.UserSignIns} {
		signIns, err := g.SignIns(ctx, exchange.SignInQuery{AppID: appID, Kind: kind, Since: since})
		if err != nil {
			return nil, err
		}
		for _, s := range signIns {
			if s.CredentialKeyID != "" && !flows.OwnRequest(s.CorrelationID) {
				k := use[s.CredentialKeyID]
				k.Add(s.Created, s.OK())
				use[s.CredentialKeyID] = k
			}
		}
	}
	return use, nil
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
