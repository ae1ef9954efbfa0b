package flows_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// plainScopes are what a client of a standard provider asks for.
var plainScopes = []string{"openid", "email", "offline_access", "User.Read"}

// plainCallback is the loopback redirect registered in plain mode: a
// literal address with a path, and no port.
const plainCallback = "http://127.0.0.1/callback"

// formRecorder keeps the forms the client posted, by path and in order:
// what the simulator received.
type formRecorder struct {
	next  http.RoundTripper
	mu    sync.Mutex
	forms map[string][]url.Values
	all   []url.Values
}

func (f *formRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		q, _ := url.ParseQuery(string(body))
		f.mu.Lock()
		if f.forms == nil {
			f.forms = map[string][]url.Values{}
		}
		f.forms[r.URL.Path] = append(f.forms[r.URL.Path], q)
		f.all = append(f.all, q)
		f.mu.Unlock()
	}
	return f.next.RoundTrip(r)
}

func (f *formRecorder) last(t *testing.T, path string) url.Values {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	got := f.forms[path]
	if len(got) == 0 {
		t.Fatalf("nothing was posted to %s", path)
	}
	return got[len(got)-1]
}

// newPlainEnv is newEnv against the simulator in plain OIDC mode, found
// by its issuer (with a trailing slash, which must not matter), with
// plainCallback registered and the client's posts recorded.
func newPlainEnv(t *testing.T, mod ...func(*flows.Config)) (*env, *formRecorder) {
	t.Helper()
	e := &env{sim: m365sim.Start(t, m365sim.Options{PlainOIDC: true})}
	e.sim.App.PublicRedirectURIs = append(e.sim.App.PublicRedirectURIs, plainCallback)
	base := e.sim.HTTPClient()
	next := base.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	rec := &formRecorder{next: next, forms: map[string][]url.Values{}}
	hc := *base
	hc.Transport = rec
	plain := func(c *flows.Config) {
		c.Authority, c.Tenant, c.Issuer = "", "", e.sim.PlainIssuer()+"/"
		c.HTTPClient = &hc
	}
	e.c = e.client(t, append([]func(*flows.Config){plain}, mod...)...)
	return e, rec
}

func TestPlainDiscoveryByIssuer(t *testing.T) {
	e, _ := newPlainEnv(t)
	ep := e.c.Endpoints()
	if ep.Issuer != e.sim.PlainIssuer() || ep.Token != e.sim.PlainIssuer()+"/token" || ep.DeviceAuthorization != e.sim.PlainIssuer()+"/device" {
		t.Fatalf("endpoints %+v: want the plain issuer's", ep)
	}

	e.sim.SetPlainDiscoveryIssuer("https://evil.example/oidc")
	_, err := flows.New(testkit.Ctx(t), flows.Config{Issuer: e.sim.PlainIssuer(), ClientID: e.sim.App.ClientID, HTTPClient: e.sim.HTTPClient(), Now: e.sim.Clock.Now})
	if err == nil || !strings.Contains(err.Error(), `names issuer "https://evil.example/oidc"`) {
		t.Fatalf("discovery naming another issuer: %v, want it refused", err)
	}
}

// plainSignIn signs upn in through a loopback listener for plainCallback.
func plainSignIn(t *testing.T, e *env, upn string) *flows.Token {
	t.Helper()
	var redirect *url.URL
	tok, err := e.c.SignInLoopback(testkit.Ctx(t), flows.AuthCodeRequest{RedirectURI: plainCallback, Scopes: plainScopes}, func(u string) error {
		au, err := url.Parse(u)
		if err != nil {
			return err
		}
		redirect, _ = url.Parse(au.Query().Get("redirect_uri"))
		return e.browser(t, upn)(u)
	})
	if err != nil {
		t.Fatalf("loopback sign-in: %v", err)
	}
	if redirect.Hostname() != "127.0.0.1" || redirect.Path != "/callback" || redirect.Port() == "" {
		t.Errorf("redirect_uri %s: want the registered %s with a port", redirect, plainCallback)
	}
	return tok
}

