package benchsim

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// Sim is the benchmark's handle on its simulator process.
type Sim struct {
	Ready
	Clock *m365sim.Clock // the engines' clock, moved in step with the simulator's
	cmd   *exec.Cmd
	stdin io.Closer
}

// Start starts the simulator process (the test binary, whose TestMain
// is Main) and waits until it serves.
func Start(b testing.TB, tenants, perTenant int) *Sim {
	b.Helper()
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	spec, err := json.Marshal(Spec{At: at, Tenants: tenants, PerTenant: perTenant})
	if err != nil {
		b.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), Env+"="+string(spec))
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
	s := &Sim{cmd: cmd, stdin: stdin, Clock: m365sim.NewClockAt(at)}
	b.Cleanup(func() { s.stdin.Close(); _ = s.cmd.Wait() })
	if err := json.NewDecoder(stdout).Decode(&s.Ready); err != nil {
		b.Fatalf("the simulator process: %v", err)
	}
	return s
}

// Advance moves both clocks, the simulator's and the engines'.
func (s *Sim) Advance(b testing.TB, d time.Duration) {
	s.post(b, "/advance", d)
	s.Clock.Advance(d)
}

// SetLatency makes the simulator wait d before it answers each request.
func (s *Sim) SetLatency(b testing.TB, d time.Duration) { s.post(b, "/latency", d) }

func (s *Sim) post(b testing.TB, path string, d time.Duration) {
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

// Counts reads the simulator's request counts by path, its CPU time and
// its refresh-token replays.
func (s *Sim) Counts(b testing.TB) Counts {
	b.Helper()
	resp, err := http.Get(s.Control + "/counts")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var c Counts
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		b.Fatal(err)
	}
	return c
}

// Hosts are the simulator's endpoints as a profile stores them.
func (s *Sim) Hosts() store.Hosts {
	return store.Hosts{Authority: s.URL, Graph: s.URL, GraphResource: "https://graph.microsoft.com", EWS: s.URL + "/EWS/Exchange.asmx",
		IMAP: s.IMAP, POP: s.POP, SMTP: s.SMTP}
}

// Store stores the simulator's fleet in db, one profile a tenant.
func (s *Sim) Store(t testing.TB, db *store.DB) *Fleet {
	t.Helper()
	f := NewFleet()
	hosts := s.Hosts()
	for i, tn := range s.Tenants {
		f.AddTenant(t, db, hosts, i, tn)
	}
	return f
}
