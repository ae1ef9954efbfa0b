package m365sim_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
)

func getJSON(t *testing.T, s *m365sim.Sim, path string, out any) int {
	t.Helper()
	resp, err := s.HTTPClient().Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return resp.StatusCode
}

func postForm(t *testing.T, s *m365sim.Sim, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := s.HTTPClient().PostForm(s.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return resp.StatusCode, body
}

func TestDiscoveryByGUIDAndDomain(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	for _, tenant := range []string{s.Tenant.ID, "contoso.com", "contoso.onmicrosoft.com"} {
		var doc map[string]any
		if code := getJSON(t, s, "/"+tenant+"/v2.0/.well-known/openid-configuration", &doc); code != 200 {
			t.Fatalf("%s: status %d", tenant, code)
		}
		if doc["issuer"] != s.URL+"/"+s.Tenant.ID+"/v2.0" {
			t.Errorf("%s: issuer %v", tenant, doc["issuer"])
		}
		for _, k := range []string{"authorization_endpoint", "token_endpoint", "device_authorization_endpoint", "jwks_uri"} {
			if v, _ := doc[k].(string); !strings.HasPrefix(v, s.URL+"/") {
				t.Errorf("%s: %s = %q", tenant, k, v)
			}
		}
	}
}

func TestUnknownTenantIsAADSTS90002(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	var body map[string]any
	code := getJSON(t, s, "/fabrikam.com/v2.0/.well-known/openid-configuration", &body)
	if code != 400 || body["error"] != "invalid_tenant" {
		t.Fatalf("status %d body %v", code, body)
	}
	codes, _ := body["error_codes"].([]any)
	if len(codes) != 1 || codes[0] != float64(90002) {
		t.Errorf("error_codes %v", body["error_codes"])
	}
	desc, _ := body["error_description"].(string)
	if !strings.HasPrefix(desc, "AADSTS90002: ") || !strings.Contains(desc, "\r\nTrace ID: ") || !strings.Contains(desc, "\r\nCorrelation ID: ") {
		t.Errorf("description %q", desc)
	}
	for _, k := range []string{"trace_id", "correlation_id", "timestamp", "error_uri"} {
		if body[k] == nil || body[k] == "" {
			t.Errorf("missing %s", k)
		}
	}
}

func TestUsersAreDeterministic(t *testing.T) {
	a := m365sim.Start(t, m365sim.Options{Seed: 7, Users: 200})
	b := m365sim.Start(t, m365sim.Options{Seed: 7, Users: 200})
	c := m365sim.Start(t, m365sim.Options{Seed: 8, Users: 200})
	if len(a.Tenant.Users) != len(b.Tenant.Users) || len(a.Tenant.Users) < 200 {
		t.Fatalf("user counts %d %d", len(a.Tenant.Users), len(b.Tenant.Users))
	}
	for i := range a.Tenant.Users {
		ua, ub := a.Tenant.Users[i], b.Tenant.Users[i]
		if ua.ObjectID != ub.ObjectID || ua.UPN != ub.UPN || ua.Mail != ub.Mail || ua.Enabled != ub.Enabled {
			t.Fatalf("user %d differs: %+v vs %+v", i, ua, ub)
		}
	}
	if a.Tenant.ID != b.Tenant.ID || a.Tenant.ID == c.Tenant.ID {
		t.Errorf("tenant IDs: %s %s %s", a.Tenant.ID, b.Tenant.ID, c.Tenant.ID)
	}
	var mismatch, alias, disabled, noMailbox int
	for _, u := range a.Tenant.Users {
		if u.HasMailbox && !strings.EqualFold(u.UPN, u.Mail) {
			mismatch++
		}
		if len(u.ProxyAddresses) > 1 {
			alias++
		}
		if !u.Enabled {
			disabled++
		}
		if !u.HasMailbox {
			noMailbox++
		}
	}
	if mismatch == 0 || alias == 0 || disabled == 0 || noMailbox == 0 {
		t.Errorf("want every problem among the users: mismatch %d alias %d disabled %d no-mailbox %d", mismatch, alias, disabled, noMailbox)
	}
}

func TestPersonas(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	bram := s.Tenant.User("bjanssen@contoso.onmicrosoft.com")
	if bram == nil || bram.Mail != "bram.janssen@contoso.com" {
		t.Errorf("bram: %+v", bram)
	}
	if d := s.Tenant.User("dieter.wagner@contoso.com"); d == nil || d.Enabled {
		t.Errorf("dieter should be disabled: %+v", d)
	}
	if e := s.Tenant.User("eva.schmidt@contoso.com"); e == nil || e.HasMailbox || e.Mail != "" {
		t.Errorf("eva should have no mailbox: %+v", e)
	}
	if a := s.Tenant.User("admin@contoso.onmicrosoft.com"); a == nil || !a.IsAdmin() {
		t.Errorf("admin: %+v", a)
	}
}

// A client-credentials token is an RS256 JWT that verifies against the
// published JWKS and carries the granted roles.
func TestClientCredentialsTokenVerifiesAgainstJWKS(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	app := s.RegisterApp(s.Tenant, m365sim.AppSpec{DisplayName: "daemon", Required: []string{"role:full_access_as_app"}})
	sec := s.AddSecret(app, 24*time.Hour)
	s.GrantAdminConsent(s.Tenant, app)
	code, body := postForm(t, s, "/"+s.Tenant.ID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {app.ClientID}, "client_secret": {sec.Value},
		"scope": {"https://outlook.office365.com/.default"},
	})
	if code != 200 {
		t.Fatalf("status %d: %v", code, body)
	}
	if _, ok := body["refresh_token"]; ok {
		t.Error("client credentials must not return a refresh token")
	}
	tok := body["access_token"].(string)
	var jwks struct {
		Keys []struct{ Kid, N, E string } `json:"keys"`
	}
	getJSON(t, s, "/"+s.Tenant.ID+"/discovery/v2.0/keys", &jwks)
	parts := strings.Split(tok, ".")
	var hdr struct{ Alg, Kid string }
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	json.Unmarshal(raw, &hdr)
	if hdr.Alg != "RS256" || len(jwks.Keys) != 1 || jwks.Keys[0].Kid != hdr.Kid {
		t.Fatalf("header %+v keys %+v", hdr, jwks.Keys)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(s.PublicKey(), crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("signature: %v", err)
	}
	var claims map[string]any
	raw, _ = base64.RawURLEncoding.DecodeString(parts[1])
	json.Unmarshal(raw, &claims)
	roles, _ := claims["roles"].([]any)
	if len(roles) != 1 || roles[0] != "full_access_as_app" || claims["aud"] != "https://outlook.office365.com" || claims["tid"] != s.Tenant.ID {
		t.Errorf("claims %v", claims)
	}
	life := time.Duration(claims["exp"].(float64)-claims["iat"].(float64)) * time.Second
	if life < time.Hour || life > 90*time.Minute {
		t.Errorf("lifetime %v, want 60-90 minutes", life)
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	sec := s.AddSecret(s.App, time.Hour)
	path := "/" + s.Tenant.ID + "/oauth2/v2.0/token"
	cc := func(secret string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {s.App.ClientID}, "client_secret": {secret}, "scope": {"https://graph.microsoft.com/.default"}}
	}
	cases := []struct {
		name   string
		setup  func()
		form   url.Values
		status int
		code   float64
	}{
		{"secret ID instead of value", nil, cc(sec.KeyID), 401, 7000215},
		{"unknown client", nil, url.Values{"grant_type": {"client_credentials"}, "client_id": {"11111111-1111-1111-1111-111111111111"}, "client_secret": {"x"}}, 400, 700016},
		{"no secret", nil, url.Values{"grant_type": {"client_credentials"}, "client_id": {s.App.ClientID}, "scope": {"https://graph.microsoft.com/.default"}}, 401, 7000218},
		{"scope without .default", nil, func() url.Values { f := cc(sec.Value); f.Set("scope", "Mail.Read"); return f }(), 400, 70011},
		{"expired secret", func() { s.ExpireSecret(s.App, sec.KeyID) }, cc(sec.Value), 401, 7000222},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.setup != nil {
				c.setup()
			}
			status, body := postForm(t, s, path, c.form)
			codes, _ := body["error_codes"].([]any)
			if status != c.status || len(codes) == 0 || codes[0] != c.code {
				t.Errorf("status %d codes %v, want %d [%v]: %v", status, codes, c.status, c.code, body["error_description"])
			}
		})
	}
}

