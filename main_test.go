package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a command writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// run executes modauth with args; the error arrives on done when it ends.
func run(ctx context.Context, args ...string) (stdout, stderr *syncBuffer, done <-chan error) {
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	root := newRootCmd(streams{In: strings.NewReader(""), Out: stdout, Err: stderr})
	root.SetArgs(args)
	c := make(chan error, 1)
	go func() { c <- root.ExecuteContext(ctx) }()
	return stdout, stderr, c
}

func TestDemoPrintsTenantAndStaysUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut, done := run(ctx, "demo", "--users", "3")
	deadline := time.Now().Add(10 * time.Second)
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
	out, _, done := run(context.Background(), "--version")
	if err := <-done; err != nil || !strings.HasPrefix(out.String(), "modauth version ") {
		t.Fatalf("%q %v", out, err)
	}
}

func TestExitCodes(t *testing.T) {
	_, _, done := run(context.Background(), "demo", "--no-such-flag")
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
