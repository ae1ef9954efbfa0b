package flows

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrSignInComplete means a sign-in already has its token: another
// address for it (the same redirect pasted and received, a reloaded tab)
// is refused.
var ErrSignInComplete = errors.New("this sign-in is already complete")

// Loopback catches the redirect of a browser sign-in that runs on this
// machine: a listener on the loopback interface. RedirectURI is the
// registered redirect with the listener's port: Entra ignores the port of
// a public client's registered http://localhost, and RFC 8252 §7.3 asks
// every provider to ignore the port of a loopback redirect.
type Loopback struct {
	RedirectURI string

	ln      net.Listener
	srv     *http.Server
	results chan LoopbackResult
}

// LoopbackResult is what one redirect the listener received came to.
type LoopbackResult struct {
	Token *Token
	Err   error
}

// ListenLoopback listens on a free port of 127.0.0.1 for Entra's
// registered http://localhost; Serve answers.
func ListenLoopback() (*Loopback, error) { return ListenLoopbackAt("") }

// ListenLoopbackAt listens on a free port for a registered loopback
// redirect such as http://127.0.0.1/callback or http://localhost:8400/cb:
// the redirect URI keeps its host and path, and only the port is the
// listener's. localhost is served on 127.0.0.1, which it resolves to
// (RFC 8252 §8.3 prefers the literal). "" is http://localhost.
func ListenLoopbackAt(registered string) (*Loopback, error) {
	if registered == "" {
		registered = "http://localhost"
	}
	u, err := url.Parse(registered)
	if err != nil || u.Scheme != "http" || u.Opaque != "" {
		return nil, fmt.Errorf("listen for the sign-in redirect: %q is not an http:// loopback address: register http://127.0.0.1/<path> or http://localhost", registered)
	}
	listenHost := ""
	switch u.Hostname() {
	case "localhost", "127.0.0.1":
		listenHost = "127.0.0.1"
	case "::1":
		listenHost = "::1"
	default:
		return nil, fmt.Errorf("listen for the sign-in redirect: %s is not a loopback host: register http://127.0.0.1/<path> or http://localhost", u.Hostname())
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(listenHost, "0"))
	if err != nil {
		return nil, fmt.Errorf("listen for the sign-in redirect: %w", err)
	}
	u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	return &Loopback{
		RedirectURI: u.String(),
		ln:          ln,
		results:     make(chan LoopbackResult, 1),
	}, nil
}

// Serve answers the browser's redirects in the background until Close.
// complete is the sign-in's own (AuthCodeSession.Complete, or a wrapper
// that redeems once): it reads the code and state, or the error=... of a
// refused sign-in, from the address. A redirect complete refuses as
// another sign-in's (ErrStateMismatch, ErrSignInComplete: an old tab, a
// favicon) gets a refusal page and the listener keeps waiting; the
// outcome of any other goes to Results, and the browser's page says it.
func (l *Loopback) Serve(complete func(ctx context.Context, redirected string) (*Token, error)) {
	l.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := complete(r.Context(), "?"+r.URL.RawQuery)
		switch {
		case errors.Is(err, ErrStateMismatch), errors.Is(err, ErrSignInComplete):
			http.Error(w, "This address does not belong to the sign-in modauth is waiting for.", http.StatusBadRequest)
			return
		case err != nil:
			first, _, _ := strings.Cut(err.Error(), "\n")
			http.Error(w, "Sign-in failed: "+first+"\nReturn to modauth for what to do.", http.StatusBadRequest)
		default:
			fmt.Fprintln(w, "Signed in. You can close this window and return to modauth.")
		}
		select {
		case l.results <- LoopbackResult{Token: tok, Err: err}:
		default:
		}
	})}
	go l.srv.Serve(l.ln)
}

// Results delivers the outcome of each redirect that was this sign-in's.
// One waits unread at most; a later one is dropped until it is read.
func (l *Loopback) Results() <-chan LoopbackResult { return l.results }

// Close stops the listener.
func (l *Loopback) Close() {
	if l.srv != nil {
		l.srv.Close()
		return
	}
	l.ln.Close()
}
