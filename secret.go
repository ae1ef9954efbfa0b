package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
	"github.com/spf13/cobra"
)

// secretOptions are the options of `secret rotate` and `secret retire`.
type secretOptions struct {
	IO          streams
	Data        *dataDirFlag
	Profile     string
	Lifetime    string
	HandOffFile string
	Admin       bool
	WhenUnused  bool
	Confirmed   bool
	graph       graphFactory
}

func newSecretCmd(io streams, data *dataDirFlag, graph graphFactory) *cobra.Command {
	opts := &secretOptions{IO: io, Data: data, graph: graph}
	secret := &cobra.Command{Use: "secret", Short: "Rotate a profile's client secret or certificate without breaking the product"}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Add a new client secret, prove it, and hand it to the product",
		Long: `Adds a new client secret through Microsoft Graph, proves it with a token
request, stores it sealed as modauth's, and writes the product's hand-off sheet
with the new value to --handoff-file (a file only you can read): enter it in
the product's own settings. The old secret stays valid: retire it with
'modauth secret retire --when-unused' once the product uses the new one.

A profile that signs in with a certificate gets a new certificate instead:
modauth makes the key pair, uploads the certificate (keeping the others) and
appends the certificate and its private key as PEM to the hand-off file.

Adding a secret needs the application permission Application.ReadWrite.OwnedBy
on the product's app, or an admin's sign-in (--admin, by device code).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRotate(cmd.Context(), opts) },
	}
	rotate.Flags().StringVar(&opts.Profile, "profile", "", "the profile (required)")
	rotate.Flags().StringVar(&opts.Lifetime, "lifetime", "365d", "validity of the new secret (Microsoft advises under 12 months)")
	rotate.Flags().StringVar(&opts.HandOffFile, "handoff-file", "", "write the hand-off sheet with the new secret's value here, mode 0600 (required)")
	rotate.Flags().BoolVar(&opts.Admin, "admin", false, "an admin signs in by device code instead of the app using its own rights")

	retire := &cobra.Command{
		Use:   "retire",
		Short: "Remove the old client secret once the product uses the new one",
		Long: `Removes the old client secret of a rotation, but only when the product is
seen signing in with the new one and no longer with the old one (its sign-ins
are read through the profile's monitoring app), or when you confirm it does.
Until then it exits 75 and says what it sees, so a cron job can try again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.WhenUnused == opts.Confirmed {
				return fmt.Errorf("%w: give one of --when-unused (the sign-in log decides) or --confirmed (you checked the product works with the new secret)", errUsage)
			}
			return runRetire(cmd.Context(), opts)
		},
	}
	retire.Flags().StringVar(&opts.Profile, "profile", "", "the profile (required)")
	retire.Flags().BoolVar(&opts.WhenUnused, "when-unused", false, "retire only once the sign-in log shows the product on the new secret")
	retire.Flags().BoolVar(&opts.Confirmed, "confirmed", false, "you checked that the product works with the new secret")
	retire.Flags().BoolVar(&opts.Admin, "admin", false, "an admin signs in by device code instead of the app using its own rights")
	secret.AddCommand(rotate, retire)
	return secret
}

