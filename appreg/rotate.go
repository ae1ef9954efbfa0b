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
	rightAddSecret         = "adding a client secret needs the application permission Application.ReadWrite.OwnedBy on the product's app (with admin consent, the app an owner of itself) or an admin's sign-in (Application Administrator, Cloud Application Administrator or Global Administrator): run again with --admin, or add the secret in the portal"
	rightAddCertificate    = "adding a certificate needs the application permission Application.ReadWrite.OwnedBy on the product's app (with admin consent, the app an owner of itself) or an admin's sign-in (Application Administrator, Cloud Application Administrator or Global Administrator): run again with --admin, or upload the certificate in the portal"
	rightRemove            = "removing a client secret needs Application.ReadWrite.OwnedBy on the product's app or an admin's sign-in: run again with --admin, or remove it in the portal (Certificates & secrets)"
	rightRemoveCertificate = "removing a certificate needs Application.ReadWrite.OwnedBy on the product's app or an admin's sign-in: run again with --admin, or delete it in the portal (Certificates & secrets > Certificates)"
)

// Run rotates and returns the new secret and the rotation under way.
func (r Rotation) Run(ctx context.Context) (store.ClientSecret, store.Rotation, error) {
	now := nowOr(r.Now)
	t := now()
	pc, err := r.Graph.AddPassword(ctx, r.ClientID, "modauth "+t.Format("2006-01-02"), t.Add(lifetimeOr(r.Lifetime)))
	if err != nil {
		return store.ClientSecret{}, store.Rotation{}, missingRight("rotate secret: add the new one", rightAddSecret, err)
	}
	next := store.ClientSecret{Value: store.Secret(pc.SecretText), KeyID: pc.KeyID, Expiry: pc.EndDateTime, ExpirySource: store.ExpiryGraph, Created: true}
	rot := store.Rotation{OldKeyID: r.Current.KeyID, OldHint: r.Current.Value.Hint(), OldExpiry: r.Current.Expiry, NewKeyID: next.KeyID, Started: t}
	err = credentialSteps{
		prove:  func(ctx context.Context) error { return r.Prove(ctx, next.Value) },
		remove: func(ctx context.Context) error { return r.Graph.RemovePassword(ctx, r.ClientID, next.KeyID) },
		save:   func(rot store.Rotation) error { return r.Save(next, rot) },
		handOver: func() error {
			if r.HandOver == nil {
				return nil
			}
			return r.HandOver(next)
		},
		handsOver: r.HandOver != nil, now: now, sleep: r.Sleep,
	}.run(ctx, &rot)
	if err != nil && rot.Proven.IsZero() {
		return store.ClientSecret{}, store.Rotation{}, err
	}
	return next, rot, err
}

// CertificateRotation is the first part of a certificate's rotation: make
// a new key pair and certificate, upload it beside the current one, prove
// it, store it and hand it over, as Rotation does a secret.
type CertificateRotation struct {
	Graph    *exchange.Graph // may add certificates, as for Rotation
	ClientID string
	Subject  string // the new certificate's common name
	Current  store.ClientCertificate
	Lifetime time.Duration // default 12 months
	Prove    func(ctx context.Context, cert *flows.ClientCertificate) error
	// Save stores the new certificate and the rotation under way
	// (store.DB.StartCertificateRotation).
	Save     func(store.ClientCertificate, store.Rotation) error
	HandOver func(*flows.ClientCertificate) error
	Now      func() time.Time
	Sleep    func(ctx context.Context, d time.Duration) error
}

// Run rotates and returns the new certificate and the rotation under way.
func (r CertificateRotation) Run(ctx context.Context) (store.ClientCertificate, store.Rotation, error) {
	now := nowOr(r.Now)
	t := now()
	cert, err := NewCertificate(ctx, r.Graph, r.ClientID, r.Subject, lifetimeOr(r.Lifetime), t)
	if err != nil {
		return store.ClientCertificate{}, store.Rotation{}, missingRight("rotate certificate: add the new one", rightAddCertificate, err)
	}
	next, err := cert.Stored()
	if err != nil {
		return store.ClientCertificate{}, store.Rotation{}, err
	}
	rot := store.Rotation{Certificate: true, OldKeyID: r.Current.KeyID, OldHint: r.Current.Thumbprint, OldExpiry: r.Current.NotAfter, NewKeyID: next.KeyID, Started: t}
	err = credentialSteps{
		what:   "certificate",
		prove:  func(ctx context.Context) error { return r.Prove(ctx, cert.ClientCertificate) },
		remove: func(ctx context.Context) error { return r.Graph.RemoveCertificate(ctx, r.ClientID, next.KeyID) },
		save:   func(rot store.Rotation) error { return r.Save(next, rot) },
		handOver: func() error {
			if r.HandOver == nil {
				return nil
			}
			return r.HandOver(cert.ClientCertificate)
		},
		handsOver: r.HandOver != nil, now: now, sleep: r.Sleep,
	}.run(ctx, &rot)
	if err != nil && rot.Proven.IsZero() {
		return store.ClientCertificate{}, store.Rotation{}, err
	}
	return next, rot, err
}

// Certificate is a certificate credential made by modauth and uploaded
// to an app, under the keyId Entra knows it by.
type Certificate struct {
	*flows.ClientCertificate
	KeyID string
}

// Stored is the certificate as the store seals it.
func (c Certificate) Stored() (store.ClientCertificate, error) {
	return c.ClientCertificate.Stored(c.KeyID)
}