func TestThrottleAndOutage(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	path := "/" + s.Tenant.ID + "/v2.0/.well-known/openid-configuration"
	s.Throttle("openid-configuration", 1, 7*time.Second)
	resp, err := s.HTTPClient().Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
		t.Errorf("throttle: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	s.FailNext("openid-configuration", 1, 503)
	resp, _ = s.HTTPClient().Get(s.URL + path)
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("outage: %d", resp.StatusCode)
	}
	resp, _ = s.HTTPClient().Get(s.URL + path)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after faults: %d", resp.StatusCode)
	}
	if n := s.Requests("openid-configuration"); n != 3 {
		t.Errorf("requests counted %d, want 3", n)
	}
}

func TestTLS(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{TLS: true})
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") {
		t.Fatalf("URL %s", s.URL)
	}
	var doc map[string]any
	if code := getJSON(t, s, "/contoso.com/v2.0/.well-known/openid-configuration", &doc); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
}

func TestAuthorizeRedirectMismatchShowsPage(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	u := s.URL + "/" + s.Tenant.ID + "/oauth2/v2.0/authorize?" + url.Values{
		"client_id": {s.App.ClientID}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:5000"}, "scope": {"openid"},
	}.Encode()
	_, err := s.SignIn(u, "anna.devries@contoso.com")
	var e *m365sim.Error
	if !asSimError(err, &e) || e.Code != 50011 {
		t.Fatalf("err %v, want AADSTS50011 (127.0.0.1 is not localhost)", err)
	}
	ok := strings.Replace(u, "127.0.0.1%3A5000", "localhost%3A5000", 1)
	to, err := s.SignIn(ok, "anna.devries@contoso.com")
	if err != nil || !strings.HasPrefix(to, "http://localhost:5000?code=") {
		t.Fatalf("localhost with any port: %q %v", to, err)
	}
}