func runRotate(ctx context.Context, opts *secretOptions) error {
	if opts.HandOffFile == "" {
		return fmt.Errorf("%w: rotate secret: --handoff-file is required: the new value must reach the product, and this is the one time it can be written", errUsage)
	}
	lifetime, err := parseDays(opts.Lifetime)
	if err != nil {
		return err
	}
	db, p, err := opts.Data.openProfile(opts.Profile)
	if err != nil {
		return fmt.Errorf("rotate secret: %w", err)
	}
	defer db.Close()
	if r, ok, err := db.Rotation(p.ID); err != nil {
		return fmt.Errorf("rotate secret: %w", err)
	} else if ok {
		return fmt.Errorf("rotate secret: a rotation is under way since %s (new secret %s): retire the old one first with 'modauth secret retire --profile %s --when-unused'", r.Started.Format("2 January 2006"), r.NewKeyID, p.ID)
	}
	cn, g, err := opts.writer(ctx, db, p)
	if err != nil {
		return fmt.Errorf("rotate secret: %w", err)
	}
	sleep := func(ctx context.Context, d time.Duration) error {
		fmt.Fprintf(opts.IO.Err, "waiting %s for the new credential to reach every Entra ID server...\n", d)
		return sleepCtx(ctx, d)
	}
	handOver := func() error {
		sheet, _ := conn.HandOff(db, p)
		_, err := sheet.Save(opts.IO.file(opts.HandOffFile))
		return err
	}
	var rot store.Rotation
	if p.UsesCertificate() {
		rot, err = rotateCertificate(ctx, opts, db, p, g, cn, lifetime, sleep, handOver)
	} else {
		rot, err = rotateSecret(ctx, opts, db, p, g, cn, lifetime, sleep, handOver)
	}
	if err != nil {
		return err
	}
	if err := db.SetRotation(p.ID, rot); err != nil {
		return fmt.Errorf("rotate secret: record the hand-over: %w", err)
	}
	what, holds := rot.Credential(), "its value"
	if rot.Certificate {
		holds = "the certificate and its private key (PEM, and as PFX beside it)"
	}
	fmt.Fprintf(opts.IO.Err, "✓ hand-off sheet with %s written to %s (only you can read it)\n", holds, opts.HandOffFile)
	fmt.Fprintf(opts.IO.Err, "next: enter the new %s in the product's settings. Both work meanwhile; modauth keeps the old\none until the product is seen on the new, and the old one goes with\n  modauth secret retire --profile %s --when-unused\n", what, p.ID)
	fmt.Fprintln(opts.IO.Out, rot.NewKeyID)
	return nil
}

// rotateSecret adds a new client secret and hands it over.
func rotateSecret(ctx context.Context, opts *secretOptions, db *store.DB, p store.Profile, g *exchange.Graph, cn *conn.Conn,
	lifetime time.Duration, sleep func(context.Context, time.Duration) error, handOver func() error) (store.Rotation, error) {
	current, err := db.ClientSecret(p.ID)
	if err != nil {
		return store.Rotation{}, fmt.Errorf("rotate secret: %w", err)
	}
	next, rot, err := appreg.Rotation{
		Graph: g, ClientID: p.ClientID, Current: current, Lifetime: lifetime, Now: opts.IO.Now,
		Prove: cn.ProveSecret, Sleep: sleep,
		Save:     func(cs store.ClientSecret, r store.Rotation) error { return db.StartRotation(p.ID, r, cs) },
		HandOver: func(store.ClientSecret) error { return handOver() },
	}.Run(ctx)
	if err == nil {
		fmt.Fprintf(opts.IO.Err, "✓ new secret %s (%s) added and proven, valid until %s\n", next.KeyID, next.Value.Hint(), next.Expiry.Format("2 January 2006"))
	}
	return rot, err
}

// rotateCertificate makes a new certificate, uploads it and hands it
// over, private key and all.
func rotateCertificate(ctx context.Context, opts *secretOptions, db *store.DB, p store.Profile, g *exchange.Graph, cn *conn.Conn,
	lifetime time.Duration, sleep func(context.Context, time.Duration) error, handOver func() error) (store.Rotation, error) {
	current, err := db.ClientCertificate(p.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Rotation{}, fmt.Errorf("rotate certificate: %w", err)
	}
	next, rot, err := appreg.CertificateRotation{
		Graph: g, ClientID: p.ClientID, Subject: "modauth " + p.ID, Current: current, Lifetime: lifetime, Now: opts.IO.Now,
		Prove: cn.ProveCertificate, Sleep: sleep,
		Save: func(c store.ClientCertificate, r store.Rotation) error {
			return db.StartCertificateRotation(p.ID, r, c)
		},
		HandOver: func(*flows.ClientCertificate) error { return handOver() },
	}.Run(ctx)
	if err == nil {
		fmt.Fprintf(opts.IO.Err, "✓ new certificate %s (thumbprint %s) added and proven, valid until %s\n", next.KeyID, next.Thumbprint, next.NotAfter.Format("2 January 2006"))
	}
	return rot, err
}

