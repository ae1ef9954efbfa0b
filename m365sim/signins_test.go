package m365sim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
)

const imapOffline = "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"

// logReader registers a monitoring app with the application permissions
// named, consented, and returns an app-only Graph token for it.
func logReader(t *testing.T, s *m365sim.Sim, roles ...string) (string, *m365sim.App) {
	t.Helper()
	var required []string
	for _, r := range roles {
		required = append(required, "role:"+r)
	}
	app := s.RegisterApp(s.Tenant, m365sim.AppSpec{DisplayName: "sign-in monitor", Required: required})
	s.GrantAdminConsent(s.Tenant, app)
	sec := s.AddSecret(app, 30*24*time.Hour)
	status, tok := clientCredentials(t, s, app.ClientID, sec.Value, "https://graph.microsoft.com/.default")
	want(t, "monitor token", status, tok, http.StatusOK)
	return tok["access_token"].(string), app
}

func fullReader(t *testing.T, s *m365sim.Sim) (string, *m365sim.App) {
	return logReader(t, s, "AuditLog.Read.All", "Directory.Read.All")
}

// browserSignIn signs upn in on the authorize page of the demo app and
// redeems the code, as a desktop client does.
func browserSignIn(t *testing.T, s *m365sim.Sim, upn string) (int, map[string]any) {
	t.Helper()
	authURL := s.URL + "/" + s.Tenant.ID + "/oauth2/v2.0/authorize?" + url.Values{
		"client_id": {s.App.ClientID}, "response_type": {"code"}, "redirect_uri": {"http://localhost"}, "scope": {imapOffline},
	}.Encode()
	to, err := s.SignIn(authURL, upn)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := url.Parse(to)
	code := back.Query().Get("code")
	if code == "" {
		return 0, map[string]any{"redirect": to}
	}
	return postForm(t, s, "/"+s.Tenant.ID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {s.App.ClientID}, "code": {code}, "redirect_uri": {"http://localhost"},
	})
}

// logLine is what the tests compare of a sign-in.
type logLine struct {
	kind, upn string
	code      int
	keyID     string
}

func lines(evs []m365sim.SignIn) []logLine {
	var out []logLine
	for _, ev := range evs {
		out = append(out, logLine{ev.EventType, ev.UPN, ev.ErrorCode, ev.CredentialKeyID})
	}
	return out
}

