package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testclock"
	"github.com/modauth/modauth/internal/testkit"
)

// syncBuffer is a bytes.Buffer safe for a command writing while the test reads.
type syncBuffer = testkit.SyncBuffer

// testClock is the commands' clock in these tests: the tests' start
// instant, standing still. seedStore's store and simProfile's simulator
// stand at the same instant, so every side agrees on what "now" is.
func testClock(t testing.TB) func() time.Time {
	at := testclock.Start(t)
	return func() time.Time { return at }
}

// run executes modauth with args on the tests' clock; the error arrives on
// done when it ends. Cancelling ctx is what Ctrl-C does.
func run(t testing.TB, ctx context.Context, args ...string) (stdout, stderr *syncBuffer, done <-chan error) {
	return runOn(testClock(t), ctx, args...)
}

// runOn is run on the clock now: a simulator's, when the test moves it.
func runOn(now func() time.Time, ctx context.Context, args ...string) (stdout, stderr *syncBuffer, done <-chan error) {
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	root := newRootCmd(streams{In: strings.NewReader(""), Out: stdout, Err: stderr, Now: now})
	root.SetArgs(args)
	c := make(chan error, 1)
	go func() { c <- root.ExecuteContext(ctx) }()
	return stdout, stderr, c
}

func TestDemoPrintsTenantAndStaysUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut, done := run(t, ctx, "demo", "--users", "3")
	deadline := time.Now().Add(10 * time.Second) // real time: how long the demo may take to start
	for !strings.Contains(errOut.String(), "Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("demo did not come up; stdout %q stderr %q", out, errOut)
		}
		time.Sleep(10 * time.Millisecond)
	}
	text := out.String()
	for _, want := range []string{"authority     http://127.0.0.1:", "tenant", "client id", "/devicelogin"} {
		if !strings.Contains(text, want) {
			t.Errorf("stdout lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "\nuser "); n != 3 {
		t.Errorf("%d users printed, want 3:\n%s", n, text)
	}
	select {
	case err := <-done:
		t.Fatalf("demo exited before Ctrl-C: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	cancel() // what Ctrl-C does through signal.NotifyContext
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demo did not stop on Ctrl-C")
	}
}

func TestVersion(t *testing.T) {
	out, _, done := run(t, context.Background(), "--version")
	if err := <-done; err != nil || !strings.HasPrefix(out.String(), "modauth version ") {
		t.Fatalf("%q %v", out, err)
	}
}

func TestExitCodes(t *testing.T) {
	_, _, done := run(t, context.Background(), "demo", "--no-such-flag")
	err := <-done
	cases := map[error]int{
		nil:                                   0,
		err:                                   2,
		fmt.Errorf("x: %w", context.Canceled): 130,
		errors.New("boom"):                    1,
	}
	for e, want := range cases {
		if got := exitCode(e); got != want {
			t.Errorf("exitCode(%v) = %d, want %d", e, got, want)
		}
	}
}
