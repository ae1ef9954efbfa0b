package flows_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

func TestDiscoveryUnknownTenant(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	_, err := flows.New(testkit.Ctx(t), flows.Config{Authority: s.URL, Tenant: "fabrikam.com", ClientID: s.App.ClientID})
	wantKind(t, err, flows.ErrTenantNotFound, 90002, "tenant")
}

func TestDiscoveryByGUIDAndDomainAgree(t *testing.T) {
	e := newEnv(t)
	byID := e.client(t, func(c *flows.Config) { c.Tenant = e.sim.Tenant.ID })
	if e.c.Endpoints() != byID.Endpoints() {
		t.Errorf("domain %+v\nGUID %+v", e.c.Endpoints(), byID.Endpoints())
	}
	if !strings.HasSuffix(byID.Endpoints().DeviceAuthorization, "/oauth2/v2.0/devicecode") {
		t.Errorf("device endpoint %q", byID.Endpoints().DeviceAuthorization)
	}
}

func TestAuthCodeLoopback(t *testing.T) {
	e := newEnv(t)
	tok, err := e.signInLoopback(t, anna)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Identity == nil || tok.Identity.PreferredUsername != anna || tok.Identity.TenantID != e.sim.Tenant.ID {
		t.Errorf("identity %+v", tok.Identity)
	}
	if tok.AccessToken.IsZero() || tok.RefreshToken.IsZero() || tok.Confidential || tok.ViaDevice {
		t.Errorf("token %+v", tok)
	}
	if !slices.Contains(tok.Scopes, "https://outlook.office.com/IMAP.AccessAsUser.All") {
		t.Errorf("scopes %v", tok.Scopes)
	}
	claims, err := flows.ParseClaims(tok.AccessToken.Reveal())
	if err != nil || claims.Aud != "https://outlook.office.com" || !strings.Contains(claims.Scp, "SMTP.Send") {
		t.Errorf("access token claims %+v %v", claims, err)
	}
	if d := tok.Expiry.Sub(e.sim.Clock.Now()); d < 59*time.Minute || d > 90*time.Minute {
		t.Errorf("expires in %v", d)
	}
}