// TestSignInLogRecordsEveryOutcome: the person at the page and the
// device login page is an interactive sign-in, code and refresh-token
// redemptions are non-interactive, client credentials a service
// principal's with the secret's key ID; failures carry the AADSTS number
// and the first sentence of its message.
func TestSignInLogRecordsEveryOutcome(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	const anna, bram = "anna.devries@contoso.com", "bjanssen@contoso.onmicrosoft.com"
	status, tok, err := deviceSignIn(t, s, s.App.ClientID, imapOffline, anna)
	if err != nil || status != http.StatusOK {
		t.Fatalf("device sign-in: %v %d %v", err, status, tok)
	}
	rt := tok["refresh_token"].(string)
	s.Clock.Advance(time.Minute)
	status, tok = refresh(t, s, s.App.ClientID, rt, imapOffline)
	want(t, "refresh", status, tok, http.StatusOK)
	s.RevokeSessions(s.Tenant.User(anna))
	status, tok = refresh(t, s, s.App.ClientID, tok["refresh_token"].(string), imapOffline)
	want(t, "refresh after revocation", status, tok, http.StatusBadRequest)
	if status, tok = browserSignIn(t, s, bram); status != http.StatusOK {
		t.Fatalf("browser sign-in: %d %v", status, tok)
	}
	if err := s.ApproveDevice("NOPE", "dieter.wagner@contoso.com"); err == nil {
		t.Fatal("a wrong user code was approved")
	}
	if _, _, err := deviceSignIn(t, s, s.App.ClientID, imapOffline, "Dieter.Wagner@Contoso.com"); err == nil {
		t.Fatal("a disabled account signed in")
	}
	if _, _, err := deviceSignIn(t, s, s.App.ClientID, imapOffline, "Nobody@Contoso.com"); err == nil {
		t.Fatal("an unknown account signed in")
	}
	sec := s.AddSecret(s.App, time.Hour)
	clientCredentials(t, s, s.App.ClientID, sec.Value, "https://outlook.office365.com/.default")
	clientCredentials(t, s, s.App.ClientID, sec.KeyID, "https://outlook.office365.com/.default")
	s.ExpireSecret(s.App, sec.KeyID)
	clientCredentials(t, s, s.App.ClientID, sec.Value, "https://outlook.office365.com/.default")

	got := s.SignIns()
	wantLines := []logLine{
		{"interactiveUser", anna, 0, ""},
		{"nonInteractiveUser", anna, 0, ""},
		{"nonInteractiveUser", anna, 50173, ""},
		{"interactiveUser", bram, 0, ""},
		{"nonInteractiveUser", bram, 0, ""},
		{"interactiveUser", "dieter.wagner@contoso.com", 50057, ""},
		{"interactiveUser", "nobody@contoso.com", 50034, ""},
		{"servicePrincipal", "", 0, sec.KeyID},
		{"servicePrincipal", "", 7000215, ""},
		{"servicePrincipal", "", 7000222, sec.KeyID},
	}
	if !slices.Equal(lines(got), wantLines) {
		t.Fatalf("log:\n%v\nwant\n%v", lines(got), wantLines)
	}
	revoked := got[2]
	if revoked.FailureReason != "The provided grant has expired due to it being revoked, a fresh auth token is needed." ||
		revoked.UserID != s.Tenant.User(anna).ObjectID || revoked.ResourceID != m365sim.ExchangeAppID {
		t.Errorf("revoked refresh: %+v", revoked)
	}
	if got[0].Created.Equal(got[1].Created) || !got[9].Created.Equal(s.Clock.Now().Truncate(time.Second)) {
		t.Errorf("times not from the clock: %v %v", got[0].Created, got[9].Created)
	}
	if cc := got[7]; cc.ClientCredentialType != "clientSecret" || cc.ServicePrincipalID != s.App.SPObjectID || cc.AppID != s.App.ClientID {
		t.Errorf("client credentials: %+v", cc)
	}
	if dump := fmt.Sprintf("%+v", got); strings.Contains(dump, sec.Value) || strings.Contains(dump, rt) {
		t.Error("the sign-in log holds a secret or a refresh token")
	}
	ids := map[string]bool{}
	for _, ev := range got {
		ids[ev.ID] = true
	}
	if len(ids) != len(got) {
		t.Errorf("sign-in IDs repeat: %d distinct of %d", len(ids), len(got))
	}
}

// signInsOf reads one page of the beta sign-in log.
func signInsOf(t *testing.T, s *m365sim.Sim, token, filter string) []logLine {
	t.Helper()
	status, body := graphCall(t, s, token, "GET", "/beta/auditLogs/signIns?$filter="+url.QueryEscape(filter), nil)
	want(t, filter, status, body, http.StatusOK)
	var out []logLine
	for _, v := range values(body) {
		st := v["status"].(map[string]any)
		kinds := v["signInEventTypes"].([]any)
		out = append(out, logLine{kinds[0].(string), v["userPrincipalName"].(string), int(st["errorCode"].(float64)), v["servicePrincipalCredentialKeyId"].(string)})
	}
	return out
}

