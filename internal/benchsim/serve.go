// Package benchsim is the simulator of the sweep benchmarks (monitor's
// BenchmarkSweep100kUsers50Tenants, cluster's BenchmarkClusterSweep):
// m365sim in a process of its own, the test binary started again with Env
// set, so that the benchmark's process is the engines alone and its CPU
// time and resident set are theirs. It makes a fleet of tenants, half
// app-only and half delegated, and stores it as profiles in a store the
// benchmark opens. Only tests import it.
package benchsim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
)

// Env, when set to a Spec in JSON, makes the test binary the simulator
// rather than run tests: see Main.
const Env = "MODAUTH_BENCH_SIM"

// Spec is what a benchmark asks its simulator for.
type Spec struct {
	At                 time.Time // the simulator's clock, standing until advanced
	Tenants, PerTenant int
}

// Ready is the simulator's one line on stdout: where it serves, and the
// fleet it made for the engine to store.
type Ready struct {
	URL, Control    string // the simulator; its control server (advance, latency, counts)
	IMAP, POP, SMTP string
	Tenants         []Tenant
	SetupCPU        time.Duration // the simulator's CPU time before the benchmark starts
}

// Tenant is one tenant of the fleet: app-only when Secret is set, else
// delegated with a refresh token per user.
type Tenant struct {
	ID, Domain, ClientID string
	Secret, SecretKeyID  string
	Users                []User
}

// User is one user of a tenant, with a refresh token if delegated.
type User struct{ ObjectID, UPN, RefreshToken string }

// Counts is the control server's answer to GET /counts.
type Counts struct {
	Requests map[string]int // by path, since the start
	CPU      time.Duration  // the simulator process's CPU time so far
	Replays  int            // refresh tokens redeemed after their rotation (m365sim.Sim.RefreshReplays)
}

// Main is the TestMain of a package with a benchmark on this simulator:
// it runs the tests, or, when a benchmark started the test binary with
// Env set, serves as the simulator until the benchmark ends.
func Main(m *testing.M) {
	spec := os.Getenv(Env)
	if spec == "" {
		os.Exit(m.Run())
	}
	if err := serve(spec); err != nil {
		fmt.Fprintf(os.Stderr, "bench simulator: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// serve builds the fleet, prints Ready, and serves until its stdin closes
// (the benchmark ended).
func serve(specJSON string) error {
	var spec Spec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		return fmt.Errorf("%s: %w", Env, err)
	}
	sim, err := m365sim.New(m365sim.Options{Seed: 42, Clock: m365sim.NewClockAt(spec.At)})
	if err != nil {
		return err
	}
	defer sim.Close()
	mail, err := sim.StartMail()
	if err != nil {
		return err
	}
	ready := Ready{URL: sim.URL, IMAP: mail.IMAP, POP: mail.POP, SMTP: mail.SMTP}
	for i := range spec.Tenants {
		ready.Tenants = append(ready.Tenants, AddTenant(sim, i, spec.PerTenant))
	}
	ready.SetupCPU = ProcessCPU()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /advance", withDuration(sim.Clock.Advance))
	mux.HandleFunc("POST /latency", withDuration(sim.SetLatency))
	mux.HandleFunc("GET /counts", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(Counts{Requests: sim.RequestCounts(), CPU: ProcessCPU(), Replays: sim.RefreshReplays()})
	})
	go func() { _ = http.Serve(ln, mux) }()
	ready.Control = "http://" + ln.Addr().String()

	out := bufio.NewWriter(os.Stdout)
	if err := json.NewEncoder(out).Encode(ready); err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// withDuration handles a form whose d is a duration, passing it to do.
func withDuration(do func(time.Duration)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.FormValue("d"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		do(d)
	}
}

// AddTenant makes tenant i in sim with perTenant users with a mailbox:
// app-only with a client secret for even i, delegated with a refresh
// token per user for odd i.
func AddTenant(sim *m365sim.Sim, i, perTenant int) Tenant {
	domain := fmt.Sprintf("tenant%02d.example", i)
	t := sim.AddTenant(domain, perTenant+perTenant/5)
	out := Tenant{ID: t.ID, Domain: domain}
	var app *m365sim.App
	if i%2 == 0 {
		app = sim.RegisterApp(t, m365sim.AppSpec{DisplayName: "bench app-only", Required: []string{"role:Calendars.ReadWrite", "role:Contacts.ReadWrite", "role:Tasks.ReadWrite.All"}})
	} else {
		app = sim.RegisterApp(t, m365sim.AppSpec{DisplayName: "bench delegated", PublicRedirectURIs: []string{"http://localhost"}, FallbackPublicClient: true,
			Required: []string{"Calendars.ReadWrite", "Contacts.ReadWrite", "Tasks.ReadWrite", "offline_access", "openid", "profile", "User.Read"}})
	}
	sim.GrantAdminConsent(t, app)
	out.ClientID = app.ClientID
	if i%2 == 0 {
		sec := sim.AddSecret(app, 365*24*time.Hour)
		out.Secret, out.SecretKeyID = sec.Value, sec.KeyID
	}
	for _, u := range t.Users {
		if !u.HasMailbox || !u.Enabled || len(out.Users) == perTenant {
			continue
		}
		bu := User{ObjectID: u.ObjectID, UPN: u.UPN}
		if i%2 == 1 {
			bu.RefreshToken = sim.DeviceSignedIn(t, app, u)
		}
		out.Users = append(out.Users, bu)
	}
	return out
}
