package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
	"github.com/spf13/cobra"
)

type demoOptions struct {
	IO       streams
	Users    int
	Seed     uint64
	TLS      bool
	Headless bool
}

func newDemoCmd(io streams) *cobra.Command {
	opts := &demoOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run against a built-in simulated Microsoft 365 tenant",
		Long: `Starts a simulated Microsoft 365 tenant on 127.0.0.1 (identity platform v2,
Graph and EWS, with sign-in pages for device code and admin consent) and opens the
setup wizard on it, with a store in a temporary directory. Sign-ins are completed
on the simulator's /devicelogin page (its address is in the header).

With --headless, or when not in a terminal, it prints the simulator's address,
tenant, a client ID and sample users instead, and stays up until Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd, opts)
		},
	}
	cmd.Flags().IntVar(&opts.Users, "users", 25, "generated users beside the named personas")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 1, "seed for users and IDs: the same seed gives the same tenant")
	cmd.Flags().BoolVar(&opts.TLS, "tls", false, "serve HTTPS with a self-signed certificate")
	cmd.Flags().BoolVar(&opts.Headless, "headless", false, "print the simulator's details instead of opening the wizard")
	return cmd
}

func runDemo(cmd *cobra.Command, opts *demoOptions) error {
	sim, err := m365sim.New(m365sim.Options{Users: opts.Users, Seed: opts.Seed, TLS: opts.TLS})
	if err != nil {
		return fmt.Errorf("start simulated tenant: %w", err)
	}
	defer sim.Close()
	if !opts.Headless && isTerminal(opts.IO.In) && isTerminal(opts.IO.Out) {
		return demoTUI(cmd.Context(), opts, sim)
	}

	w := tabwriter.NewWriter(opts.IO.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "authority\t%s\n", sim.URL)
	fmt.Fprintf(w, "device login\t%s/devicelogin\n", sim.URL)
	fmt.Fprintf(w, "tenant\t%s (%s)\n", sim.Tenant.ID, sim.Tenant.Domains[0])
	fmt.Fprintf(w, "client id\t%s (%s)\n", sim.App.ClientID, sim.App.DisplayName)
	for _, upn := range []string{"anna.devries@contoso.com", "bjanssen@contoso.onmicrosoft.com", "claire.dubois@contoso.com"} {
		if u := sim.Tenant.User(upn); u != nil {
			fmt.Fprintf(w, "user\t%s\t%s\t%s\n", u.UPN, u.Mail, u.Persona)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Err, "simulated tenant with %d users is up; press Ctrl-C to stop\n", len(sim.Tenant.Users))
	<-cmd.Context().Done()
	fmt.Fprintln(opts.IO.Err, "stopped")
	return nil
}

// demoTUI opens the wizard on the simulator, with a throwaway store. The
// store and the interface keep the simulated tenant's time, so a token's
// expiry means the same to both sides.
func demoTUI(ctx context.Context, opts *demoOptions, sim *m365sim.Sim) error {
	dir, err := os.MkdirTemp("", "modauth-demo-")
	if err != nil {
		return fmt.Errorf("demo store: %w", err)
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(filepath.Join(dir, "modauth.db"), store.Options{Now: sim.Clock.Now})
	if err != nil {
		return err
	}
	defer db.Close()
	hosts := store.Hosts{Authority: sim.URL, Graph: sim.URL, GraphResource: "https://graph.microsoft.com", EWS: sim.URL + "/EWS/Exchange.asmx"}
	io := opts.IO
	io.Now = sim.Clock.Now
	return runTUI(ctx, io, db, hosts, sim.HTTPClient(), fmt.Sprintf("%s, client %s", sim.URL, sim.App.ClientID))
}
