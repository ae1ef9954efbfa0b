package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// RunFunc runs one modauth command against the service's open database,
// writing to stdout and stderr as the command line would, and returns its
// exit code and, when it failed with an error of its own, the error's
// message. main gives the very command tree the command line runs, so the
// output is the same whether a service runs or not.
type RunFunc func(ctx context.Context, req RunRequest, stdout, stderr io.Writer) (code int, errMsg string)

// Engine is what the service needs of the monitor's engine.
type Engine interface {
	Subscribe() (<-chan monitor.Change, func())
	SyncNow(ctx context.Context, profileID string, keys ...string) (monitor.Summary, error)
}

// errNoEngine: the interface holds the data directory and serves commands,
// but its engine is its own screen's.
const errNoEngine = "the modauth interface holds this data directory: it runs commands for others, but no engine to follow; run `modauth monitor` for that"

// Server is the service's API on its socket.
type Server struct {
	DataDir string
	Engine  Engine
	Run     RunFunc
	// Terminal runs the interface for an attached client; nil refuses.
	Terminal TerminalFunc
	// Logger records requests, never their arguments or output: those
	// may carry what a command prints once (a secret's key ID, a device
	// code) and are the client's alone.
	Logger  *slog.Logger
	Started time.Time

	lastSweep atomic.Pointer[time.Time]
	mu        sync.Mutex // guards http, stop, socket and closed, set by Serve
	closed    bool
	sessions  sync.WaitGroup // attached interfaces, which Shutdown waits for
	http      *http.Server
	stop      context.CancelFunc
	socket    string
}

// LastSweep is when the last sweep ended; zero before one.
func (s *Server) LastSweep() time.Time {
	if t := s.lastSweep.Load(); t != nil {
		return *t
	}
	return time.Time{}
}

// Swept records the end of a sweep, for the status.
func (s *Server) Swept(at time.Time) { s.lastSweep.Store(&at) }

// MaxStdin bounds what a client may pipe to a command: a user export.
const MaxStdin = 32 << 20

// Serve answers on ln (from Listen) until Shutdown.
func (s *Server) Serve(ln *net.UnixListener) error {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", s.status)
	mux.HandleFunc("POST /v1/run", s.run)
	mux.HandleFunc("GET /v1/events", s.events)
	mux.HandleFunc("POST /v1/profiles/{id}/sync", s.sync)
	mux.HandleFunc("POST /v1/terminal", s.terminal)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	// Serve runs in its own goroutine: what Shutdown reads is set under
	// the lock, and a Shutdown that came first leaves nothing to serve.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		stop()
		ln.Close()
		os.Remove(SocketPath(s.DataDir))
		return nil
	}
	s.http, s.stop, s.socket = hs, stop, SocketPath(s.DataDir)
	s.mu.Unlock()
	err := hs.Serve(&peerListener{Listener: ln, self: os.Getuid(), log: s.Logger.Warn})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops taking requests, cancels the commands and event streams
// in flight and waits for them (until ctx ends), then removes the socket:
// after it returns, the database may be closed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	hs, stop, socket := s.http, s.stop, s.socket
	s.mu.Unlock()
	if hs == nil {
		return nil // Serve has not begun, and will not
	}
	stop()
	err := hs.Shutdown(ctx) // waits for every handler but the hijacked
	done := make(chan struct{})
	go func() { s.sessions.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = errors.Join(err, ctx.Err())
	}
	os.Remove(socket)
	return err
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	st := Status{Version: APIVersion, PID: os.Getpid(), DataDir: s.DataDir, Started: s.Started}
	if t := s.lastSweep.Load(); t != nil {
		st.LastSweep = *t
	}
	writeJSON(w, st)
}

func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	var req RunRequest
	// Standard input travels in base64: a third more.
	if err := json.NewDecoder(io.LimitReader(r.Body, 2*MaxStdin)).Decode(&req); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	out := &frames{enc: json.NewEncoder(w), flush: flusher(w)}
	name := strings.Join(req.Command, " ")
	if !Allowed(req.Command) {
		out.end(2, fmt.Sprintf("usage: the service does not run %q: it runs %s", name, strings.Join(Commands, ", ")))
		return
	}
	s.Logger.Info("running a command for a client", "command", name)
	code, msg := s.Run(r.Context(), req, out.stream("stdout"), out.stream("stderr"))
	out.end(code, msg)
}

// frames writes a command's output as NDJSON frames, flushed as written
// so a long command (a rotation's wait, a device-code sign-in) shows its
// progress at once.
type frames struct {
	mu    sync.Mutex
	enc   *json.Encoder
	flush func()
}

func (f *frames) write(fr Frame) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enc.Encode(fr); err != nil {
		return err
	}
	f.flush()
	return nil
}

func (f *frames) stream(name string) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		if err := f.write(Frame{Stream: name, Data: string(p)}); err != nil {
			return 0, err
		}
		return len(p), nil
	})
}

func (f *frames) end(code int, msg string) { f.write(Frame{Exit: &code, Error: msg}) }

type writerFunc func([]byte) (int, error)

func (fn writerFunc) Write(p []byte) (int, error) { return fn(p) }

func flusher(w http.ResponseWriter) func() {
	if f, ok := w.(http.Flusher); ok {
		return f.Flush
	}
	return func() {}
}

// events streams the engine's changes as NDJSON until the client goes.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	if s.Engine == nil {
		http.Error(w, errNoEngine, http.StatusServiceUnavailable)
		return
	}
	changes, stop := s.Engine.Subscribe()
	defer stop()
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc, flush := json.NewEncoder(w), flusher(w)
	flush() // the client knows it is subscribed before the first change
	for {
		select {
		case <-r.Context().Done():
			return
		case c, ok := <-changes:
			if !ok {
				return
			}
			if err := enc.Encode(c); err != nil {
				return
			}
			flush()
		}
	}
}

func (s *Server) sync(w http.ResponseWriter, r *http.Request) {
	var req SyncRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if s.Engine == nil {
		http.Error(w, errNoEngine, http.StatusServiceUnavailable)
		return
	}
	sum, err := s.Engine.SyncNow(r.Context(), r.PathValue("id"), req.Keys...)
	switch {
	case errors.Is(err, store.ErrNotFound):
		http.Error(w, err.Error(), http.StatusNotFound)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	default:
		writeJSON(w, syncResult(sum))
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
