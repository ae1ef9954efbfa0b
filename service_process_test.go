package main

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/service"
)

// startChild starts TestServiceChild, the service in a process of its
// own, on dir, and waits until it serves.
func startChild(t *testing.T, dir string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	child := exec.Command(os.Args[0], "-test.run=^TestServiceChild$", "-test.v")
	child.Env = append(os.Environ(), "MODAUTH_SERVICE_DIR="+dir)
	out := &syncBuffer{}
	child.Stdout, child.Stderr = out, out
	must(t, child.Start())
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	waitService(t, dir, func(st service.Status) bool { return st.PID == child.Process.Pid && !st.LastSweep.IsZero() })
	return child, out
}

// TestServiceSurvivesKillAndStopsOnSIGTERM: a service killed with -9
// leaves its socket, which no command takes for a service; the next one
// replaces it, and everything stored is there. SIGTERM stops it within
// seconds, the socket removed and the database closed.
func TestServiceSurvivesKillAndStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes; skipped with -short")
	}
	sim, dir, _ := simProfile(t, "role:User.Read.All")
	t.Chdir(t.TempDir())
	must(t, os.WriteFile("export.csv", []byte(usersCSV), 0o600))
	child, _ := startChild(t, dir)
	if o, code := runOutcome(t, sim, "users", "import", "export.csv", "--profile", "acme", "--data-dir", dir); code != 0 {
		t.Fatalf("import through the service: %+v", o)
	}
	before, _ := runOutcome(t, sim, "users", "export", "--profile", "acme", "--data-dir", dir)

	must(t, child.Process.Kill())
	child.Wait()
	if _, err := os.Stat(service.SocketPath(dir)); err != nil {
		t.Fatalf("a killed service leaves its socket: %v", err)
	}
	if after, code := runOutcome(t, sim, "users", "export", "--profile", "acme", "--data-dir", dir); code != 0 || after != before {
		t.Errorf("with a stale socket: exit %d %+v, want %+v", code, after, before)
	}

	child, out := startChild(t, dir)
	if after, code := runOutcome(t, sim, "users", "export", "--profile", "acme", "--data-dir", dir); code != 0 || after != before {
		t.Errorf("through the restarted service: exit %d %+v, want %+v", code, after, before)
	}
	must(t, child.Process.Signal(syscall.SIGTERM))
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the service ended with %v on SIGTERM\n%s", err, out)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the service still runs 10s after SIGTERM\n%s", out)
	}
	if _, err := os.Stat(service.SocketPath(dir)); !os.IsNotExist(err) {
		t.Errorf("the socket is left after SIGTERM: %v", err)
	}
	db := openIn(t, sim, dir) // the lock is free: the database was closed
	db.Close()
}

// TestServiceChild is the service TestServiceSurvivesKillAndStopsOnSIGTERM
// starts and kills: `modauth monitor` as main runs it, signals included.
func TestServiceChild(t *testing.T) {
	dir := os.Getenv("MODAUTH_SERVICE_DIR")
	if dir == "" {
		t.Skip("runs only as the process TestServiceSurvivesKillAndStopsOnSIGTERM starts")
	}
	ctx, stop := signalContext()
	defer stop()
	_, errOut, done := run(t, ctx, "monitor", "--data-dir", dir, "--interval", "1h")
	err := <-done
	t.Log(errOut)
	if err != nil {
		t.Fatal(err)
	}
}

// TestRunFindsFilesInTheClientsDirectory: the service's working directory
// is not the client's; a relative file name is the client's.
func TestRunFindsFilesInTheClientsDirectory(t *testing.T) {
	sim, dir, _ := simProfile(t)
	client := t.TempDir()
	must(t, os.WriteFile(filepath.Join(client, "export.csv"), []byte(usersCSV), 0o600))
	t.Chdir(t.TempDir())
	db := openIn(t, sim, dir)
	defer db.Close()
	var out, errOut strings.Builder
	code, msg := serviceRunner(db, &dataDirFlag{dir: dir}, streams{Now: sim.Clock.Now})(testkit.Ctx(t),
		service.RunRequest{Command: []string{"users", "import"}, Args: []string{"--profile=acme", "--", "export.csv"}, Dir: client}, &out, &errOut)
	if code != 0 || !strings.Contains(errOut.String(), "imported 5 user(s)") {
		t.Errorf("exit %d %s\n%s", code, msg, errOut.String())
	}
}