func TestSignInLogFilters(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	const anna, bram = "anna.devries@contoso.com", "bjanssen@contoso.onmicrosoft.com"
	_, tok, _ := deviceSignIn(t, s, s.App.ClientID, imapOffline, anna)
	s.Clock.Advance(time.Hour)
	mid := s.Clock.Now().UTC().Format(time.RFC3339)
	refresh(t, s, s.App.ClientID, tok["refresh_token"].(string), imapOffline)
	browserSignIn(t, s, bram)
	s.RevokeSessions(s.Tenant.User(bram))
	sec := s.AddSecret(s.App, time.Hour)
	clientCredentials(t, s, s.App.ClientID, sec.Value, "https://outlook.office365.com/.default")
	clientCredentials(t, s, s.App.ClientID, "wrong", "https://outlook.office365.com/.default")
	reader, _ := fullReader(t, s)

	app := "appId eq '" + s.App.ClientID + "'"
	users := "signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')"
	sp := "signInEventTypes/any(x: x eq 'servicePrincipal')"
	tests := []struct {
		filter string
		want   []logLine
	}{
		{"", []logLine{{"interactiveUser", bram, 0, ""}, {"interactiveUser", anna, 0, ""}}},
		{app + " and signInEventTypes/any(t: t eq 'nonInteractiveUser')", []logLine{{"nonInteractiveUser", bram, 0, ""}, {"nonInteractiveUser", anna, 0, ""}}},
		{"userPrincipalName eq 'ANNA.deVries@contoso.com' and " + users, []logLine{{"nonInteractiveUser", anna, 0, ""}, {"interactiveUser", anna, 0, ""}}},
		{"userId eq '" + s.Tenant.User(bram).ObjectID + "' AND " + users, []logLine{{"nonInteractiveUser", bram, 0, ""}, {"interactiveUser", bram, 0, ""}}},
		{app + " and createdDateTime ge " + mid + " and " + users, []logLine{{"nonInteractiveUser", bram, 0, ""}, {"interactiveUser", bram, 0, ""}, {"nonInteractiveUser", anna, 0, ""}}},
		{app + " and createdDateTime gt " + mid + " and " + users, nil},
		{app + " and status/errorCode ne 0 and " + sp, []logLine{{"servicePrincipal", "", 7000215, ""}}},
		{app + " and status/errorCode eq 0 and " + sp, []logLine{{"servicePrincipal", "", 0, sec.KeyID}}},
		{"servicePrincipalCredentialKeyId eq '" + sec.KeyID + "' and " + sp, []logLine{{"servicePrincipal", "", 0, sec.KeyID}}},
	}
	for _, tt := range tests {
		if got := signInsOf(t, s, reader, tt.filter); !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %v\nwant %v", tt.filter, got, tt.want)
		}
		s.Clock.Advance(reportWindow) // stay under the throttle
	}
	for _, bad := range []struct{ filter, clause string }{
		{"appId ne 'x'", "appId ne 'x'"},
		{"displayName eq 'x'", "displayName eq 'x'"},
		{app + " and signInEventTypes/any(t: t eq 'bogus')", "signInEventTypes/any(t: t eq 'bogus')"},
		{"createdDateTime ge '" + mid + "'", "createdDateTime ge '" + mid + "'"},
		{"status/errorCode eq zero", "status/errorCode eq zero"},
		{"appId eq 'x' or appId eq 'y'", "appId eq 'x' or appId eq 'y'"},
	} {
		status, body := graphCall(t, s, reader, "GET", "/beta/auditLogs/signIns?$filter="+url.QueryEscape(bad.filter), nil)
		code, msg := graphErr(body)
		if status != http.StatusBadRequest || code != "Request_UnsupportedQuery" || !strings.Contains(msg, "'"+bad.clause+"'") {
			t.Errorf("%s: %d %s %q", bad.filter, status, code, msg)
		}
		s.Clock.Advance(reportWindow)
	}
}

const reportWindow = 10 * time.Second

// interactiveSignIns makes n interactive sign-ins of anna on the
// authorize page, a second apart.
func interactiveSignIns(t *testing.T, s *m365sim.Sim, n int) {
	t.Helper()
	authURL := s.URL + "/" + s.Tenant.ID + "/oauth2/v2.0/authorize?" + url.Values{
		"client_id": {s.App.ClientID}, "response_type": {"code"}, "redirect_uri": {"http://localhost"}, "scope": {"openid"},
	}.Encode()
	for range n {
		s.Clock.Advance(time.Second)
		if _, err := s.SignIn(authURL, "anna.devries@contoso.com"); err != nil {
			t.Fatal(err)
		}
	}
}

