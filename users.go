package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/store"
	"github.com/spf13/cobra"
)

type usersOptions struct {
	IO      streams
	Data    *dataDirFlag
	Profile string
}

func newUsersCmd(io streams, data *dataDirFlag, graph graphFactory) *cobra.Command {
	opts := &usersOptions{IO: io, Data: data}
	users := &cobra.Command{Use: "users", Short: "Import, export and resolve a profile's users"}
	users.PersistentFlags().StringVar(&opts.Profile, "profile", "", "the profile (required)")

	users.AddCommand(&cobra.Command{
		Use:   "import FILE",
		Short: "Import the product's user export (CSV; '-' reads standard input)",
		Long: `Reads the product's user export as Excel saves it: CSV UTF-8, CSV
(Windows-1252) or Unicode text (UTF-16); separated by what a first line "sep=;"
names, else by ';', ',' or a tab; quoted fields allowed. The header names the
columns: an account column (account, exchange account, upn, email, mail...) is
required; key and name are optional. Bad lines are listed by number and nothing
is imported until the file is right; lines that may be meant, such as two users
with one account, are listed as warnings and imported.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runUsersImport(opts, args[0]) },
	}, &cobra.Command{
		Use:   "export",
		Short: "Write the profile's users as CSV, with their resolved UPN and status",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runUsersExport(opts) },
	}, &cobra.Command{
		Use:   "resolve",
		Short: "Resolve each user's account to a UPN and primary address through Microsoft Graph",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runUsersResolve(cmd.Context(), opts, graph) },
	})
	return users
}

func (o *usersOptions) profile() error {
	if o.Profile == "" {
		return fmt.Errorf("%w: `--profile` is required", errUsage)
	}
	return nil
}

func runUsersImport(opts *usersOptions, path string) error {
	if err := opts.profile(); err != nil {
		return err
	}
	in := opts.IO.In
	if path != "-" {
		f, err := os.Open(opts.IO.file(path))
		if err != nil {
			return fmt.Errorf("import users: %w", err)
		}
		defer f.Close()
		in = f
	}
	name := path
	if path == "-" {
		name = "standard input"
	}
	users, warnings, err := store.ReadUsersCSV(in)
	var bad *store.ImportError
	switch {
	case errors.As(err, &bad):
		// Every bad line, as compilers do, so the file is fixed at once.
		for _, r := range bad.Rows {
			fmt.Fprintf(opts.IO.Err, "%s:%d: %s\n", name, r.Line, r.Msg)
		}
		return fmt.Errorf("import users from %s: %d bad line(s), listed above: nothing imported: fix them and import the file again", name, len(bad.Rows))
	case errors.Is(err, store.ErrNoUsers):
		return fmt.Errorf("no users in %s: %w", name, err)
	case err != nil:
		return fmt.Errorf("import users from %s: %w", name, err)
	}
	for _, w := range warnings {
		fmt.Fprintf(opts.IO.Err, "%s:%d: warning: %s\n", name, w.Line, w.Msg)
	}
	db, _, err := opts.Data.openProfile(opts.Profile)
	if err != nil {
		return fmt.Errorf("import users: %w", err)
	}
	defer db.Close()
	// Keep what is known of users already there: a re-import must not
	// forget resolutions and sign-ins. Keys match in any case, as in the
	// interface.
	existing, err := db.Users(opts.Profile)
	if err != nil {
		return fmt.Errorf("import users: %w", err)
	}
	changed, added, updated := store.MergeUsers(existing, users)
	if err := db.PutUsers(opts.Profile, changed...); err != nil {
		return fmt.Errorf("import users: %w", err)
	}
	fmt.Fprintf(opts.IO.Err, "imported %d user(s) into %s: %d new, %d updated\n", len(users), opts.Profile, added, updated)
	return nil
}

func runUsersExport(opts *usersOptions) error {
	db, _, err := opts.Data.openProfile(opts.Profile)
	if err != nil {
		return fmt.Errorf("export users: %w", err)
	}
	defer db.Close()
	users, err := db.Users(opts.Profile)
	if err != nil {
		return fmt.Errorf("export users: %w", err)
	}
	return store.WriteUsersCSV(opts.IO.Out, users)
}

// graphFactory gives a Graph client for a profile; main builds it from the
// profile's app-only or stored admin token, tests from the simulator.
type graphFactory func(ctx context.Context, db *store.DB, p store.Profile) (*exchange.Graph, error)

func runUsersResolve(ctx context.Context, opts *usersOptions, graph graphFactory) error {
	db, p, err := opts.Data.openProfile(opts.Profile)
	if err != nil {
		return fmt.Errorf("resolve users: %w", err)
	}
	defer db.Close()
	g, err := graph(ctx, db, p)
	if err != nil {
		return fmt.Errorf("resolve users: %w", err)
	}
	users, err := db.Users(p.ID)
	if err != nil {
		return err
	}
	counts := map[store.MappingStatus]int{}
	for i, u := range users {
		r, err := g.ResolveUser(ctx, u)
		if err != nil {
			if errors.Is(err, exchange.ErrForbidden) {
				return fmt.Errorf("resolve users: the app may not read users: grant it (or the profile's monitoring app) User.Read.All (application) with admin consent: %w", err)
			}
			return fmt.Errorf("resolve user %s: %w", u.Key, err)
		}
		users[i] = r
		counts[r.Mapping]++
		fmt.Fprintf(opts.IO.Err, "\r%d/%d resolved", i+1, len(users))
	}
	fmt.Fprintln(opts.IO.Err)
	if err := db.PutUsers(p.ID, users...); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Err, "%d ok, %d mismatch (account is not the UPN), %d not found, %d disabled, %d without mailbox\n",
		counts[store.MappingOK], counts[store.MappingMismatch], counts[store.MappingNotFound], counts[store.MappingDisabled], counts[store.MappingNoMailbox])
	return store.WriteUsersCSV(opts.IO.Out, users)
}