func asSimError(err error, target **m365sim.Error) bool {
	e, ok := err.(*m365sim.Error)
	if ok {
		*target = e
	}
	return ok
}

// A refresh token redeemed again after its rotation still works within the
// grace, as on the real service, but the simulator counts the replay: two
// monitors redeeming one stored token show up there.
func TestRefreshReplaysAreCounted(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	app := s.RegisterApp(s.Tenant, m365sim.AppSpec{DisplayName: "public", PublicRedirectURIs: []string{"http://localhost"}, FallbackPublicClient: true,
		Required: []string{"Calendars.ReadWrite", "offline_access"}})
	s.GrantAdminConsent(s.Tenant, app)
	rt := s.DeviceSignedIn(s.Tenant, app, s.Tenant.Users[0])
	redeem := func(token string) string {
		t.Helper()
		code, body := postForm(t, s, "/"+s.Tenant.ID+"/oauth2/v2.0/token", url.Values{
			"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "refresh_token": {token},
			"scope": {"https://graph.microsoft.com/Calendars.ReadWrite offline_access"},
		})
		if code != 200 {
			t.Fatalf("status %d: %v", code, body)
		}
		return body["refresh_token"].(string)
	}
	next := redeem(rt)
	redeem(next)
	if n := s.RefreshReplays(); n != 0 {
		t.Fatalf("each token redeemed once, yet %d replays counted", n)
	}
	redeem(rt)
	if n := s.RefreshReplays(); n != 1 {
		t.Errorf("the first token redeemed again: %d replays counted, want 1", n)
	}
}
