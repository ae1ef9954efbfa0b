package monitor_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// benchSimEnv, when set to a benchSimSpec in JSON, makes the test binary
// the simulator of BenchmarkSweep100kUsers50Tenants rather than run tests
// (TestMain): so the benchmark's process is the engine alone, and its
// peak resident set and CPU time are the engine's.
const benchSimEnv = "MODAUTH_BENCH_SIM"

// benchSimSpec is what the benchmark asks its simulator for.
type benchSimSpec struct {
	At                 time.Time // the simulator's clock, standing until advanced
	Tenants, PerTenant int
}

// benchSimReady is the simulator's one line on stdout: where it serves,
// and the fleet it made for the engine to store.
type benchSimReady struct {
	URL, Control    string // the simulator; its control server (advance, latency, counts)
	IMAP, POP, SMTP string
	Tenants         []benchSimTenant
	SetupCPU        time.Duration // the simulator's CPU time before the benchmark starts
}

// benchSimTenant is one tenant of the fleet: app-only when Secret is set,
// else delegated with a refresh token per user.
type benchSimTenant struct {
	ID, Domain, ClientID string
	Secret, SecretKeyID  string
	Users                []benchSimUser
}

type benchSimUser struct{ ObjectID, UPN, RefreshToken string }

// benchSimCounts is the control server's answer to GET /counts.
type benchSimCounts struct {
	Requests map[string]int // by path, since the start
	CPU      time.Duration  // the simulator process's CPU time so far
}

// serveBenchSim is the simulator process: it builds the fleet, prints
// benchSimReady, and serves until its stdin closes (the benchmark ended).
func serveBenchSim(specJSON string) error {
	var spec benchSimSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		return fmt.Errorf("%s: %w", benchSimEnv, err)
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
	ready := benchSimReady{URL: sim.URL, IMAP: mail.IMAP, POP: mail.POP, SMTP: mail.SMTP}
	for i := range spec.Tenants {
		ready.Tenants = append(ready.Tenants, benchSimAddTenant(sim, i, spec.PerTenant))
	}
	ready.SetupCPU = processCPU()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /advance", withDuration(sim.Clock.Advance))
	mux.HandleFunc("POST /latency", withDuration(sim.SetLatency))
	mux.HandleFunc("GET /counts", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(benchSimCounts{Requests: sim.RequestCounts(), CPU: processCPU()})
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

// benchSimAddTenant makes tenant i with perTenant users with a mailbox:
// app-only with a client secret for even i, delegated with a refresh
// token per user for odd i.
func benchSimAddTenant(sim *m365sim.Sim, i, perTenant int) benchSimTenant {
	domain := fmt.Sprintf("tenant%02d.example", i)
	t := sim.AddTenant(domain, perTenant+perTenant/5)
	out := benchSimTenant{ID: t.ID, Domain: domain}
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
		bu := benchSimUser{ObjectID: u.ObjectID, UPN: u.UPN}
		if i%2 == 1 {
			bu.RefreshToken = sim.DeviceSignedIn(t, app, u)
		}
		out.Users = append(out.Users, bu)
	}
	return out
}

// benchSim is the benchmark's handle on its simulator process.
type benchSim struct {
	benchSimReady
	Clock *m365sim.Clock // the engine's clock, moved in step with the simulator's
	cmd   *exec.Cmd
	stdin io.Closer
}

// startBenchSim starts the simulator process and waits until it serves.
func startBenchSim(b testing.TB, tenants, perTenant int) *benchSim {
	b.Helper()
	spec, err := json.Marshal(benchSimSpec{At: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), Tenants: tenants, PerTenant: perTenant})
	if err != nil {
		b.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), benchSimEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	s := &benchSim{cmd: cmd, stdin: stdin}
	b.Cleanup(func() { s.stdin.Close(); _ = s.cmd.Wait() })
	if err := json.NewDecoder(stdout).Decode(&s.benchSimReady); err != nil {
		b.Fatalf("the simulator process: %v", err)
	}
	var at benchSimSpec
	_ = json.Unmarshal(spec, &at)
	s.Clock = m365sim.NewClockAt(at.At)
	return s
}

// Advance moves both clocks, the simulator's and the engine's.
func (s *benchSim) Advance(b testing.TB, d time.Duration) {
	s.post(b, "/advance", d)
	s.Clock.Advance(d)
}

// SetLatency makes the simulator wait d before it answers each request.
func (s *benchSim) SetLatency(b testing.TB, d time.Duration) { s.post(b, "/latency", d) }

func (s *benchSim) post(b testing.TB, path string, d time.Duration) {
	b.Helper()
	resp, err := http.PostForm(s.Control+path, map[string][]string{"d": {d.String()}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("simulator %s: %s", path, resp.Status)
	}
}

// Counts reads the simulator's request counts by path and its CPU time.
func (s *benchSim) Counts(b testing.TB) benchSimCounts {
	b.Helper()
	resp, err := http.Get(s.Control + "/counts")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var c benchSimCounts
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		b.Fatal(err)
	}
	return c
}

// store opens a store on the engine's clock and stores the simulator's
// fleet in it.
func (s *benchSim) store(t testing.TB) (*store.DB, *benchFleet) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "modauth.db"), store.Options{Now: s.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	hosts := store.Hosts{Authority: s.URL, Graph: s.URL, GraphResource: "https://graph.microsoft.com", EWS: s.URL + "/EWS/Exchange.asmx",
		IMAP: s.IMAP, POP: s.POP, SMTP: s.SMTP}
	f := &benchFleet{tenantOf: map[string]int{}}
	for i, tn := range s.Tenants {
		f.addTenant(t, db, hosts, i, tn)
	}
	return db, f
}