// NewCertificate makes an RSA key pair and a self-signed certificate valid
// for lifetime from now, and uploads its public part to the app with
// client ID appID (keeping the app's other certificates).
func NewCertificate(ctx context.Context, g *exchange.Graph, appID, subject string, lifetime time.Duration, now time.Time) (Certificate, error) {
	c, key, err := flows.NewCertificate(subject, lifetime, now)
	if err != nil {
		return Certificate{}, err
	}
	kc, err := g.AddCertificate(ctx, appID, c.Raw, subject)
	if err != nil {
		return Certificate{}, err
	}
	return Certificate{ClientCertificate: &flows.ClientCertificate{Cert: c, Key: key}, KeyID: kc.KeyID}, nil
}

// credentialSteps are the steps of a rotation after its new credential was
// added: prove it, store it, hand it over; a new credential that cannot
// be proven or stored is taken back, so no unused one lingers.
type credentialSteps struct {
	what      string // "secret" (the default) or "certificate"
	prove     func(context.Context) error
	remove    func(context.Context) error
	save      func(store.Rotation) error
	handOver  func() error
	handsOver bool
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error
}

func (s credentialSteps) run(ctx context.Context, rot *store.Rotation) error {
	what := cmp.Or(s.what, "secret")
	err := s.proveAgain(ctx)
	if err != nil {
		// The old credential still works and is still stored.
		return errors.Join(fmt.Errorf("rotate %s: the new %[1]s does not work, the old one stays: %w", what, err), s.remove(ctx))
	}
	rot.Proven = s.now()
	if err := s.save(*rot); err != nil {
		rot.Proven = time.Time{}
		return errors.Join(fmt.Errorf("rotate %s: store the new %[1]s, the old one stays: %w", what, err), s.remove(ctx))
	}
	if !s.handsOver {
		return nil
	}
	if err := s.handOver(); err != nil {
		return fmt.Errorf("rotate %s: the new %[1]s %s is stored and both work, but handing it over failed (show the hand-off sheet again to hand it over): %w", what, rot.NewKeyID, err)
	}
	rot.HandedOver = s.now()
	return nil
}

// proveAgain proves the new credential, a few times: a new credential can
// take a little while to reach every Entra ID server.
func (s credentialSteps) proveAgain(ctx context.Context) error {
	var err error
	for i := 0; i < proofAttempts; i++ {
		if err = s.prove(ctx); err == nil {
			return nil
		}
		if i < proofAttempts-1 && s.sleep != nil {
			if serr := s.sleep(ctx, proofWait); serr != nil {
				return serr
			}
		}
	}
	return err
}

func nowOr(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

func lifetimeOr(d time.Duration) time.Duration {
	if d == 0 {
		return 365 * 24 * time.Hour
	}
	return d
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
	what := rot.Credential()
	if r.Confirmed {
		return Verdict{Retire: true, Promote: rot.Promoted.IsZero(), Switched: now, By: store.SwitchedByAdmin}
	}
	if r.Use == nil {
		why := cmp.Or(r.Unseen, "the product's sign-ins cannot be read")
		return Verdict{Why: why + "; once the product works with the new " + what + ", confirm it (--confirmed, or R on the dashboard)"}
	}
	next, old := r.Use[rot.NewKeyID], r.Use[rot.OldKeyID]
	proven := rot.Proven
	if proven.IsZero() {
		proven = rot.Started
	}
	if !next.Last.After(proven) {
		return Verdict{Why: "the product has not signed in with the new " + what + " yet: enter it in the product's settings (the hand-off sheet)"}
	}
	if rot.Promoted.IsZero() {
		switched := next.First
		if !switched.After(proven) {
			switched = next.Last
		}
		return Verdict{Promote: true, Switched: switched, By: store.SwitchedBySignInLog,
			Why: fmt.Sprintf("the product uses the new %s since %s, and now modauth does too; the old one goes once unused for %v", what, switched.Local().Format(whenLayout), retireQuiet)}
	}
	if old.Last.After(rot.Promoted.Add(clockSkew)) {
		return Verdict{Why: fmt.Sprintf("the product still signs in with the old %s too (%d today, last %s): a copy of it still has the old value", what, old.UsedOn(now), old.Last.Local().Format(whenLayout))}
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
			return r.Rotation, fmt.Errorf("retire %s: take the new one: %w", r.Rotation.Credential(), err)
		}
		r.Rotation = rot
		v = r.Check(now)
	}
	rot := r.Rotation
	what := rot.Credential()
	if !v.Retire {
		return rot, fmt.Errorf("retire %s: the old %[1]s %s stays, %w: %s", what, rot.OldKeyID, ErrStillInUse, v.Why)
	}
	if rot.OldKeyID != "" { // else it was never known by its ID: nothing to remove
		remove, right := r.Graph.RemovePassword, rightRemove
		if rot.Certificate {
			remove, right = r.Graph.RemoveCertificate, rightRemoveCertificate
		}
		if err := remove(ctx, r.ClientID, rot.OldKeyID); err != nil && !errors.Is(err, exchange.ErrNotFound) {
			return rot, missingRight("retire "+what+" "+rot.OldKeyID, right, err)
		}
	}
	if err := db.EndRotation(profileID); err != nil {
		return rot, fmt.Errorf("retire %s: the old one is removed, but: %w", what, err)
	}
	if _, err := db.Append(store.Event{At: now, Profile: profileID, Kind: "secret", Message: rot.Retired()}); err != nil {
		return rot, fmt.Errorf("retire %s: the old one is removed, but: %w", what, err)
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
