package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/service"
)

// usersCSV is a product's user export with users the simulator knows,
// one it does not, and a line that warns.
const usersCSV = "Gebruiker;Naam;Exchange account\r\n" +
	"AV;Anna de Vries;anna.devries@contoso.com\r\n" +
	"BJ;Bram Janssen;bram.janssen@contoso.com\r\n" +
	"DW;Dieter Wagner;dieter.wagner@contoso.com\r\n" +
	"XX;Typo;anna.devris@contoso.com\r\n" +
	"YY;Same;anna.devries@contoso.com\r\n"

// startService runs `modauth monitor` on dir in this process, on the
// simulator, and returns once it answers on its socket and finished its
// first sweep, with its log and a function that stops it as SIGTERM does.
func startService(t *testing.T, sim *m365sim.Sim, dir string) (log *syncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log = &syncBuffer{}
	opts := &monitorOptions{IO: streams{In: strings.NewReader(""), Out: &syncBuffer{}, Err: log, Now: sim.Clock.Now},
		Data: &dataDirFlag{dir: dir, now: sim.Clock.Now}, Interval: time.Hour, Concurrency: 4, HTTPClient: sim.HTTPClient()}
	done := make(chan error, 1)
	go func() { done <- runMonitor(ctx, opts) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the service ended with %v\n%s", err, log)
		}
		if _, err := os.Stat(service.SocketPath(dir)); !os.IsNotExist(err) {
			t.Errorf("the socket is left after a clean stop: %v", err)
		}
	}
	t.Cleanup(stop)
	waitService(t, dir, func(st service.Status) bool { return !st.LastSweep.IsZero() })
	return log, stop
}

// waitService waits, a real-time bound, for the data directory's service
// to answer with a status that ready accepts.
func waitService(t *testing.T, dir string, ready func(service.Status) bool) service.Status {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, ok := service.Attach(testkit.Ctx(t), dir); ok {
			if st, err := c.Status(testkit.Ctx(t)); err == nil && ready(st) {
				return st
			}
		}
	}
	t.Fatalf("no service answered on %s", service.SocketPath(dir))
	return service.Status{}
}

// copyData copies a data directory's database and key file: a twin to
// run the same commands on.
func copyData(t *testing.T, dir string) string {
	t.Helper()
	twin := t.TempDir()
	for _, name := range []string{"modauth.db", "modauth.key"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(twin, name), b, 0o600))
	}
	return twin
}

// outcome is all a command line shows: its streams, the message main
// prints and the exit code.
type outcome struct{ stdout, stderr, err string }

func runOutcome(t *testing.T, sim *m365sim.Sim, args ...string) (outcome, int) {
	t.Helper()
	out, errOut, done := runOn(sim.Clock.Now, context.Background(), args...)
	err := <-done
	return outcome{out.String(), errOut.String(), errorMessage(err)}, exitCode(err)
}

// serviceCommands are the commands an operator runs while the monitor
// runs, in an order that makes each one's answer worth comparing.
var serviceCommands = [][]string{
	{"users", "import", "export.csv", "--profile", "acme"},
	{"users", "export", "--profile", "acme"},
	{"users", "resolve", "--profile", "acme"},
	{"check"},
	{"check", "--json"},
	{"check", "--warn", "200d"},
	{"report", "no-sync-id"},
	{"report", "no-sync-id", "--csv"},
	{"report", "no-sync-id", "--json"},
	{"doctor"},
	{"doctor", "--json"},
	{"users", "export", "--profile", "nobody"},
	{"report", "no-sync-id", "--csv", "--json"},
}

