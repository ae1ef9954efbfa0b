package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/modauth/modauth/service"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// TestTUIAttachesToTheService: with `modauth monitor` holding the data
// directory, `modauth` opens the dashboard the service runs, and a sweep
// of the service (SIGHUP) changes a row on that screen as it happens.
func TestTUIAttachesToTheService(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux; skipped with -short")
	}
	sim, dir, _ := simProfile(t, "role:Calendars.ReadWrite", "role:User.Read.All")
	db := openIn(t, sim, dir)
	p := mustProfile(t, db)
	p.WizardStep, p.Folders = common.StepVerify, []string{"calendar"}
	must(t, db.PutProfile(p))
	must(t, db.PutUsers("acme", store.User{Key: "AV", Name: "Anna de Vries", Account: "anna.devries@contoso.com", UPN: "anna.devries@contoso.com", Mapping: store.MappingOK}))
	db.Close()

	svc := exec.Command(buildOnce(t), "monitor", "--data-dir", dir, "--interval", "1h")
	svc.Stderr = os.Stderr
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Process.Signal(syscall.SIGTERM); svc.Wait() })
	for i := 0; ; i++ { // real time: how long the service may take to come up
		if _, err := os.Stat(filepath.Join(dir, "modauth.sock")); err == nil {
			break
		}
		if i == 200 {
			t.Fatal("the service did not make its socket")
		}
		time.Sleep(50 * time.Millisecond)
	}

	tm := newTerm(t, "--data-dir", dir)
	tm.waitFor("Anna de Vries")
	before := tm.waitFor("next sweep")
	// Anna's mailbox is closed to the app; a sync the service runs for
	// another client shows on this screen as it happens.
	sim.RestrictAppAccess(p.ClientID, sim.Tenant.User("bjanssen@contoso.onmicrosoft.com"))
	c, ok := service.Attach(context.Background(), dir)
	if !ok {
		t.Fatal("no service to sync through")
	}
	if _, err := c.Sync(context.Background(), "acme", "AV"); err != nil {
		t.Fatal(err)
	}
	after := tm.waitFor("policy-blocked")
	if before == after {
		t.Fatalf("the row did not change:\n%s", after)
	}
	tm.keys("C-c") // the dashboard leaves at once; the service goes on
	if _, err := c.Status(context.Background()); err != nil {
		t.Errorf("the service after the interface left: %v", err)
	}
}

// TestCommandsRunWhileTheTUIHoldsTheStore: with no service, the interface
// holds the database, and a Nagios check run meanwhile answers as it
// would without it (through the interface's socket), not UNKNOWN.
func TestCommandsRunWhileTheTUIHoldsTheStore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux; skipped with -short")
	}
	sim, dir, _ := simProfile(t, "role:Calendars.ReadWrite")
	want, wantErr, done := runOn(sim.Clock.Now, context.Background(), "check", "--json", "--data-dir", dir)
	wantCode := exitCode(<-done)

	tm := newTerm(t, "--data-dir", dir)
	tm.waitFor("ctrl+c quit")
	got, gotErr, done := runOn(sim.Clock.Now, context.Background(), "check", "--json", "--data-dir", dir)
	// The interface's process reads the wall clock, this test the
	// simulator's: the days left may differ, nothing else.
	days := regexp.MustCompile(`\d+ days|=\d+;`)
	if code := exitCode(<-done); code != wantCode || days.ReplaceAllString(got.String(), "") != days.ReplaceAllString(want.String(), "") || gotErr.String() != wantErr.String() {
		t.Errorf("check while the interface runs: exit %d %q %q, want exit %d %q %q", code, got, gotErr, wantCode, want, wantErr)
	}
	tm.keys("C-c")
}
