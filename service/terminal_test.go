package service

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testkit"
)

// TestTerminalCarriesKeysSizesAndScreen: an attached client's keys reach
// the interface, its new sizes too, and the interface's output comes
// back; the session ends when the interface does.
func TestTerminalCarriesKeysSizesAndScreen(t *testing.T) {
	dir := t.TempDir()
	ln, err := Listen(testkit.Ctx(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	var ended atomic.Bool
	s := &Server{DataDir: dir, Terminal: func(ctx context.Context, req TermRequest, in io.Reader, out io.Writer, resize <-chan [2]int) error {
		defer ended.Store(true)
		fmt.Fprintf(out, "size %dx%d %v\n", req.Cols, req.Rows, req.Env)
		keys := make(chan []byte)
		go func() {
			buf := make([]byte, 64)
			for {
				n, err := in.Read(buf)
				if err != nil {
					close(keys)
					return
				}
				keys <- bytes.Clone(buf[:n])
			}
		}()
		for {
			select {
			case k, ok := <-keys:
				if !ok || string(k) == "q" {
					return nil
				}
				fmt.Fprintf(out, "key %s\n", bytes.ToUpper(k))
			case sz := <-resize:
				fmt.Fprintf(out, "resize %dx%d\n", sz[0], sz[1])
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}}
	go s.Serve(ln)
	c, ok := Attach(testkit.Ctx(t), dir)
	if !ok {
		t.Fatal("no service")
	}
	term, screen, err := c.Terminal(testkit.Ctx(t), TermRequest{Cols: 80, Rows: 24, Env: []string{"TERM=xterm-256color"}})
	if err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(screen)
	expect := func(want string) {
		t.Helper()
		got, err := lines.ReadString('\n')
		if err != nil || got != want+"\n" {
			t.Fatalf("screen %q (%v), want %q", got, err, want)
		}
	}
	expect("size 80x24 [TERM=xterm-256color]")
	must(t, term.Input([]byte("abc")))
	expect("key ABC")
	must(t, term.Resize(100, 30))
	expect("resize 100x30")
	must(t, term.Input([]byte("q")))
	if _, err := lines.ReadString('\n'); err != io.EOF {
		t.Errorf("after the interface ended: %v, want the connection closed", err)
	}

	// Shutdown waits for an attached interface to end before the
	// database may close.
	ended.Store(false)
	_, screen, err = c.Terminal(testkit.Ctx(t), TermRequest{Cols: 80, Rows: 24})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(screen).ReadString('\n'); err != nil { // the session runs
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if !ended.Load() {
		t.Error("Shutdown returned while an interface still ran")
	}
}