// The loopback listener ignores a redirect with another state (a stale tab
// or a forgery) and completes with the right one.
func TestAuthCodeLoopbackRefusesWrongState(t *testing.T) {
	e := newEnv(t)
	var forged int
	tok, err := e.c.SignInLoopback(testkit.Ctx(t), flows.AuthCodeRequest{Scopes: delegatedScopes}, func(u string) error {
		go func() {
			to, _ := e.sim.SignIn(u, anna)
			base, _, _ := strings.Cut(to, "?")
			if resp, err := http.Get(base + "?code=stolen&state=forged"); err == nil {
				forged = resp.StatusCode
				resp.Body.Close()
			}
			if resp, err := http.Get(to); err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if forged != http.StatusBadRequest || tok.Identity.PreferredUsername != anna {
		t.Errorf("forged request got %d; identity %+v", forged, tok.Identity)
	}
}

// The SSH case: the product's own (Web) redirect URI; the person pastes the
// address the browser ends on.
func TestAuthCodePasteBack(t *testing.T) {
	e := newEnv(t)
	sec := e.sim.AddSecret(e.sim.App, 24*time.Hour)
	c := e.client(t, func(c *flows.Config) { c.ClientSecret = store.Secret(sec.Value) })
	req := flows.AuthCodeRequest{RedirectURI: "https://crm.example.com/oauth/callback", Scopes: delegatedScopes, Confidential: true}

	s, err := c.StartAuthCode(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Preflight(testkit.Ctx(t)); err != nil {
		t.Fatalf("preflight: %v", err)
	}
	to, err := e.sim.SignIn(s.URL, anna)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := c.StartAuthCode(req)
	if _, err := other.Complete(testkit.Ctx(t), to); !errors.Is(err, flows.ErrStateMismatch) {
		t.Errorf("another session's address: %v, want ErrStateMismatch", err)
	}
	tok, err := s.Complete(testkit.Ctx(t), "  \""+to+"\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Confidential || tok.Identity.PreferredUsername != anna {
		t.Errorf("token %+v identity %+v", tok, tok.Identity)
	}
	if _, err := s.Complete(testkit.Ctx(t), to); err == nil {
		t.Error("a code must not redeem twice")
	}
}

func TestAuthCodeRedirectMismatchCaughtByPreflight(t *testing.T) {
	e := newEnv(t)
	s, err := e.c.StartAuthCode(flows.AuthCodeRequest{RedirectURI: "http://127.0.0.1:8400", Scopes: delegatedScopes})
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.Preflight(testkit.Ctx(t)), flows.ErrRedirectMismatch, 50011, "redirect")
}

func TestAuthCodeConsentDeclinedAndAdminOnly(t *testing.T) {
	e := newEnv(t)
	s, _ := e.c.StartAuthCode(flows.AuthCodeRequest{RedirectURI: "http://localhost", Scopes: delegatedScopes})
	to, err := e.sim.SignInDeclining(s.URL, anna)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Complete(testkit.Ctx(t), to)
	wantKind(t, err, flows.ErrConsentDeclined, 65004, "accept")

	s, _ = e.c.StartAuthCode(flows.AuthCodeRequest{RedirectURI: "http://localhost", Scopes: []string{"User.Read.All", "openid"}})
	to, _ = e.sim.SignIn(s.URL, anna)
	_, err = s.Complete(testkit.Ctx(t), to)
	wantKind(t, err, flows.ErrAdminConsentRequired, 90094, "admin")
}

func TestWrongAccount(t *testing.T) {
	e := newEnv(t)
	tok, err := e.signInLoopback(t, bram)
	if err != nil {
		t.Fatal(err)
	}
	want := store.User{Key: "AV", Account: anna, UPN: anna}
	err = flows.CheckAccount(tok.Identity, want)
	var wa *flows.WrongAccountError
	if !errors.As(err, &wa) || wa.Expected != anna || wa.Got != bram {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(err.Error(), anna) || !strings.Contains(err.Error(), bram) {
		t.Errorf("message names not both accounts: %v", err)
	}
	annaUser := e.sim.Tenant.User(anna)
	tok, _ = e.signInLoopback(t, anna)
	if err := flows.CheckAccount(tok.Identity, store.User{UPN: "old.name@contoso.com", ObjectID: annaUser.ObjectID}); err != nil {
		t.Errorf("object ID match must win over a stale UPN: %v", err)
	}
}

func TestDeviceCodeApproved(t *testing.T) {
	e := newEnv(t)
	dc, err := e.c.StartDeviceCode(testkit.Ctx(t), delegatedScopes)
	if err != nil {
		t.Fatal(err)
	}
	if dc.UserCode == "" || !strings.HasSuffix(dc.VerificationURI, "/devicelogin") || !strings.Contains(dc.Message, dc.UserCode) || dc.Interval != 5*time.Second {
		t.Errorf("device code %+v", dc)
	}
	if d := dc.ExpiresAt.Sub(e.sim.Clock.Now()); d < 14*time.Minute || d > 15*time.Minute {
		t.Errorf("expires in %v", d)
	}
	e.onSleep = func(n int) {
		if n == 3 {
			if err := e.sim.ApproveDevice(dc.UserCode, anna); err != nil {
				t.Error(err)
			}
		}
	}
	tok, err := e.c.PollDeviceCode(testkit.Ctx(t), dc)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.ViaDevice || tok.Identity.PreferredUsername != anna || tok.RefreshToken.IsZero() {
		t.Errorf("token %+v", tok)
	}
	if polls := e.sim.Requests("/token"); polls != 3 {
		t.Errorf("%d polls, want 3 (two pending, one success)", polls)
	}
	for _, d := range e.sleeps {
		if d != 5*time.Second {
			t.Errorf("slept %v, want the announced 5s", d)
		}
	}
}

func TestDeviceCodeSlowDown(t *testing.T) {
	e := newEnv(t)
	dc, _ := e.c.StartDeviceCode(testkit.Ctx(t), delegatedScopes)
	e.sim.SlowDownNext(1)
	e.onSleep = func(n int) {
		if n == 2 {
			e.sim.ApproveDevice(dc.UserCode, anna)
		}
	}
	if _, err := e.c.PollDeviceCode(testkit.Ctx(t), dc); err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{5 * time.Second, 10 * time.Second}; !slices.Equal(e.sleeps, want) {
		t.Errorf("sleeps %v, want %v", e.sleeps, want)
	}
}

func TestDeviceCodeDeclined(t *testing.T) {
	e := newEnv(t)
	dc, _ := e.c.StartDeviceCode(testkit.Ctx(t), delegatedScopes)
	e.onSleep = func(n int) {
		if n == 1 {
			e.sim.DeclineDevice(dc.UserCode)
		}
	}
	_, err := e.c.PollDeviceCode(testkit.Ctx(t), dc)
	wantKind(t, err, flows.ErrDeclined, 0, "start it again")
}

func TestDeviceCodeExpired(t *testing.T) {
	e := newEnv(t)
	dc, _ := e.c.StartDeviceCode(testkit.Ctx(t), delegatedScopes)
	_, err := e.c.PollDeviceCode(testkit.Ctx(t), dc)
	wantKind(t, err, flows.ErrExpired, 70019, "again")
	if n := len(e.sleeps); n < 180 || n > 182 {
		t.Errorf("%d polls over 15 minutes at 5s", n)
	}
}

func TestDeviceCodeCancelled(t *testing.T) {
	e := newEnv(t)
	dc, _ := e.c.StartDeviceCode(testkit.Ctx(t), delegatedScopes)
	c, cancel := contextWithCancel(t)
	e.onSleep = func(n int) {
		if n == 2 {
			cancel()
		}
	}
	_, err := e.c.PollDeviceCode(c, dc)
	if !errors.Is(err, errCanceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func TestDeviceCodeWithoutPublicClientFlows(t *testing.T) {
	e := newEnv(t)
	app := e.sim.RegisterApp(e.sim.Tenant, m365sim.AppSpec{DisplayName: "no public flows", PublicRedirectURIs: []string{"http://localhost"}, Required: []string{"SMTP.Send", "offline_access"}})
	c := e.client(t, func(c *flows.Config) { c.ClientID = app.ClientID })
	dc, err := c.StartDeviceCode(testkit.Ctx(t), delegatedScopes)
	if err != nil {
		t.Fatal(err)
	}
	e.sim.ApproveDevice(dc.UserCode, anna)
	_, err = c.PollDeviceCode(testkit.Ctx(t), dc)
	wantKind(t, err, flows.ErrPublicClientOff, 7000218, "allow public client flows")
}

func TestDeviceCodeBlockedByConditionalAccess(t *testing.T) {
	e := newEnv(t)
	e.sim.BlockDeviceCode(true)
	dc, _ := e.c.StartDeviceCode(testkit.Ctx(t), delegatedScopes)
	if err := e.sim.ApproveDevice(dc.UserCode, anna); err == nil {
		t.Fatal("approve must fail while device code is blocked")
	}
	_, err := e.c.PollDeviceCode(testkit.Ctx(t), dc)
	wantKind(t, err, flows.ErrBlockedByPolicy, 53003, "browser")
}

func TestDeviceCodeRidesOutThrottling(t *testing.T) {
	e := newEnv(t)
	dc, _ := e.c.StartDeviceCode(testkit.Ctx(t), delegatedScopes)
	e.sim.Throttle("/token", 1, 30*time.Second)
	e.onSleep = func(n int) {
		if n == 2 {
			e.sim.ApproveDevice(dc.UserCode, anna)
		}
	}
	if _, err := e.c.PollDeviceCode(testkit.Ctx(t), dc); err != nil {
		t.Fatal(err)
	}
	if len(e.sleeps) < 2 || e.sleeps[1] != 30*time.Second {
		t.Errorf("sleeps %v: want Retry-After honoured", e.sleeps)
	}
}

func appOnly(t *testing.T, e *env) (*m365sim.App, m365sim.PasswordCredential) {
	app := e.sim.RegisterApp(e.sim.Tenant, m365sim.AppSpec{DisplayName: "moveIT (production)", Required: []string{"role:full_access_as_app", "role:Mail.Send"}})
	sec := e.sim.AddSecret(app, 180*24*time.Hour)
	e.sim.GrantAdminConsent(e.sim.Tenant, app)
	return app, sec
}

func TestClientCredentials(t *testing.T) {
	e := newEnv(t)
	app, sec := appOnly(t, e)
	c := e.client(t, func(c *flows.Config) { c.ClientID, c.ClientSecret = app.ClientID, store.Secret(sec.Value) })
	tok, err := c.ClientCredentials(testkit.Ctx(t), "https://outlook.office365.com")
	if err != nil {
		t.Fatal(err)
	}
	if d := tok.Expiry.Sub(e.sim.Clock.Now()); d < 59*time.Minute || d > 90*time.Minute {
		t.Errorf("app-only token expires in %v, want 60-90 minutes on the simulated clock", d)
	}
	claims, _ := flows.ParseClaims(tok.AccessToken.Reveal())
	if !slices.Contains(claims.Roles, "full_access_as_app") || slices.Contains(claims.Roles, "Mail.Send") || !tok.RefreshToken.IsZero() {
		t.Errorf("roles %v (Mail.Send is a Graph role), refresh %q", claims.Roles, tok.RefreshToken)
	}
	g, err := c.ClientCredentials(testkit.Ctx(t), "https://graph.microsoft.com/")
	if err != nil {
		t.Fatal(err)
	}
	if claims, _ := flows.ParseClaims(g.AccessToken.Reveal()); !slices.Equal(claims.Roles, []string{"Mail.Send"}) {
		t.Errorf("graph roles %v", claims.Roles)
	}
}

func TestClientCredentialsSecretFaults(t *testing.T) {
	e := newEnv(t)
	app, sec := appOnly(t, e)
	with := func(secret string) *flows.Client {
		return e.client(t, func(c *flows.Config) { c.ClientID, c.ClientSecret = app.ClientID, store.Secret(secret) })
	}
	_, err := with(sec.KeyID).ClientCredentials(testkit.Ctx(t), "https://outlook.office365.com")
	wantKind(t, err, flows.ErrInvalidSecret, 7000215, "secret id")
	_, err = with("not-the-secret").ClientCredentials(testkit.Ctx(t), "https://outlook.office365.com")
	wantKind(t, err, flows.ErrInvalidSecret, 7000215, "value")

	e.sim.ExpireSecret(app, sec.KeyID)
	_, err = with(sec.Value).ClientCredentials(testkit.Ctx(t), "https://outlook.office365.com")
	wantKind(t, err, flows.ErrSecretExpired, 7000222, "create a new client secret")
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t)
	first := e.signInDevice(t, anna)
	e.sim.Clock.Advance(2 * time.Hour)

	second, err := e.c.Refresh(testkit.Ctx(t), stored(first))
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == first.RefreshToken || second.RefreshToken.IsZero() {
		t.Fatal("refresh must hand back a rotated refresh token")
	}
	if !second.ViaDevice || !second.Issued.Equal(first.Issued) || second.Refreshed.Before(first.Issued.Add(2*time.Hour)) {
		t.Errorf("carried metadata: %+v", second.Stored())
	}
	// One refresh token serves Exchange and Graph.
	g, err := e.c.Refresh(testkit.Ctx(t), stored(second), "https://graph.microsoft.com/User.Read")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := flows.ParseClaims(g.AccessToken.Reveal()); c.Aud != "https://graph.microsoft.com" {
		t.Errorf("graph aud %q", c.Aud)
	}
	// The replaced token still works for a while (a crash between receiving
	// and storing the new one loses nothing), then no more.
	if _, err := e.c.Refresh(testkit.Ctx(t), stored(first)); err != nil {
		t.Errorf("old token within grace: %v", err)
	}
	e.sim.Clock.Advance(25 * time.Hour)
	_, err = e.c.Refresh(testkit.Ctx(t), stored(first))
	wantKind(t, err, flows.ErrSignInNeeded, 70000, "sign")
}

func TestRefreshFaults(t *testing.T) {
	cases := []struct {
		name     string
		fault    func(e *env, u *m365sim.User)
		sentinel error
		code     int
		hint     string
	}{
		{"sessions revoked", func(e *env, u *m365sim.User) { e.sim.RevokeSessions(u) }, flows.ErrSignInNeeded, 50173, "sign"},
		{"90 days unused", func(e *env, u *m365sim.User) { e.sim.AgeRefreshTokens(u, 91*24*time.Hour) }, flows.ErrSignInNeeded, 700082, "90"},
		{"MFA now required", func(e *env, u *m365sim.User) { e.sim.Clock.Advance(time.Minute); e.sim.RequireMFA(u) }, flows.ErrMFARequired, 50076, "sign"},
		{"consent revoked", func(e *env, u *m365sim.User) { e.sim.RevokeConsent(e.sim.Tenant, e.sim.App) }, flows.ErrConsentRequired, 65001, "consent"},
		{"device code blocked later", func(e *env, u *m365sim.User) { e.sim.BlockDeviceCode(true) }, flows.ErrBlockedByPolicy, 53003, "browser"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			tok := e.signInDevice(t, anna)
			c.fault(e, e.sim.Tenant.User(anna))
			_, err := e.c.Refresh(testkit.Ctx(t), stored(tok))
			wantKind(t, err, c.sentinel, c.code, c.hint)
		})
	}
}

func TestRefreshAfterMFASignIn(t *testing.T) {
	e := newEnv(t)
	e.sim.RequireMFA(e.sim.Tenant.User(anna))
	e.sim.Clock.Advance(time.Minute)
	tok, err := e.signInLoopback(t, anna) // an interactive sign-in satisfies MFA
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Refresh(testkit.Ctx(t), stored(tok)); err != nil {
		t.Errorf("refresh after MFA sign-in: %v", err)
	}
}

func TestThrottledAndUnavailable(t *testing.T) {
	e := newEnv(t)
	tok := e.signInDevice(t, anna)
	e.sim.Throttle("/token", 1, 42*time.Second)
	_, err := e.c.Refresh(testkit.Ctx(t), stored(tok))
	fe := wantKind(t, err, flows.ErrThrottled, 90055, "wait")
	if fe.RetryAfter != 42*time.Second {
		t.Errorf("retry after %v", fe.RetryAfter)
	}
	e.sim.FailNext("/token", 1, 503)
	_, err = e.c.Refresh(testkit.Ctx(t), stored(tok))
	wantKind(t, err, flows.ErrUnavailable, 90033, "try again")
	if _, err := e.c.Refresh(testkit.Ctx(t), stored(tok)); err != nil {
		t.Errorf("after the outage: %v", err)
	}
}

func TestLatencyHonoursDeadline(t *testing.T) {
	e := newEnv(t)
	e.sim.SetLatency(300 * time.Millisecond)
	c, cancel := contextWithTimeout(t, 50*time.Millisecond)
	defer cancel()
	_, err := e.c.StartDeviceCode(c, delegatedScopes)
	if !errors.Is(err, errDeadline) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
	e.sim.SetLatency(0)
}

func TestAdminConsent(t *testing.T) {
	e := newEnv(t)
	app, sec := appOnly(t, e)
	_ = sec
	app2 := e.sim.RegisterApp(e.sim.Tenant, m365sim.AppSpec{DisplayName: "needs consent", WebRedirectURIs: []string{"https://crm.example.com/consent"}, Required: []string{"role:full_access_as_app"}})
	_ = app
	c := e.client(t, func(c *flows.Config) { c.ClientID = app2.ClientID })

	u := c.AdminConsentURL("https://crm.example.com/consent", "st8")
	to, err := e.sim.AdminConsent(u, anna)
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, flows.CompleteAdminConsent(to, "st8"), flows.ErrAdminConsentRequired, 90094, "admin")

	to, err = e.sim.AdminConsent(u, "admin@contoso.onmicrosoft.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := flows.CompleteAdminConsent(to, "st8"); err != nil {
		t.Fatal(err)
	}
	if err := flows.CompleteAdminConsent(to, "other"); !errors.Is(err, flows.ErrStateMismatch) {
		t.Errorf("state: %v", err)
	}
	v2 := c.AdminConsentURL("https://crm.example.com/consent", "s", "https://outlook.office365.com/.default")
	if !strings.Contains(v2, "/v2.0/adminconsent?") || !strings.Contains(v2, "scope=https") {
		t.Errorf("v2 URL %s", v2)
	}
}