// readAll follows the nextLinks from path and returns the IDs in the
// order served, and how many pages it took.
func readAll(t *testing.T, s *m365sim.Sim, token, path string, between func()) (ids []string, pages int) {
	t.Helper()
	for path != "" {
		status, body := graphCall(t, s, token, "GET", path, nil)
		want(t, path, status, body, http.StatusOK)
		for _, v := range values(body) {
			ids = append(ids, v["id"].(string))
		}
		path, _ = body["@odata.nextLink"].(string)
		if path != "" && !strings.HasPrefix(path, s.URL+"/beta/auditLogs/signIns?") {
			t.Fatalf("nextLink %q is not an absolute link on the simulator", path)
		}
		pages++
		between()
	}
	return ids, pages
}

// TestSignInLogPaging: $top pages newest first with absolute nextLinks; a
// sign-in made while a reader pages shifts nothing; duplicates, when the
// service makes them, are served as such.
func TestSignInLogPaging(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	interactiveSignIns(t, s, 7)
	reader, _ := fullReader(t, s)
	var want []string
	for _, ev := range slices.Backward(s.SignIns()) {
		if ev.EventType == m365sim.InteractiveUser { // not the reader's own
			want = append(want, ev.ID)
		}
	}
	ids, pages := readAll(t, s, reader, "/beta/auditLogs/signIns?$top=3", func() {
		interactiveSignIns(t, s, 1) // lands on top of a log already being read
		s.Clock.Advance(reportWindow)
	})
	if pages != 3 || !slices.Equal(ids, want) {
		t.Fatalf("%d pages, ids %v, want %v", pages, ids, want)
	}

	s.DuplicateSignIns(true)
	ids, _ = readAll(t, s, reader, "/beta/auditLogs/signIns", func() {})
	counts := map[string]int{}
	for _, id := range ids {
		counts[id]++
	}
	if n := len(want) + 3; len(ids) != 2*n || len(counts) != n {
		t.Errorf("with duplicates: %d served, %d distinct, want %d twice", len(ids), len(counts), n)
	}
	for _, bad := range []string{"$top=0", "$top=x", "$skiptoken=%21"} {
		status, body := graphCall(t, s, reader, "GET", "/beta/auditLogs/signIns?"+bad, nil)
		if status != http.StatusBadRequest {
			t.Errorf("%s: %d %v", bad, status, body)
		}
	}
}

// TestSignInLogThrottle: five requests in ten seconds per app and tenant;
// the sixth is 429 with Retry-After until the first leaves the window.
// Another app has a budget of its own.
func TestSignInLogThrottle(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	reader, _ := fullReader(t, s)
	other, _ := logReader(t, s, "AuditLog.Read.All")
	for i := range 5 {
		status, body := graphCall(t, s, reader, "GET", "/beta/auditLogs/signIns", nil)
		want(t, "request "+string(rune('1'+i)), status, body, http.StatusOK)
	}
	s.Clock.Advance(3 * time.Second)
	status, header, body := graphRaw(t, s, reader, "GET", "/beta/reports/servicePrincipalSignInActivities", nil, nil)
	if code, _ := graphErr(body); status != http.StatusTooManyRequests || code != "TooManyRequests" || header.Get("Retry-After") != "7" {
		t.Fatalf("sixth request: %d %s Retry-After %q", status, code, header.Get("Retry-After"))
	}
	status, body = graphCall(t, s, other, "GET", "/beta/reports/servicePrincipalSignInActivities", nil)
	want(t, "another app", status, body, http.StatusOK)
	s.Clock.Advance(7 * time.Second)
	status, body = graphCall(t, s, reader, "GET", "/beta/auditLogs/signIns", nil)
	want(t, "after Retry-After", status, body, http.StatusOK)
}