// TestSecretRotateThroughTheService: the new secret's value reaches the
// hand-off sheet in the client's directory and nothing else: not the
// client's streams, not the service's log.
func TestSecretRotateThroughTheService(t *testing.T) {
	sim, dir, old := simProfile(t, "role:Application.ReadWrite.OwnedBy", "role:Mail.Send")
	app := sim.Tenant.App(profileIn(t, sim, dir).ClientID)
	t.Chdir(t.TempDir())
	log, _ := startService(t, sim, dir)
	o, code := runOutcome(t, sim, "secret", "rotate", "--profile", "acme", "--handoff-file", "sheet.txt", "--data-dir", dir)
	if code != 0 || !strings.Contains(o.stderr, "hand-off sheet with its value written to sheet.txt") {
		t.Fatalf("rotate through the service: exit %d %+v", code, o)
	}
	newKey := strings.TrimSpace(o.stdout)
	value := handedValue(t, "sheet.txt", app, newKey)
	all := o.stdout + o.stderr + o.err + log.String()
	for _, secret := range []string{value, old.Value} {
		if strings.Contains(all, secret) {
			t.Fatalf("a secret value was printed or logged:\n%s", all)
		}
	}
	if strings.Contains(log.String(), "sheet.txt") || strings.Contains(log.String(), newKey) {
		t.Errorf("the service logged a command's arguments or output:\n%s", log)
	}
}

// TestSIGHUPSweepsAtOnce: SIGHUP re-reads the profiles with a sweep at
// once, an hour before the next one is due: a profile's users imported
// meanwhile are swept.
func TestSIGHUPSweepsAtOnce(t *testing.T) {
	sim, dir, _ := simProfile(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hup := make(chan os.Signal, 1)
	log := &syncBuffer{}
	opts := &monitorOptions{IO: streams{Out: &syncBuffer{}, Err: log, Now: sim.Clock.Now}, Data: &dataDirFlag{dir: dir, now: sim.Clock.Now},
		Interval: time.Hour, Concurrency: 4, HTTPClient: sim.HTTPClient(), Reload: hup}
	done := make(chan error, 1)
	go func() { done <- runMonitor(ctx, opts) }()
	waitService(t, dir, func(st service.Status) bool { return !st.LastSweep.IsZero() })
	t.Chdir(t.TempDir())
	must(t, os.WriteFile("export.csv", []byte(usersCSV), 0o600))
	if o, code := runOutcome(t, sim, "users", "import", "export.csv", "--profile", "acme", "--data-dir", dir); code != 0 {
		t.Fatalf("import: %+v", o)
	}
	hup <- syscall.SIGHUP
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(log.String(), "users=5"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no sweep of the imported users after SIGHUP:\n%s", log)
		}
	}
	if !strings.Contains(log.String(), "profiles re-read on SIGHUP") {
		t.Errorf("the log does not say why it swept:\n%s", log)
	}
	cancel()
	must(t, <-done)
}

// TestSystemdUnit: the unit runs this program on this data directory as
// this user, hardened, restarted on failure.
func TestSystemdUnit(t *testing.T) {
	dir := t.TempDir()
	out, errOut, done := run(t, context.Background(), "monitor", "--systemd-unit", "--data-dir", dir, "--metrics-addr", "127.0.0.1:9464")
	must(t, <-done)
	exe, _ := os.Executable()
	exe, _ = filepath.EvalSymlinks(exe)
	u, _ := user.Current()
	for _, line := range []string{
		"User=" + u.Username,
		"ExecStart=" + exe + " monitor --data-dir " + dir + " --metrics-addr 127.0.0.1:9464\n",
		"ReadWritePaths=" + dir + "\n",
		"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=read-only", "PrivateTmp=yes",
		"Restart=on-failure", "RestartSec=5s", "KillSignal=SIGTERM", "TimeoutStopSec=30s", "WantedBy=multi-user.target",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("the unit lacks %q:\n%s", line, out)
		}
	}
	if errOut.String() != "" {
		t.Errorf("stderr: %s", errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "modauth.db")); !os.IsNotExist(err) {
		t.Errorf("printing the unit touched the data directory: %v", err)
	}
}