func runRetire(ctx context.Context, opts *secretOptions) error {
	db, p, err := opts.Data.openProfile(opts.Profile)
	if err != nil {
		return fmt.Errorf("retire secret: %w", err)
	}
	defer db.Close()
	rot, ok, err := db.Rotation(p.ID)
	if err != nil {
		return fmt.Errorf("retire secret: %w", err)
	}
	if !ok {
		return fmt.Errorf("retire secret: profile %s has no rotation under way: start one with 'modauth secret rotate'", p.ID)
	}
	cn := conn.New(p, conn.Deps{DB: db, Now: opts.IO.Now})
	ret := appreg.Retirement{ClientID: p.ClientID, Rotation: rot, Confirmed: opts.Confirmed}
	if !opts.Confirmed {
		ret.Use, ret.Unseen = keyUse(ctx, cn, rot)
		describeUse(opts.IO.Err, rot, ret.Use, opts.IO.Now())
	}
	if v := ret.Check(opts.IO.Now()); v.Retire || v.Promote {
		if _, ret.Graph, err = opts.writer(ctx, db, p); err != nil {
			return fmt.Errorf("retire secret: %w", err)
		}
	}
	rot, err = ret.Run(ctx, db, p.ID, opts.IO.Now())
	if !rot.Promoted.IsZero() && ret.Rotation.Promoted.IsZero() {
		fmt.Fprintf(opts.IO.Err, "✓ the product uses the new %s %s: modauth uses it too from now on\n", rot.Credential(), rot.NewKeyID)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Err, "✓ old %s %s removed; the product uses %s\n", rot.Credential(), rot.OldKeyID, rot.NewKeyID)
	fmt.Fprintln(opts.IO.Out, rot.OldKeyID)
	return nil
}

// keyUse reads the product's sign-ins since the rotation started through
// the monitoring app, per client secret key ID; nil and the reason when
// they cannot be read.
func keyUse(ctx context.Context, cn *conn.Conn, rot store.Rotation) (map[string]store.KeyUse, string) {
	g, ok := cn.MonitorGraph()
	if !ok {
		return nil, "the profile has no monitoring app, so the product's sign-ins cannot be read"
	}
	use, err := appreg.KeyUse(ctx, g, cn.Profile().ClientID, rot.Started)
	switch {
	case errors.Is(err, exchange.ErrNoPremium):
		return nil, exchange.ErrNoPremium.Error()
	case err != nil:
		return nil, fmt.Sprintf("the product's sign-ins could not be read (%v)", err)
	}
	return use, ""
}

// describeUse says what the sign-in log shows of the old and new secret.
func describeUse(w io.Writer, rot store.Rotation, use map[string]store.KeyUse, now time.Time) {
	if use == nil {
		return
	}
	for _, k := range []struct{ name, id string }{{"new", rot.NewKeyID}, {"old", rot.OldKeyID}} {
		u := use[k.id]
		if u.Count == 0 {
			fmt.Fprintf(w, "%s %s %s: no sign-in by the product since %s\n", k.name, rot.Credential(), k.id, rot.Started.Format(time.RFC3339))
			continue
		}
		fmt.Fprintf(w, "%s %s %s: %d sign-in(s) by the product since the rotation, %d today, last %s\n", k.name, rot.Credential(), k.id, u.Count, u.UsedOn(now), u.Last.Format(time.RFC3339))
	}
}

// writer returns the profile's connection and Graph with the right to add
// and remove secrets: an admin's by device code with --admin, else the
// app's own.
func (opts *secretOptions) writer(ctx context.Context, db *store.DB, p store.Profile) (*conn.Conn, *exchange.Graph, error) {
	cn := conn.New(p, conn.Deps{DB: db, Now: opts.IO.Now})
	if !opts.Admin {
		g, err := opts.graph(ctx, db, p)
		return cn, g, err
	}
	fc, dc, err := cn.StartAdminSignIn(ctx, []string{"Application.ReadWrite.All"})
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(opts.IO.Err, "! First copy your one-time code: %s\nOpen %s on any device, enter the code and sign in as an Application Administrator.\n", dc.UserCode, dc.VerificationURI)
	g, _, err := cn.FinishAdminSignIn(ctx, fc, dc)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintln(opts.IO.Err, "✓ signed in")
	return cn, g, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