// TestSignInLogRefusals: the sign-in log needs AuditLog.Read.All and
// Directory.Read.All, the reports AuditLog.Read.All, and both a premium
// tenant.
func TestSignInLogRefusals(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	auditOnly, _ := logReader(t, s, "AuditLog.Read.All")
	nothing, _ := logReader(t, s, "User.Read.All")
	const signIns, report = "/beta/auditLogs/signIns", "/beta/reports/appCredentialSignInActivities"
	status, body := graphCall(t, s, auditOnly, "GET", signIns, nil)
	if code, _ := graphErr(body); status != http.StatusForbidden || code != "Authorization_RequestDenied" {
		t.Errorf("without Directory.Read.All: %d %v", status, body)
	}
	status, body = graphCall(t, s, auditOnly, "GET", report, nil)
	want(t, "report with AuditLog.Read.All", status, body, http.StatusOK)
	status, body = graphCall(t, s, nothing, "GET", report, nil)
	want(t, "report without AuditLog.Read.All", status, body, http.StatusForbidden)

	admin := adminToken(t, s, "admin@contoso.onmicrosoft.com") // no audit scopes
	status, body = graphCall(t, s, admin, "GET", signIns, nil)
	want(t, "delegated without the scopes", status, body, http.StatusForbidden)
	_, tok, err := deviceSignIn(t, s, s.AdminApp.ClientID, "AuditLog.Read.All Directory.Read.All", "admin@contoso.onmicrosoft.com")
	if err != nil {
		t.Fatal(err)
	}
	status, body = graphCall(t, s, tok["access_token"].(string), "GET", signIns, nil)
	want(t, "delegated global admin with the scopes", status, body, http.StatusOK)

	s.SetPremium(s.Tenant, false)
	full, _ := fullReader(t, s)
	for _, path := range []string{signIns, report} {
		status, body = graphCall(t, s, full, "GET", path, nil)
		code, msg := graphErr(body)
		if status != http.StatusForbidden || code != "Authentication_RequestFromNonPremiumTenantOrB2CTenant" ||
			msg != "Neither tenant is B2C or tenant doesn't have premium license" {
			t.Errorf("%s on a free tenant: %d %s %q", path, status, code, msg)
		}
	}
}

// TestSignInActivityReports: the last successful client-credentials
// sign-in per secret and per service principal.
func TestSignInActivityReports(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	first, second := s.AddSecret(s.App, time.Hour), s.AddSecret(s.App, 2*time.Hour)
	clientCredentials(t, s, s.App.ClientID, first.Value, "https://outlook.office365.com/.default")
	firstAt := s.Clock.Now().UTC().Format(time.RFC3339)
	s.Clock.Advance(time.Minute)
	clientCredentials(t, s, s.App.ClientID, second.Value, "https://outlook.office365.com/.default")
	secondAt := s.Clock.Now().UTC().Format(time.RFC3339)
	s.Clock.Advance(time.Minute)
	clientCredentials(t, s, s.App.ClientID, "wrong", "https://outlook.office365.com/.default")
	reader, _ := fullReader(t, s)

	last := func(v map[string]any, field string) string {
		a, _ := v[field].(map[string]any)
		at, _ := a["lastSignInDateTime"].(string)
		return at
	}
	status, body := graphCall(t, s, reader, "GET", filterPath("../beta/reports/appCredentialSignInActivities", "appId", s.App.ClientID), nil)
	want(t, "credential report", status, body, http.StatusOK)
	got := map[string]string{}
	for _, v := range values(body) {
		got[v["keyId"].(string)] = last(v, "signInActivity")
		if v["keyType"] != "clientSecret" || v["credentialOrigin"] != "application" || v["expirationDateTime"] == "" {
			t.Errorf("credential: %v", v)
		}
	}
	if len(got) != 2 || got[first.KeyID] != firstAt || got[second.KeyID] != secondAt {
		t.Errorf("per key %v, want %s at %s and %s at %s", got, first.KeyID, firstAt, second.KeyID, secondAt)
	}
	status, body = graphCall(t, s, reader, "GET", filterPath("../beta/reports/appCredentialSignInActivities", "keyId", second.KeyID), nil)
	if v := values(body); status != http.StatusOK || len(v) != 1 || v[0]["keyId"] != second.KeyID {
		t.Errorf("by keyId: %d %v", status, body)
	}
	status, body = graphCall(t, s, reader, "GET", filterPath("../beta/reports/servicePrincipalSignInActivities", "appId", s.App.ClientID), nil)
	v := values(body)
	if status != http.StatusOK || len(v) != 1 || last(v[0], "applicationAuthenticationClientSignInActivity") != secondAt ||
		last(v[0], "lastSignInActivity") != secondAt || v[0]["delegatedClientSignInActivity"] != nil {
		t.Errorf("service principal report: %d %v", status, body)
	}
}
