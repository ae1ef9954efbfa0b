package conn_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/store"
)

// The app's token is asked once however many ask at once, kept on the
// injected clock, and asked again only when less than five minutes are
// left.
func TestAppTokenIsAskedOnceOnTheClock(t *testing.T) {
	f, cn, _ := prepare(t, "moveit-app-only")
	var wg sync.WaitGroup
	tokens := make([]store.Secret, 8)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := cn.AppToken(testkit.Ctx(t), cn.Hosts().GraphResource)
			if err != nil {
				t.Error(err)
			}
			tokens[i] = tok
		}()
	}
	wg.Wait()
	if n := f.requests.Load(); n != 1 {
		t.Fatalf("%d token requests for 8 callers at once", n)
	}
	for _, tok := range tokens[1:] {
		if tok != tokens[0] {
			t.Fatal("callers got different tokens")
		}
	}
	// Tokens live 60 to 90 minutes: at 54 minutes every one has more
	// than five left; at 86 none has.
	f.sim.Clock.Advance(54 * time.Minute)
	if tok, _ := cn.AppToken(testkit.Ctx(t), cn.Hosts().GraphResource); tok != tokens[0] || f.requests.Load() != 1 {
		t.Errorf("asked again with more than five minutes left (%d requests)", f.requests.Load())
	}
	f.sim.Clock.Advance(32 * time.Minute)
	if tok, _ := cn.AppToken(testkit.Ctx(t), cn.Hosts().GraphResource); tok == tokens[0] || f.requests.Load() != 2 {
		t.Errorf("not renewed near its expiry (%d requests)", f.requests.Load())
	}
}

func TestProveSecret(t *testing.T) {
	f, cn, _ := prepare(t, "moveit-app-only")
	cs, err := cn.Secret()
	if err != nil {
		t.Fatal(err)
	}
	if err := cn.ProveSecret(testkit.Ctx(t), cs.Value); err != nil {
		t.Errorf("the app's secret: %v", err)
	}
	err = cn.ProveSecret(testkit.Ctx(t), "not the secret~value of this app")
	if err == nil || !strings.Contains(err.Error(), "7000215") {
		t.Errorf("a wrong secret: %v", err)
	}
	if n := f.requests.Load(); n != 2 {
		t.Errorf("%d token requests: a proof asks once and keeps nothing", n)
	}
}

// A user's token comes from their stored sign-in; the rotated refresh
// token is stored, with the scopes they consented to, before the access
// token is handed out, and the access token is then kept.
func TestUserTokenStoresTheRotationFirst(t *testing.T) {
	f, cn, u := prepare(t, "generic")
	signedIn := f.signIn(cn, u)
	f.requests.Store(0)

	tok, err := cn.UserToken(testkit.Ctx(t), u, cn.Audience(store.Graph))
	if err != nil || tok.IsZero() {
		t.Fatalf("token %v", err)
	}
	stored, err := f.db.Token(pid, u.Key)
	if err != nil {
		t.Fatal(err)
	}
	if stored.RefreshToken == signedIn.RefreshToken || stored.Refreshed.IsZero() || len(stored.Scopes) != len(signedIn.Scopes) {
		t.Errorf("stored %+v: want the rotated refresh token with the consented scopes", stored)
	}
	if again, _ := cn.UserToken(testkit.Ctx(t), u, cn.Audience(store.Graph)); again != tok || f.requests.Load() != 1 {
		t.Errorf("the access token was not kept (%d requests)", f.requests.Load())
	}

	// Renew (the monitor's way) refreshes from the stored sign-in it is
	// given and hands the rotation back to store; UserToken then has it.
	other := conn.New(cn.Profile(), f.deps())
	rotated, err := other.Renew(testkit.Ctx(t), u.Key, stored, cn.Audience(store.Graph))
	if err != nil || rotated == nil || rotated.RefreshToken == stored.RefreshToken {
		t.Fatalf("renew: %v, %+v", err, rotated)
	}
	if again, err := other.UserToken(testkit.Ctx(t), u, cn.Audience(store.Graph)); err != nil || f.requests.Load() != 2 {
		t.Errorf("a renewed token was asked again: %v (%d requests)", again, f.requests.Load())
	}
}

// A user without a stored sign-in is told to sign in, with no request.
func TestUserTokenWithoutSignIn(t *testing.T) {
	f, cn, u := prepare(t, "divalto")
	r := cn.Probe(testkit.Ctx(t), u, store.EWS)
	if r.OK || !strings.Contains(r.Message, "no sign-in is stored for "+anna) || !strings.Contains(r.Fix, "consent step") || f.requests.Load() != 0 {
		t.Errorf("%+v (%d requests)", r, f.requests.Load())
	}
}

// A server that echoes what it was sent puts no secret on the screen: a
// probe takes the tokens and the client secret it handled out of every
// line of its result.
func TestProbeRedactsWhatServersEcho(t *testing.T) {
	f, cn, u := prepare(t, "moveit-app-only")
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
			"code": "ErrorAccessDenied", "message": "denied for " + r.Header.Get("Authorization")}})
	}))
	defer echo.Close()
	p := cn.Profile()
	p.Hosts.Graph = echo.URL
	cn = conn.New(p, f.deps())
	cs, _ := cn.Secret()
	tok, err := cn.AppToken(testkit.Ctx(t), cn.Hosts().GraphResource)
	if err != nil {
		t.Fatal(err)
	}
	r := cn.Probe(testkit.Ctx(t), u, store.Graph)
	if r.OK || !strings.Contains(r.Message, "denied for Bearer [redacted]") {
		t.Fatalf("the echo did not come back redacted: %+v", r)
	}
	all := strings.Join(append([]string{r.Tried, r.Message, r.Meaning, r.Fix}, r.PowerShell...), "\n")
	for _, secret := range []store.Secret{tok, cs.Value} {
		if strings.Contains(all, secret.Reveal()) {
			t.Errorf("the result shows a secret:\n%s", all)
		}
	}
}
