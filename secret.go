package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/store"
	"github.com/spf13/cobra"
)

type rotateOptions struct {
	IO        streams
	Data      *dataDirFlag
	Profile   string
	Lifetime  string
	RemoveOld bool
	Yes       bool
	graph     graphFactory
}

func newSecretCmd(io streams, data *dataDirFlag, graph graphFactory) *cobra.Command {
	opts := &rotateOptions{IO: io, Data: data, graph: graph}
	secret := &cobra.Command{Use: "secret", Short: "Manage a profile's client secret"}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Add a new client secret, prove it, store it, then retire the old one",
		Long: `Adds a new client secret through Microsoft Graph, proves it with a token
request, stores it sealed, and only then removes the old one (after you confirm,
or with --yes). At no moment is there no working secret, and no consent changes.

The app signs in with its current secret, so it needs the application permission
Application.ReadWrite.OwnedBy (or Application.ReadWrite.All) with admin consent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRotate(cmd.Context(), opts) },
	}
	rotate.Flags().StringVar(&opts.Profile, "profile", "", "the profile (required)")
	rotate.Flags().StringVar(&opts.Lifetime, "lifetime", "365d", "validity of the new secret (Microsoft advises under 12 months)")
	rotate.Flags().BoolVar(&opts.RemoveOld, "remove-old", true, "remove the old secret once the new one is stored")
	rotate.Flags().BoolVar(&opts.Yes, "yes", false, "do not ask before removing the old secret")
	secret.AddCommand(rotate)
	return secret
}

func runRotate(ctx context.Context, opts *rotateOptions) error {
	lifetime, err := parseDays(opts.Lifetime)
	if err != nil {
		return err
	}
	db, p, err := opts.Data.openProfile(opts.Profile)
	if err != nil {
		return fmt.Errorf("rotate secret: %w", err)
	}
	defer db.Close()
	current, err := db.ClientSecret(p.ID)
	if err != nil {
		return fmt.Errorf("rotate secret: %w", err)
	}
	g, err := opts.graph(ctx, db, p)
	if err != nil {
		return fmt.Errorf("rotate secret: %w", err)
	}
	cn := conn.New(p, conn.Deps{DB: db, HTTP: g.HTTP, Now: opts.IO.Now})
	next, err := appreg.Rotation{
		Graph: g, ClientID: p.ClientID, Current: current, Lifetime: lifetime, Now: opts.IO.Now,
		Prove: cn.ProveSecret,
		Sleep: func(ctx context.Context, d time.Duration) error {
			fmt.Fprintf(opts.IO.Err, "waiting %s for the new secret to reach every Entra ID server...\n", d)
			select {
			case <-time.After(d):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
		Save: func(cs store.ClientSecret) error {
			if err := db.SetClientSecret(p.ID, cs); err != nil {
				return err
			}
			fmt.Fprintf(opts.IO.Err, "✓ new secret %s stored (%s), valid until %s\n", cs.KeyID, cs.Value.Hint(), cs.Expiry.Format("2 January 2006"))
			return nil
		},
		RemoveOld: func(old store.ClientSecret) bool {
			if !opts.RemoveOld {
				return false
			}
			return opts.Yes || confirm(opts.IO, fmt.Sprintf("remove the old secret %s now? [y/N] ", old.KeyID))
		},
	}.Run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(opts.IO.Out, next.KeyID)
	return nil
}

// confirm asks a yes/no question on the streams; anything but y is no.
func confirm(io streams, question string) bool {
	fmt.Fprint(io.Err, question)
	line, _ := bufio.NewReader(io.In).ReadString('\n')
	return strings.EqualFold(strings.TrimSpace(line), "y") || strings.EqualFold(strings.TrimSpace(line), "yes")
}
