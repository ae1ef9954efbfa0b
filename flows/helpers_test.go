package flows_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

const (
	anna = "anna.devries@contoso.com"
	bram = "bjanssen@contoso.onmicrosoft.com"
)

// delegatedScopes are what a per-user IMAP/SMTP profile asks for.
var delegatedScopes = []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send", "openid", "profile", "offline_access", "User.Read"}

// env is a simulator and a client for its demo app. The client's sleeps
// advance the simulator's clock instead of waiting, and call onSleep.
type env struct {
	sim *m365sim.Sim
	c   *flows.Client

	mu      sync.Mutex
	sleeps  []time.Duration
	onSleep func(n int)
}

func newEnv(t *testing.T, mod ...func(*flows.Config)) *env {
	t.Helper()
	e := &env{sim: m365sim.Start(t, m365sim.Options{})}
	e.c = e.client(t, mod...)
	return e
}

func (e *env) client(t *testing.T, mod ...func(*flows.Config)) *flows.Client {
	t.Helper()
	cfg := flows.Config{
		Authority:  e.sim.URL,
		Tenant:     "contoso.com",
		ClientID:   e.sim.App.ClientID,
		HTTPClient: e.sim.HTTPClient(),
		Now:        e.sim.Clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			e.mu.Lock()
			e.sleeps = append(e.sleeps, d)
			n, f := len(e.sleeps), e.onSleep
			e.mu.Unlock()
			e.sim.Clock.Advance(d)
			if f != nil {
				f(n)
			}
			return ctx.Err()
		},
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := flows.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("flows.New: %v", err)
	}
	return c
}

// signInLoopback signs upn in through the loopback listener, the way a
// browser on the same machine would.
func (e *env) signInLoopback(t *testing.T, upn string) (*flows.Token, error) {
	t.Helper()
	return e.c.SignInLoopback(testkit.Ctx(t), flows.AuthCodeRequest{Scopes: delegatedScopes, LoginHint: upn}, e.browser(t, upn))
}

// browser is an open func for SignInLoopback: it signs upn in on the
// simulator's page and follows the redirect, as a browser would.
func (e *env) browser(t *testing.T, upn string) func(u string) error {
	return func(u string) error {
		go func() {
			to, err := e.sim.SignIn(u, upn)
			if err != nil {
				t.Errorf("sign-in page: %v", err)
				return
			}
			if resp, err := http.Get(to); err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	}
}

// signInDevice signs upn in by device code, approving on the first poll.
func (e *env) signInDevice(t *testing.T, upn string) *flows.Token {
	t.Helper()
	dc, err := e.c.StartDeviceCode(testkit.Ctx(t), delegatedScopes)
	if err != nil {
		t.Fatalf("start device code: %v", err)
	}
	e.onSleep = func(n int) {
		if n == 1 {
			if err := e.sim.ApproveDevice(dc.UserCode, upn); err != nil {
				t.Errorf("approve: %v", err)
			}
		}
	}
	defer func() { e.onSleep = nil }()
	tok, err := e.c.PollDeviceCode(testkit.Ctx(t), dc)
	if err != nil {
		t.Fatalf("device sign-in: %v", err)
	}
	return tok
}

// wantKind checks that err is a flows.Error of the sentinel's kind, with
// the AADSTS code and a fix that mentions hint.
func wantKind(t *testing.T, err error, sentinel error, code int, hint string) *flows.Error {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v: want %v", err, sentinel)
	}
	var e *flows.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a *flows.Error", err)
	}
	if code != 0 && e.Code() != code {
		t.Errorf("code %d, want %d", e.Code(), code)
	}
	if !strings.Contains(strings.ToLower(e.Fix()), strings.ToLower(hint)) {
		t.Errorf("fix %q does not mention %q", e.Fix(), hint)
	}
	return e
}

func stored(t *flows.Token) store.Token { return t.Stored() }
