package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// ErrRunning: another service already owns the data directory.
var ErrRunning = errors.New("another modauth monitor serves this data directory")

// Listen opens the data directory's socket, mode 0600, for a new service.
// A socket file nobody answers on is what a crashed service leaves: it is
// replaced. A service that answers is an error naming its pid.
//
// The socket is bound under a temporary name, made 0600 and then renamed,
// so that it is never reachable with the mode the umask gave it.
func Listen(ctx context.Context, dir string) (*net.UnixListener, error) {
	path := SocketPath(dir)
	if c, ok := Dial(ctx, dir); ok {
		st, err := c.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: something answers on %s but not as modauth: %v", ErrRunning, path, err)
		}
		return nil, fmt.Errorf("%w (pid %d): stop it first, or use it: commands attach to it by themselves", ErrRunning, st.PID)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove the stale socket %s: %w", path, err)
	}
	tmp := filepath.Join(dir, "."+SocketName+"."+strconv.Itoa(os.Getpid()))
	os.Remove(tmp)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("serve on %s: %w", path, err)
	}
	// The file is renamed, so the listener must not unlink its first name;
	// the server removes the socket when it stops.
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("serve on %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("serve on %s: %w", path, err)
	}
	return ln, nil
}

// peerAllowed admits the service's own user and root, and nobody else:
// the API hands out what the database holds.
func peerAllowed(uid, self int) error {
	if uid == self || uid == 0 {
		return nil
	}
	return fmt.Errorf("user %d may not use the service of user %d", uid, self)
}

// peerListener closes every connection whose peer peerAllowed refuses.
type peerListener struct {
	net.Listener
	self int
	log  func(msg string, args ...any)
}

func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(c)
		if err == nil {
			err = peerAllowed(uid, l.self)
		}
		if err == nil {
			return c, nil
		}
		l.log("refused a connection", "err", err)
		c.Close()
	}
}

// dialTimeout bounds how long a client waits for the socket to answer
// before it opens the database itself: a stale socket refuses at once.
const dialTimeout = 2 * time.Second
