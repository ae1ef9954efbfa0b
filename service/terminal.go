package service

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// The interface runs inside the service for a client attached over the
// socket: the client's terminal, put in raw mode there, is carried over
// one upgraded connection. The service's process holds the database and
// runs the only engine, so the dashboard's events and actions are the
// service's, and the wizard writes through it. (An ssh session's shape:
// the screen comes back as the bytes the interface writes.)
//
// After the upgrade the client sends one JSON line (TermRequest), then
// frames: a kind byte, a 4-byte big-endian length, the payload. Kind 'i'
// carries keyboard bytes, 'r' a new size (2 bytes columns, 2 bytes rows).
// The service sends the interface's output as it is, and closes the
// connection when the interface ends.

// TermRequest is the client's terminal.
type TermRequest struct {
	Cols, Rows int
	// Env holds the variables that shape the output: TERM, COLORTERM,
	// NO_COLOR, LANG and the like.
	Env []string
	// Profile is the color profile the client's terminal supports
	// (colorprofile.Profile), detected on the client where the terminal is.
	Profile    int
	Accessible bool
}

// TerminalFunc runs the interface for one attached client: input from in,
// output to out, each new size on resize, until it ends or ctx does.
type TerminalFunc func(ctx context.Context, req TermRequest, in io.Reader, out io.Writer, resize <-chan [2]int) error

const (
	frameInput  = 'i'
	frameResize = 'r'
	upgradeName = "modauth-terminal"
	maxFrame    = 1 << 16
)

// terminal upgrades the connection and runs the interface on it.
func (s *Server) terminal(w http.ResponseWriter, r *http.Request) {
	if s.Terminal == nil {
		http.Error(w, "this service runs no interface", http.StatusNotImplemented)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok || r.Header.Get("Upgrade") != upgradeName {
		http.Error(w, "expected an upgrade to "+upgradeName, http.StatusBadRequest)
		return
	}
	// A hijacked connection is the HTTP server's no more: Shutdown waits
	// for the session here, so the database outlives the interface.
	s.sessions.Add(1)
	defer s.sessions.Done()
	conn, rw, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\nConnection: Upgrade\r\n\r\n", upgradeName)
	if rw.Flush() != nil {
		return
	}
	line, err := rw.ReadBytes('\n')
	if err != nil {
		return
	}
	var req TermRequest
	if json.Unmarshal(line, &req) != nil {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	in, inW := io.Pipe()
	resize := make(chan [2]int, 4)
	go func() {
		err := readFrames(rw.Reader, inW, resize)
		inW.CloseWithError(err)
		close(resize) // the only sender is done
		cancel()      // the client went away: end the interface
	}()
	s.Logger.Info("interface attached")
	if err := s.Terminal(ctx, req, in, conn, resize); err != nil && !errors.Is(err, context.Canceled) {
		s.Logger.Warn("interface ended", "err", err)
	}
	s.Logger.Info("interface detached")
}

// readFrames demultiplexes the client's frames until it closes.
func readFrames(r *bufio.Reader, input io.Writer, resize chan<- [2]int) error {
	var head [5]byte
	buf := make([]byte, maxFrame)
	for {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(head[1:])
		if n > maxFrame {
			return fmt.Errorf("terminal frame of %d bytes: at most %d", n, maxFrame)
		}
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			return err
		}
		switch head[0] {
		case frameInput:
			if _, err := input.Write(buf[:n]); err != nil {
				return err
			}
		case frameResize:
			if n == 4 {
				size := [2]int{int(binary.BigEndian.Uint16(buf[0:])), int(binary.BigEndian.Uint16(buf[2:]))}
				select {
				case resize <- size:
				default: // a burst of resizes: the next one will do
				}
			}
		}
	}
}

// ErrNoInterface: what holds the data directory is an interface itself
// (or the demo), which serves commands but no second interface.
var ErrNoInterface = errors.New("another modauth interface holds this data directory: use that one, or quit it first (the headless commands work meanwhile)")

// Terminal is an attached client's end of the interface's connection.
type Terminal struct {
	conn io.ReadWriteCloser
	mu   sync.Mutex // one frame at a time
}

// Terminal attaches to the interface running in the service: the output
// comes back on the returned connection's reads.
func (c *Client) Terminal(ctx context.Context, req TermRequest) (*Terminal, io.Reader, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://modauth/v1/terminal", nil)
	if err != nil {
		return nil, nil, err
	}
	hr.Header.Set("Connection", "Upgrade")
	hr.Header.Set("Upgrade", upgradeName)
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, nil, fmt.Errorf("attach to the service: %w", err)
	}
	if resp.StatusCode == http.StatusNotImplemented {
		resp.Body.Close()
		return nil, nil, ErrNoInterface
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		resp.Body.Close()
		return nil, nil, fmt.Errorf("attach to the service: %s", resp.Status)
	}
	conn, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		resp.Body.Close()
		return nil, nil, errors.New("attach to the service: the connection cannot carry a terminal")
	}
	line, _ := json.Marshal(req)
	if _, err := conn.Write(append(line, '\n')); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("attach to the service: %w", err)
	}
	return &Terminal{conn: conn}, conn, nil
}

// Input sends keyboard bytes.
func (t *Terminal) Input(p []byte) error {
	for len(p) > 0 {
		n := min(len(p), maxFrame)
		if err := t.frame(frameInput, p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// Resize sends the terminal's new size.
func (t *Terminal) Resize(cols, rows int) error {
	var b [4]byte
	binary.BigEndian.PutUint16(b[0:], uint16(cols))
	binary.BigEndian.PutUint16(b[2:], uint16(rows))
	return t.frame(frameResize, b[:])
}

func (t *Terminal) frame(kind byte, p []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	head := [5]byte{kind}
	binary.BigEndian.PutUint32(head[1:], uint32(len(p)))
	if _, err := t.conn.Write(append(head[:], p...)); err != nil {
		return err
	}
	return nil
}

// Close detaches: the service ends the interface.
func (t *Terminal) Close() error { return t.conn.Close() }