// TestCommandsAnswerTheSameThroughTheService runs each command on a data
// directory a service owns, and on its twin without one: the streams, the
// error and the exit code are the same.
func TestCommandsAnswerTheSameThroughTheService(t *testing.T) {
	sim, dir, _ := simProfile(t, "role:User.Read.All")
	t.Chdir(t.TempDir()) // relative file names are the client's
	must(t, os.WriteFile("export.csv", []byte(usersCSV), 0o600))
	twin := copyData(t, dir)
	// The service sweeps once as it starts: so does the twin.
	if o, code := runOutcome(t, sim, "monitor", "--once", "--data-dir", twin); code != 0 {
		t.Fatalf("monitor --once: %+v", o)
	}
	log, _ := startService(t, sim, dir)
	for _, args := range serviceCommands {
		direct, directCode := runOutcome(t, sim, append(args, "--data-dir", twin)...)
		served, servedCode := runOutcome(t, sim, append(args, "--data-dir", dir)...)
		// The twin's path is the one difference there must be.
		for _, s := range []*string{&direct.stdout, &direct.stderr, &direct.err} {
			*s = strings.ReplaceAll(*s, twin, dir)
		}
		if directCode != servedCode || direct != served {
			t.Errorf("%s: without the service exit %d %+v\nwith it exit %d %+v", strings.Join(args, " "), directCode, direct, servedCode, served)
		}
	}
	if n := strings.Count(log.String(), "running a command for a client"); n != len(serviceCommands) {
		t.Errorf("the service ran %d commands, want %d: some opened the database themselves\n%s", n, len(serviceCommands), log)
	}
	if o, code := runOutcome(t, sim, "doctor", "--restore", "--data-dir", dir); code != 1 || !strings.Contains(o.err, "stop the service first") {
		t.Errorf("doctor --restore while the service runs: exit %d %+v", code, o)
	}
}

// TestCommandsDuringASweep runs check, report and users export through
// the service while its engine syncs every user, and gets the answers it
// gets when nothing else runs, and without the service.
func TestCommandsDuringASweep(t *testing.T) {
	sim, dir, _ := simProfile(t, "role:User.Read.All")
	t.Chdir(t.TempDir())
	must(t, os.WriteFile("export.csv", []byte(usersCSV), 0o600))
	_, stop := startService(t, sim, dir)
	for _, args := range [][]string{{"users", "import", "export.csv", "--profile", "acme"}, {"users", "resolve", "--profile", "acme"}} {
		if o, code := runOutcome(t, sim, append(args, "--data-dir", dir)...); code != 0 {
			t.Fatalf("%v: %+v", args, o)
		}
	}
	c, ok := service.Attach(testkit.Ctx(t), dir)
	if !ok {
		t.Fatal("no service")
	}
	keys := []string{"AV", "BJ", "DW", "XX", "YY"}
	if _, err := c.Sync(testkit.Ctx(t), "acme", keys...); err != nil {
		t.Fatal(err)
	}
	reads := [][]string{{"check"}, {"report", "no-sync-id", "--csv"}, {"users", "export", "--profile", "acme"}}
	want := map[string]outcome{}
	for _, args := range reads {
		o, _ := runOutcome(t, sim, append(args, "--data-dir", dir)...)
		if !strings.Contains(o.stdout, "acme") && !strings.Contains(o.stdout, "AV,") {
			t.Fatalf("%v answers nothing worth comparing: %+v", args, o)
		}
		want[strings.Join(args, " ")] = o
	}

	var wg sync.WaitGroup
	syncing := make(chan struct{})
	wg.Go(func() {
		defer close(syncing)
		for range 20 {
			if _, err := c.Sync(testkit.Ctx(t), "acme", keys...); err != nil {
				t.Error(err)
			}
		}
	})
	rounds := 0
	for done := false; !done; rounds++ {
		select {
		case <-syncing:
			done = true
		default:
		}
		for _, args := range reads {
			wg.Go(func() {
				got, _ := runOutcome(t, sim, append(args, "--data-dir", dir)...)
				if w := want[strings.Join(args, " ")]; got != w {
					t.Errorf("%v during a sweep: %+v, want %+v", args, got, w)
				}
			})
		}
		wg.Wait()
	}
	t.Logf("%d rounds of commands during the syncs", rounds)

	stop()
	for _, args := range reads {
		if got, _ := runOutcome(t, sim, append(args, "--data-dir", dir)...); got != want[strings.Join(args, " ")] {
			t.Errorf("%v without the service: %+v, want %+v", args, got, want[strings.Join(args, " ")])
		}
	}
}
