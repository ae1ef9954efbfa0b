package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	xterm "github.com/charmbracelet/x/term"

	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/service"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui"
	"github.com/modauth/modauth/tui/common"
)

// While `modauth monitor` holds a data directory, `modauth` attaches to
// it: the interface runs in the service, on its database and its engine,
// and this process only carries the terminal, like an ssh session.

// attachTerminal shows the interface the service runs, on this terminal,
// until it ends.
func attachTerminal(ctx context.Context, ios streams, c *service.Client) error {
	in, okIn := ios.In.(*os.File)
	out, okOut := ios.Out.(*os.File)
	if !okIn || !okOut || !isTerminal(in) || !isTerminal(out) {
		return errNoTerminal
	}
	cols, rows, err := xterm.GetSize(out.Fd())
	if err != nil {
		return fmt.Errorf("read the terminal's size: %w", err)
	}
	req := service.TermRequest{Cols: cols, Rows: rows, Env: termEnv(os.Environ()),
		Profile: int(colorprofile.Detect(out, os.Environ())), Accessible: ios.Accessible != nil && *ios.Accessible}
	if req.Accessible {
		// huh's accessible prompts read this process's own terminal, which
		// the service does not have: say so rather than draw silently.
		return errAccessibleAttached
	}
	t, screen, err := c.Terminal(ctx, req)
	if err != nil {
		return err
	}
	defer t.Close()
	state, err := xterm.MakeRaw(in.Fd())
	if err != nil {
		return fmt.Errorf("put the terminal in raw mode: %w", err)
	}
	defer xterm.Restore(in.Fd(), state)
	go func() { // keys to the service; this read ends with the process
		buf := make([]byte, 4096)
		for {
			n, err := in.Read(buf)
			if n > 0 && t.Input(buf[:n]) != nil {
				return
			}
			if err != nil {
				return
			}
		}
	}()
	stop := onResize(func() {
		if cols, rows, err := xterm.GetSize(out.Fd()); err == nil {
			t.Resize(cols, rows)
		}
	})
	defer stop()
	_, err = io.Copy(out, screen)
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("the service's interface: %w", err)
	}
	return nil
}

// crlf writes each line feed as CR LF. The interface writes for a terminal
// that does that itself (its output is no terminal here), and the client's
// terminal, in raw mode, does not.
type crlf struct{ w io.Writer }

func (c crlf) Write(p []byte) (int, error) {
	if bytes.IndexByte(p, '\n') < 0 {
		return c.w.Write(p)
	}
	if _, err := c.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// errAccessibleAttached: accessible mode needs the interface in this process.
var errAccessibleAttached = errors.New("accessible mode (--accessible) asks line by line in this terminal, but `modauth monitor` holds the data directory and runs the interface: stop the service to use it, or run without --accessible")

// termEnv are the variables that shape what the interface draws.
func termEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "TERM", name == "COLORTERM", name == "NO_COLOR", name == "CLICOLOR_FORCE", name == "LANG",
			name == "TERM_PROGRAM", strings.HasPrefix(name, "LC_"):
			out = append(out, kv)
		}
	}
	return out
}

// serviceTerminal runs the interface for a client attached to the service:
// on the service's database and engine, with the client's terminal. It
// takes no signals of this process: those are the service's.
func serviceTerminal(db *store.DB, eng *monitor.Engine, srv *service.Server, opts *monitorOptions, logger *slog.Logger) service.TerminalFunc {
	return func(ctx context.Context, req service.TermRequest, in io.Reader, out io.Writer, resize <-chan [2]int) error {
		topts := tui.Options{DB: db, Hosts: store.DefaultHosts, HTTPClient: opts.HTTPClient, Now: opts.IO.Now, Logger: logger,
			OpenURL: func(string) error { return errNoBrowserHere },
			Service: &common.Hosted{Engine: eng, LastSweep: srv.LastSweep, Resize: resize}}
		return tui.Run(ctx, topts, tea.WithInput(in), tea.WithOutput(crlf{out}), tea.WithWindowSize(req.Cols, req.Rows),
			tea.WithEnvironment(req.Env), tea.WithColorProfile(colorprofile.Profile(req.Profile)), tea.WithoutSignalHandler())
	}
}

// serveCommands serves the headless commands on the data directory's
// socket while the interface holds the database, and returns what stops
// it. A socket it cannot make only means the commands cannot run
// meanwhile, as before; the screen is the interface's, so it says nothing.
func serveCommands(db *store.DB, on *dataDirFlag, ios streams) (stop func()) {
	ln, err := service.Listen(context.Background(), on.dir)
	if err != nil {
		return func() {}
	}
	srv := &service.Server{DataDir: on.dir, Run: serviceRunner(db, on, ios), Started: ios.Now()}
	go srv.Serve(ln)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		srv.Shutdown(ctx)
	}
}