func TestPlainAuthCodeLoopbackWithPath(t *testing.T) {
	e, _ := newPlainEnv(t)
	tok := plainSignIn(t, e, anna)
	id := tok.Identity
	if id == nil || id.ObjectID == "" || id.TenantID != e.sim.PlainIssuer() || id.PreferredUsername != anna {
		t.Fatalf("identity %+v: want sub as object ID, the issuer as tenant, the email as username", id)
	}
	if err := flows.CheckAccount(id, store.User{UPN: anna}); err != nil {
		t.Errorf("check by email: %v", err)
	}
	if err := flows.CheckAccount(id, store.User{UPN: anna, ObjectID: id.ObjectID}); err != nil {
		t.Errorf("check by sub: %v", err)
	}
	var wrong *flows.WrongAccountError
	if err := flows.CheckAccount(id, store.User{UPN: bram}); !errors.As(err, &wrong) || wrong.Got != anna {
		t.Errorf("check as another user: %v, want a WrongAccountError naming %s", err, anna)
	}
}

func TestPlainCheckAccountSubOnly(t *testing.T) {
	e, _ := newPlainEnv(t)
	// Without the email scope the token carries sub alone.
	tok, err := e.c.SignInLoopback(testkit.Ctx(t), flows.AuthCodeRequest{RedirectURI: plainCallback, Scopes: []string{"openid", "User.Read"}}, e.browser(t, anna))
	if err != nil {
		t.Fatalf("loopback sign-in: %v", err)
	}
	id := tok.Identity
	if id == nil || id.ObjectID == "" || id.PreferredUsername != "" {
		t.Fatalf("identity %+v: want sub only", id)
	}
	if err := flows.CheckAccount(id, store.User{UPN: anna, ObjectID: id.ObjectID}); err != nil {
		t.Errorf("check by sub: %v", err)
	}
	var wrong *flows.WrongAccountError
	if err := flows.CheckAccount(id, store.User{UPN: anna, ObjectID: "someone-else"}); !errors.As(err, &wrong) || !strings.Contains(wrong.Got, id.ObjectID) {
		t.Errorf("check against another sub: %v, want a WrongAccountError naming the subject", err)
	}
	err = flows.CheckAccount(&store.Identity{TenantID: e.sim.PlainIssuer()}, store.User{UPN: anna})
	if !errors.Is(err, flows.ErrNoUserInToken) || !strings.Contains(err.Error(), "names no user") {
		t.Errorf("token naming no user: %v, want ErrNoUserInToken", err)
	}
}

func TestPlainPreflight(t *testing.T) {
	e, _ := newPlainEnv(t)
	ok, err := e.c.StartAuthCode(flows.AuthCodeRequest{RedirectURI: "http://127.0.0.1:4711/callback", Scopes: plainScopes})
	if err != nil {
		t.Fatal(err)
	}
	if err := ok.Preflight(testkit.Ctx(t)); err != nil {
		t.Fatalf("preflight of a good request: %v", err)
	}

	// A redirect URI that is not registered: a 4xx page without AADSTS text.
	bad, _ := e.c.StartAuthCode(flows.AuthCodeRequest{RedirectURI: "http://127.0.0.1:4711/elsewhere", Scopes: plainScopes})
	err = bad.Preflight(testkit.Ctx(t))
	var fe *flows.Error
	if !errors.As(err, &fe) || !strings.Contains(fe.Description, "400") || !strings.Contains(fe.Description, "redirect URI") {
		t.Fatalf("preflight of an unregistered redirect: %v, want the page's error", err)
	}

	// An unknown scope: the provider redirects back with error=.
	scoped, _ := e.c.StartAuthCode(flows.AuthCodeRequest{RedirectURI: plainCallback, Scopes: []string{"openid", "https://outlook.office.com/No.Such.Scope"}})
	err = scoped.Preflight(testkit.Ctx(t))
	if !errors.As(err, &fe) || fe.Err != "invalid_scope" || !strings.Contains(fe.Description, "No.Such.Scope") {
		t.Fatalf("preflight of an unknown scope: %v, want the redirect's invalid_scope", err)
	}
}

