package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// serve starts a Server for dir with run as its commands and engine eng,
// and stops it when the test ends.
func serve(t *testing.T, dir string, eng Engine, run RunFunc) (*Server, *Client) {
	t.Helper()
	ln, err := Listen(testkit.Ctx(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{DataDir: dir, Engine: eng, Run: run, Started: time.Date(2026, 11, 17, 14, 0, 0, 0, time.UTC)}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	c, ok := Attach(testkit.Ctx(t), dir)
	if !ok {
		t.Fatal("the service does not answer")
	}
	return s, c
}

func TestSocketIsOwnersOnlyAndStatusAnswers(t *testing.T) {
	dir := t.TempDir()
	s, c := serve(t, dir, nil, nil)
	fi, err := os.Stat(SocketPath(dir))
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v, mode %v", err, fi.Mode())
	}
	swept := s.Started.Add(time.Minute)
	s.Swept(swept)
	st, err := c.Status(testkit.Ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := Status{Version: "1", PID: os.Getpid(), DataDir: dir, Started: s.Started, LastSweep: swept}
	if st != want {
		t.Errorf("status %+v, want %+v", st, want)
	}
	if _, err := Listen(testkit.Ctx(t), dir); !errors.Is(err, ErrRunning) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("a second service on the same directory: %v", err)
	}
}

// TestPeerAllowed: the service's own user and root, nobody else (a
// connection from another user needs root to make; the rule is tested on
// the user IDs the kernel would give).
func TestPeerAllowed(t *testing.T) {
	for _, c := range []struct {
		uid, self int
		ok        bool
	}{{1000, 1000, true}, {0, 1000, true}, {1001, 1000, false}, {1000, 0, false}} {
		if err := peerAllowed(c.uid, c.self); (err == nil) != c.ok {
			t.Errorf("peer %d, service %d: %v", c.uid, c.self, err)
		}
	}
	// And the kernel's answer for a connection from this process.
	sock := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", sock)
	must(t, err)
	defer ln.Close()
	dialed, err := net.Dial("unix", sock)
	must(t, err)
	defer dialed.Close()
	accepted, err := ln.Accept()
	must(t, err)
	defer accepted.Close()
	if uid, err := peerUID(accepted); err != nil || uid != os.Getuid() {
		t.Errorf("peer of a connection from this process: uid %d, %v", uid, err)
	}
}

// A socket left by a crashed service (nobody listens) is no service for a
// client, and the next service replaces it.
func TestStaleSocketIsReplaced(t *testing.T) {
	dir := t.TempDir()
	ln, err := Listen(testkit.Ctx(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // a crash: the file stays, nobody listens
	if _, err := os.Stat(SocketPath(dir)); err != nil {
		t.Fatal(err)
	}
	if _, ok := Attach(testkit.Ctx(t), dir); ok {
		t.Fatal("a stale socket counted as a service")
	}
	serve(t, dir, nil, nil)
}

func TestRunStreamsOutputAndExitCode(t *testing.T) {
	dir := t.TempDir()
	var got RunRequest
	_, c := serve(t, dir, nil, func(_ context.Context, req RunRequest, stdout, stderr io.Writer) (int, string) {
		got = req
		io.WriteString(stdout, "MODAUTH WARNING - 1 profile(s)\n")
		io.WriteString(stderr, "1 user(s) need attention\n")
		io.WriteString(stdout, "details\n")
		return 1, "check failed"
	})
	var out, errOut strings.Builder
	req := RunRequest{Command: []string{"check"}, Args: []string{"--json"}, Stdin: []byte("piped")}
	code, err := c.Run(testkit.Ctx(t), req, &out, &errOut)
	var re *RunError
	if code != 1 || !errors.As(err, &re) || re.Msg != "check failed" || re.Code != 1 {
		t.Errorf("exit %d, %v", code, err)
	}
	if out.String() != "MODAUTH WARNING - 1 profile(s)\ndetails\n" || errOut.String() != "1 user(s) need attention\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
	}
	if strings.Join(got.Args, " ") != "--json" || string(got.Stdin) != "piped" {
		t.Errorf("the command got %+v", got)
	}
}

func TestRunRefusesCommandsOutsideTheList(t *testing.T) {
	ran := false
	_, c := serve(t, t.TempDir(), nil, func(context.Context, RunRequest, io.Writer, io.Writer) (int, string) {
		ran = true
		return 0, ""
	})
	for _, cmd := range [][]string{{"monitor"}, {"demo"}, {"users"}, {"check", "extra"}, {}} {
		code, err := c.Run(testkit.Ctx(t), RunRequest{Command: cmd}, io.Discard, io.Discard)
		if code != 2 || err == nil || !strings.Contains(err.Error(), "the service does not run") {
			t.Errorf("%q: exit %d, %v", cmd, code, err)
		}
	}
	if ran {
		t.Error("a refused command ran")
	}
}

// TestEventsStreamASyncNow: a sync through the API reaches a subscriber
// of the events stream as the change it made.
func TestEventsStreamASyncNow(t *testing.T) {
	sim := m365sim.Start(t, m365sim.Options{})
	app := sim.RegisterApp(sim.Tenant, m365sim.AppSpec{DisplayName: "acme", Required: []string{"Mail.Read"}})
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "modauth.db"), store.Options{Now: sim.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p := store.Profile{ID: "acme", TenantID: sim.Tenant.ID, ClientID: app.ClientID, Model: store.Delegated,
		Protocols: []store.Protocol{store.Graph}, Hosts: testkit.Hosts(sim)}
	must(t, db.PutProfile(p))
	must(t, db.PutUsers("acme", store.User{Key: "AV", Account: "anna.devries@contoso.com", UPN: "anna.devries@contoso.com", Mapping: store.MappingOK}))
	eng := monitor.New(db, monitor.Options{HTTPClient: sim.HTTPClient(), Now: sim.Clock.Now, Sleep: testkit.Sleep(sim)})
	_, c := serve(t, dir, eng, nil)

	ctx, cancel := context.WithCancel(testkit.Ctx(t))
	defer cancel()
	changes, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Sync(testkit.Ctx(t), "acme", "AV")
	if err != nil || res.Users != 1 || res.Ran[store.StateSignInNeeded] != 1 {
		t.Fatalf("sync: %+v, %v", res, err)
	}
	select {
	case ch := <-changes:
		if ch.Event.User != "AV" || ch.Event.State != store.StateSignInNeeded || ch.Job.State != store.StateSignInNeeded {
			t.Errorf("change %+v", ch)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no change arrived on the events stream")
	}
	cancel()
	if _, open := <-changes; open {
		t.Error("the stream went on after its context ended")
	}
	if _, err := c.Sync(testkit.Ctx(t), "nobody"); err == nil || !strings.Contains(err.Error(), "nobody") {
		t.Errorf("sync of an unknown profile: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
