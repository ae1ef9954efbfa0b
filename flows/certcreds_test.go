package flows_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
)

// assertionPart decodes part i (0 header, 1 claims) of the assertion in form.
func assertionPart(t *testing.T, form url.Values, i int) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(form.Get("client_assertion"), ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// certEnv is an app-only app with an uploaded certificate, and a client
// that signs in with it and records what it posts.
func certEnv(t *testing.T) (*env, *m365sim.App, *flows.ClientCertificate, *formRecorder, *flows.Client) {
	t.Helper()
	e := newEnv(t)
	app, _ := appOnly(t, e)
	cert, key, err := flows.NewCertificate("CN=modauth", 365*24*time.Hour, e.sim.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.UploadCertificate(app, cert.Raw, "modauth"); err != nil {
		t.Fatal(err)
	}
	cc := &flows.ClientCertificate{Cert: cert, Key: key}
	hc := e.sim.HTTPClient()
	rec := &formRecorder{next: hc.Transport}
	if rec.next == nil {
		rec.next = http.DefaultTransport
	}
	c := e.client(t, func(c *flows.Config) {
		c.ClientID, c.Certificate = app.ClientID, cc
		c.HTTPClient = &http.Client{Transport: rec, Timeout: hc.Timeout}
	})
	return e, app, cc, rec, c
}

func TestClientCredentialsCertificate(t *testing.T) {
	e, app, _, rec, c := certEnv(t)
	tok, err := c.ClientCredentials(testkit.Ctx(t), "https://outlook.office365.com")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken.IsZero() || !tok.Confidential {
		t.Errorf("token %+v", tok)
	}
	if len(rec.all) != 1 {
		t.Fatalf("%d token requests, want 1 (PS256 taken)", len(rec.all))
	}
	f := rec.all[0]
	h, cl := assertionPart(t, f, 0), assertionPart(t, f, 1)
	t.Logf("assertion header %v claims %v", h, cl)
	if f.Get("client_assertion_type") != flows.AssertionType || f.Has("client_secret") || h["alg"] != "PS256" || h["x5t#S256"] == nil {
		t.Errorf("form %v header %v", f, h)
	}
	if cl["aud"] != c.Endpoints().Token || cl["exp"] != float64(e.sim.Clock.Now().Add(10*time.Minute).Unix()) {
		t.Errorf("claims %v", cl)
	}

	// The sign-in log names the certificate, as Entra's does.
	var logged []string
	for _, si := range e.sim.SignIns() {
		if si.AppID == app.ClientID && si.ErrorCode == 0 {
			logged = append(logged, si.ClientCredentialType+" "+si.CredentialKeyID)
		}
	}
	if len(logged) != 1 || !strings.HasPrefix(logged[0], "certificate ") || logged[0] == "certificate " {
		t.Errorf("sign-ins logged %q, want one certificate sign-in with its keyId", logged)
	}

	// The same assertion again is a replay.
	resp, err := e.sim.HTTPClient().PostForm(c.Endpoints().Token, f)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if e := flows.ParseError(resp.StatusCode, body); e.Code() != 50013 {
		t.Errorf("replayed assertion: HTTP %d, AADSTS%d, want AADSTS50013", resp.StatusCode, e.Code())
	}
}

func TestClientCredentialsCertificateFallsBackToRS256(t *testing.T) {
	e, app, _, rec, c := certEnv(t)
	e.sim.RefusePS256(app)
	if _, err := c.ClientCredentials(testkit.Ctx(t), "https://outlook.office365.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClientCredentials(testkit.Ctx(t), "https://graph.microsoft.com"); err != nil {
		t.Fatal(err)
	}
	var algs []string
	for _, f := range rec.all {
		h := assertionPart(t, f, 0)
		algs = append(algs, h["alg"].(string))
		if h["alg"] == "RS256" && h["x5t"] == nil {
			t.Errorf("RS256 header without x5t: %v", h)
		}
	}
	// PS256 refused, RS256 taken, and RS256 straight away the next time.
	if strings.Join(algs, " ") != "PS256 RS256 RS256" {
		t.Errorf("algorithms sent %v", algs)
	}
}

func TestClientCredentialsCertificateRefused(t *testing.T) {
	e, app, cc, _, c := certEnv(t)
	// A certificate the app does not know.
	other, key, err := flows.NewCertificate("CN=other", 24*time.Hour, e.sim.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	foreign := e.client(t, func(f *flows.Config) {
		f.ClientID, f.Certificate = app.ClientID, &flows.ClientCertificate{Cert: other, Key: key}
	})
	_, err = foreign.ClientCredentials(testkit.Ctx(t), "https://outlook.office365.com")
	wantKind(t, err, flows.ErrInvalidSecret, 700027, "upload the public part")

	// The app's certificate signed with another key.
	forged := e.client(t, func(f *flows.Config) {
		f.ClientID, f.Certificate = app.ClientID, &flows.ClientCertificate{Cert: cc.Cert, Key: key}
	})
	_, err = forged.ClientCredentials(testkit.Ctx(t), "https://outlook.office365.com")
	wantKind(t, err, flows.ErrInvalidSecret, 700027, "thumbprint")

	// A clock far behind: the assertion expired before it was sent.
	behind := e.client(t, func(f *flows.Config) {
		f.ClientID, f.Certificate = app.ClientID, cc
		f.Now = func() time.Time { return e.sim.Clock.Now().Add(-time.Hour) }
	})
	_, err = behind.ClientCredentials(testkit.Ctx(t), "https://outlook.office365.com")
	wantKind(t, err, flows.ErrInvalidSecret, 700024, "clock")

	// The certificate expired.
	e.sim.Clock.Advance(366 * 24 * time.Hour)
	_, err = c.ClientCredentials(testkit.Ctx(t), "https://outlook.office365.com")
	if fe := wantKind(t, err, flows.ErrInvalidSecret, 700027, "certificate"); !strings.Contains(fe.Description, "expired") {
		t.Errorf("description %q does not say the key expired", fe.Description)
	}
}
