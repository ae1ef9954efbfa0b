package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui"
	"github.com/spf13/cobra"
)

type demoOptions struct {
	IO       streams
	Data     *dataDirFlag
	KeepData bool // --data-dir was given: the store there is kept
	Users    int
	Seed     uint64
	TLS      bool
	Headless bool
}

func newDemoCmd(io streams, data *dataDirFlag) *cobra.Command {
	opts := &demoOptions{IO: io, Data: data}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run against a built-in simulated Microsoft 365 tenant",
		Long: `Starts a simulated Microsoft 365 tenant on 127.0.0.1 (identity platform v2,
Graph and EWS, with sign-in pages for device code and admin consent) and opens the
setup wizard on it, with a store in a temporary directory that is thrown away on
leaving (saved files and exports go to the working directory), or in --data-dir
when it is given, where it stays for check, report and doctor. Sign-ins are
completed on the simulator's /devicelogin page (its address is in the header).

With --headless, or when not in a terminal, it prints the simulator's address,
tenant, a client ID and sample users instead, and stays up until Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Only the flag: MODAUTH_DATA_DIR names the real store, which
			// a demo must not fill with simulated profiles.
			opts.KeepData = cmd.Flags().Changed("data-dir")
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

// demoTUI opens the wizard on the simulator. With --data-dir the store
// there is kept, and profiles an earlier demo made are pointed at this
// run's simulator; without it the store is thrown away on leaving, which
// the interface says before it lets go, and saved files go to the
// working directory instead.
func demoTUI(ctx context.Context, opts *demoOptions, sim *m365sim.Sim) error {
	mail, err := sim.StartMail()
	if err != nil {
		return fmt.Errorf("start the simulated mail servers: %w", err)
	}
	// The simulator is an Exchange Server on-premises too, for the
	// on-premises presets: its service account is shown on that step.
	sim.EnableOnPremEWS(`CONTOSO\svc-exchange`, "Demo-2026!", true)
	sim.EWSOnPremAuth(true, true)
	// And the product beside modauth: its own sign-ins fill the log the
	// monitoring app reads, and it takes a rotated secret a minute after.
	sim.PlayProduct(ctx, 20*time.Second)
	hosts := store.Hosts{Authority: sim.URL, Graph: sim.URL, GraphResource: "https://graph.microsoft.com", EWS: sim.URL + "/EWS/Exchange.asmx",
		IMAP: mail.IMAP, POP: mail.POP, SMTP: mail.SMTP, Autodiscover: sim.URL + "/autodiscover/autodiscover.xml"}
	topts := tui.Options{Hosts: hosts, HTTPClient: sim.HTTPClient(), MailTLS: mail.TLS, Demo: fmt.Sprintf("%s, client %s", sim.URL, sim.App.ClientID)}
	// The store and the interface keep the simulated tenant's time, so a
	// token's expiry means the same to both sides.
	io := opts.IO
	io.Now = sim.Clock.Now
	if opts.KeepData {
		db, err := opts.Data.create()
		if err != nil {
			return err
		}
		defer db.Close()
		if err := repointDemoProfiles(db, hosts); err != nil {
			return err
		}
		topts.DB, topts.Owner = db, opts.Data.interfaceOwner()
		defer serveCommands(db, opts.Data, io)() // so that its store can be looked at meanwhile
		return runTUI(ctx, io, topts)
	}
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
	topts.DB, topts.Throwaway = db, dir
	if topts.ExportDir, err = os.Getwd(); err != nil {
		topts.ExportDir = os.TempDir()
	}
	defer serveCommands(db, &dataDirFlag{dir: dir}, io)()
	return runTUI(ctx, io, topts)
}

// repointDemoProfiles moves the profiles an earlier demo made (hosts on
// a loopback simulator) to this run's simulator, whose port differs. The
// same --seed gives the same tenant and demo app; apps and sign-ins made
// in an earlier run are gone with it, and the dashboard says so per user.
func repointDemoProfiles(db *store.DB, hosts store.Hosts) error {
	ps, err := db.Profiles()
	if err != nil {
		return err
	}
	for _, p := range ps {
		u, err := url.Parse(p.Hosts.Authority)
		if err != nil || u.Hostname() != "127.0.0.1" || p.Hosts.Authority == hosts.Authority {
			continue
		}
		p.Hosts = hosts
		if err := db.PutProfile(p); err != nil {
			return fmt.Errorf("demo: move %s to this simulator: %w", p.ID, err)
		}
	}
	return nil
}