func TestPlainDeviceConfidential(t *testing.T) {
	e, rec := newPlainEnv(t)
	e.sim.App.FallbackPublicClient = false // a confidential device client
	sec := e.sim.AddSecret(e.sim.App, 24*time.Hour)

	dc, err := e.c.StartDeviceCode(testkit.Ctx(t), plainScopes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.PollDeviceCode(testkit.Ctx(t), dc); err == nil || !strings.Contains(err.Error(), "7000218") {
		t.Fatalf("public poll of a confidential client: %v, want 7000218", err)
	}

	e.c = e.client(t, func(c *flows.Config) {
		c.Authority, c.Tenant, c.Issuer = "", "", e.sim.PlainIssuer()
		c.HTTPClient = &http.Client{Transport: rec}
		c.ClientSecret, c.DeviceConfidential = store.Secret(sec.Value), true
	})
	e.sleeps = nil // signInDevice approves on the first sleep
	tok := e.signInDevice(t, anna)
	if !tok.Confidential || !tok.ViaDevice || tok.Identity == nil || tok.Identity.ObjectID == "" {
		t.Fatalf("token %+v: want a confidential device sign-in of %s", tok, anna)
	}
	for _, path := range []string{"/oidc/device", "/oidc/token"} {
		if got := rec.last(t, path).Get("client_secret"); got != sec.Value {
			t.Errorf("%s received client_secret %q, want the secret", path, got)
		}
	}
	// Its refresh token is the confidential client's: refreshing needs the secret too.
	if _, err := e.c.Refresh(testkit.Ctx(t), tok.Stored()); err != nil {
		t.Fatalf("refresh: %v", err)
	}
}

func TestPlainRefreshSendsGrantedScopes(t *testing.T) {
	e, rec := newPlainEnv(t)
	tok := plainSignIn(t, e, anna)
	if len(tok.Scopes) == 0 {
		t.Fatal("the sign-in granted no scopes")
	}
	if _, err := e.c.Refresh(testkit.Ctx(t), tok.Stored()); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	form := rec.last(t, "/oidc/token")
	if form.Get("grant_type") != "refresh_token" || form.Get("scope") != strings.Join(tok.Scopes, " ") {
		t.Errorf("refresh sent grant %q scope %q, want the granted %q", form.Get("grant_type"), form.Get("scope"), strings.Join(tok.Scopes, " "))
	}
}

func TestListenLoopbackAtKeepsHostAndPath(t *testing.T) {
	lb, err := flows.ListenLoopbackAt("http://localhost:8400/oauth/cb")
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	u, err := url.Parse(lb.RedirectURI)
	if err != nil || u.Hostname() != "localhost" || u.Path != "/oauth/cb" || u.Port() == "" || u.Port() == "8400" {
		t.Fatalf("redirect URI %q: want http://localhost:<free port>/oauth/cb", lb.RedirectURI)
	}
	lb.Serve(func(ctx context.Context, redirected string) (*flows.Token, error) { return nil, flows.ErrStateMismatch })
	// localhost is served on 127.0.0.1.
	code, _ := get(t, "http://127.0.0.1:"+u.Port()+"/oauth/cb?state=x")
	if code != http.StatusBadRequest {
		t.Errorf("the listener on 127.0.0.1 answered %d, want the refusal page", code)
	}

	if _, err := flows.ListenLoopbackAt("https://app.example.com/cb"); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("a non-loopback redirect: %v, want it refused", err)
	}
}
