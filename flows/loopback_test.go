package flows_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/modauth/modauth/flows"
)

// get fetches a loopback address the way the browser does after a sign-in.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// loopbackSession starts a sign-in whose redirect URI is lb's.
func loopbackSession(t *testing.T, e *env, lb *flows.Loopback) *flows.AuthCodeSession {
	t.Helper()
	s, err := e.c.StartAuthCode(flows.AuthCodeRequest{RedirectURI: lb.RedirectURI, Scopes: delegatedScopes, LoginHint: anna})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func noResult(t *testing.T, lb *flows.Loopback, after string) {
	t.Helper()
	select {
	case r := <-lb.Results():
		t.Errorf("after %s the listener gave a result: %+v", after, r)
	default:
	}
}

// A real GET to http://localhost:<port>: the listener hands the redirect's
// code and state to the sign-in, which redeems them; another sign-in's
// address and a second one for the finished sign-in are refused, and the
// listener goes on waiting.
func TestLoopbackRedeemsTheRedirect(t *testing.T) {
	e := newEnv(t)
	lb, err := flows.ListenLoopback()
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	if !strings.HasPrefix(lb.RedirectURI, "http://localhost:") || lb.RedirectURI == "http://localhost:0" {
		t.Fatalf("redirect URI %q, want http://localhost:<port>", lb.RedirectURI)
	}
	s := loopbackSession(t, e, lb)

	var mu sync.Mutex
	var got []url.Values
	done := false
	lb.Serve(func(ctx context.Context, redirected string) (*flows.Token, error) {
		mu.Lock()
		defer mu.Unlock()
		q, _ := url.ParseQuery(strings.TrimPrefix(redirected, "?"))
		got = append(got, q)
		if done {
			return nil, flows.ErrSignInComplete
		}
		tok, err := s.Complete(ctx, redirected)
		done = err == nil
		return tok, err
	})

	to, err := e.sim.SignIn(s.URL, anna)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(to, lb.RedirectURI+"/?") && !strings.HasPrefix(to, lb.RedirectURI+"?") {
		t.Fatalf("the sign-in ends on %q, not on the loopback %s", to, lb.RedirectURI)
	}
	if code, body := get(t, lb.RedirectURI+"/?code=stolen&state=forged"); code != http.StatusBadRequest || !strings.Contains(body, "does not belong") {
		t.Errorf("another sign-in's address: %d %q", code, body)
	}
	noResult(t, lb, "a forged state")

	if code, body := get(t, to); code != http.StatusOK || !strings.Contains(body, "Signed in") {
		t.Errorf("the sign-in's address: %d %q", code, body)
	}
	r := <-lb.Results()
	if r.Err != nil || r.Token == nil || r.Token.Identity.PreferredUsername != anna {
		t.Fatalf("result %+v", r)
	}
	want, _ := url.Parse(to)
	mu.Lock()
	last := got[len(got)-1]
	mu.Unlock()
	if last.Get("code") == "" || last.Get("code") != want.Query().Get("code") || last.Get("state") != want.Query().Get("state") {
		t.Errorf("the sign-in read code %q state %q, the browser brought %v", last.Get("code"), last.Get("state"), want.Query())
	}

	if code, body := get(t, to); code != http.StatusBadRequest || !strings.Contains(body, "does not belong") {
		t.Errorf("the finished sign-in's address again: %d %q", code, body)
	}
	noResult(t, lb, "a finished sign-in")

	lb.Close()
	if resp, err := http.Get(to); err == nil {
		resp.Body.Close()
		t.Error("the listener still answers after Close")
	}
}

// A refused sign-in comes back as error=... in the query: the browser is
// told it failed, and the sign-in reads the AADSTS error.
func TestLoopbackReadsAnErrorRedirect(t *testing.T) {
	e := newEnv(t)
	lb, err := flows.ListenLoopback()
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	s := loopbackSession(t, e, lb)
	lb.Serve(s.Complete)

	to, err := e.sim.SignInDeclining(s.URL, anna)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(to, "error=") {
		t.Fatalf("a declined sign-in ends on %q, with no error", to)
	}
	code, body := get(t, to)
	if code != http.StatusBadRequest || !strings.HasPrefix(body, "Sign-in failed: ") || !strings.Contains(body, "Return to modauth") || strings.Count(body, "\n") > 2 {
		t.Errorf("page %d %q", code, body)
	}
	r := <-lb.Results()
	wantKind(t, r.Err, flows.ErrConsentDeclined, 65004, "accept")
	if r.Token != nil {
		t.Errorf("a refused sign-in brought a token")
	}
}
