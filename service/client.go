package service

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/modauth/modauth/monitor"
)

// Client talks to the service of a data directory.
type Client struct {
	http   *http.Client
	socket string
}

// Dial connects to the data directory's service, if one answers. A socket
// file nobody listens on (a crashed service's) is no service: the caller
// opens the database itself, and the next monitor replaces the file.
func Dial(ctx context.Context, dir string) (*Client, bool) {
	path := SocketPath(dir)
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, false
	}
	c.Close()
	return &Client{socket: path, http: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		},
	}}}, true
}

// Attach is Dial followed by a status request: a service that takes the
// connection but does not answer as one (one shutting down) is no service.
func Attach(ctx context.Context, dir string) (*Client, bool) {
	c, ok := Dial(ctx, dir)
	if !ok {
		return nil, false
	}
	sctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if _, err := c.Status(sctx); err != nil {
		return nil, false
	}
	return c, true
}

// Status asks the service who it is.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	return st, c.call(ctx, http.MethodGet, "/v1/status", nil, &st)
}

// Sync asks the service's engine to sync the profile's users now.
func (c *Client) Sync(ctx context.Context, profileID string, keys ...string) (SyncResult, error) {
	var res SyncResult
	return res, c.call(ctx, http.MethodPost, "/v1/profiles/"+profileID+"/sync", SyncRequest{Keys: keys}, &res)
}

// RunError is a command that ended with an error of its own in the
// service: its message, and the exit code the service gave it.
type RunError struct {
	Msg  string
	Code int
}

func (e *RunError) Error() string { return e.Msg }

// Run runs a command in the service, writing its output to stdout and
// stderr as it comes, and returns its exit code, and the command's own
// error (a *RunError) when it had one.
func (c *Client) Run(ctx context.Context, req RunRequest, stdout, stderr io.Writer) (int, error) {
	resp, err := c.do(ctx, http.MethodPost, "/v1/run", req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, MaxStdin) // a frame is one write of a command
	for sc.Scan() {
		var f Frame
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			return 0, fmt.Errorf("the service's answer: %w", err)
		}
		switch {
		case f.Exit != nil && f.Error != "":
			return *f.Exit, &RunError{Msg: f.Error, Code: *f.Exit}
		case f.Exit != nil:
			return *f.Exit, nil
		case f.Stream == "stdout":
			io.WriteString(stdout, f.Data)
		case f.Stream == "stderr":
			io.WriteString(stderr, f.Data)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("the service's answer: %w", err)
	}
	return 0, errors.New("the service stopped before the command ended: see its log (journalctl -u modauth), and run the command again")
}

// Events subscribes to the engine's changes. It returns once the service
// has subscribed, so no change made after it returns is missed; the
// channel closes when ctx ends or the service stops.
func (c *Client) Events(ctx context.Context) (<-chan monitor.Change, error) {
	resp, err := c.do(ctx, http.MethodGet, "/v1/events", nil)
	if err != nil {
		return nil, err
	}
	ch := make(chan monitor.Change)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		dec := json.NewDecoder(resp.Body)
		for {
			var c monitor.Change
			if dec.Decode(&c) != nil {
				return
			}
			select {
			case ch <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

func (c *Client) call(ctx context.Context, method, path string, body, into any) error {
	resp, err := c.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(into)
}

// do sends a request and returns a 200 answer; any other status is an
// error carrying the service's message.
func (c *Client) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	// The host is a placeholder: the transport dials the socket.
	req, err := http.NewRequestWithContext(ctx, method, "http://modauth"+path, rd)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach the service on %s: %w", c.socket, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("the service on %s: %s", c.socket, strings.TrimSpace(string(msg)))
	}
	return resp, nil
}
