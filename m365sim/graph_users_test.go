package m365sim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
)

// appToken registers a daemon with the application permissions (names
// as in AppSpec, without "role:"), grants them, and returns a token for
// resource ("https://graph.microsoft.com" or Exchange's URI).
func appToken(t *testing.T, s *m365sim.Sim, resource string, roles ...string) string {
	t.Helper()
	var req []string
	for _, r := range roles {
		req = append(req, "role:"+r)
	}
	app := s.RegisterApp(s.Tenant, m365sim.AppSpec{DisplayName: "daemon " + strings.Join(roles, ","), Required: req})
	sec := s.AddSecret(app, time.Hour)
	s.GrantAdminConsent(s.Tenant, app)
	status, tok := clientCredentials(t, s, app.ClientID, sec.Value, resource+"/.default")
	want(t, "client credentials", status, tok, http.StatusOK)
	return tok["access_token"].(string)
}

// userToken signs upn in to the demo app for scope and returns the access token.
func userToken(t *testing.T, s *m365sim.Sim, upn, scope string) string {
	t.Helper()
	status, tok, err := deviceSignIn(t, s, s.App.ClientID, scope, upn)
	if err != nil || status != http.StatusOK {
		t.Fatalf("sign-in of %s for %s: %v %d %v", upn, scope, err, status, tok)
	}
	return tok["access_token"].(string)
}

func TestGraphGetUser(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	tok := appToken(t, s, "https://graph.microsoft.com", "User.Read.All")

	status, anna := graphCall(t, s, tok, "GET", "/users/ANNA.DEVRIES@contoso.com", nil)
	want(t, "anna by UPN", status, anna, http.StatusOK)
	if anna["mail"] != "anna.devries@contoso.com" || anna["displayName"] != "Anna de Vries" || anna["id"] != s.Tenant.User("anna.devries@contoso.com").ObjectID {
		t.Errorf("anna: %v", anna)
	}
	if _, ok := anna["proxyAddresses"]; ok {
		t.Error("proxyAddresses without $select")
	}
	if _, ok := anna["accountEnabled"]; ok {
		t.Error("accountEnabled without $select")
	}
	// By object ID, with $select: only what was asked for.
	status, anna = graphCall(t, s, tok, "GET", "/users/"+anna["id"].(string)+"?$select=id,proxyAddresses,accountEnabled", nil)
	if status != http.StatusOK || jsonOf(anna["proxyAddresses"]) != `["SMTP:anna.devries@contoso.com"]` || anna["accountEnabled"] != true || anna["mail"] != nil || len(anna) != 4 {
		t.Errorf("anna with $select: %d %v", status, anna)
	}

	// Bram's mail address is no UPN: Graph does not find him by it.
	status, body := graphCall(t, s, tok, "GET", "/users/bram.janssen@contoso.com", nil)
	if code, _ := graphErr(body); status != http.StatusNotFound || code != "Request_ResourceNotFound" {
		t.Errorf("bram by mail: %d %v", status, body)
	}
	status, dieter := graphCall(t, s, tok, "GET", "/users/dieter.wagner@contoso.com?$select=accountEnabled,mail", nil)
	if status != http.StatusOK || dieter["accountEnabled"] != false || dieter["mail"] != "dieter.wagner@contoso.com" {
		t.Errorf("dieter: %d %v", status, dieter)
	}
	status, eva := graphCall(t, s, tok, "GET", "/users/eva.schmidt@contoso.com?$select=mail,proxyAddresses", nil)
	if v, ok := eva["mail"]; status != http.StatusOK || !ok || v != nil || jsonOf(eva["proxyAddresses"]) != "[]" {
		t.Errorf("eva: %d %v", status, eva)
	}
	status, body = graphCall(t, s, tok, "GET", "/users/eva.schmidt@contoso.com?$select=nope", nil)
	if code, _ := graphErr(body); status != http.StatusBadRequest || code != "BadRequest" {
		t.Errorf("unknown $select: %d %v", status, body)
	}
}

func TestGraphFilterUsers(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	tok := appToken(t, s, "https://graph.microsoft.com", "User.Read.All")
	find := func(filter string) []string {
		t.Helper()
		status, body := graphCall(t, s, tok, "GET", "/users?$filter="+url.QueryEscape(filter)+"&$select=userPrincipalName", nil)
		want(t, filter, status, body, http.StatusOK)
		var upns []string
		for _, v := range values(body) {
			upns = append(upns, v["userPrincipalName"].(string))
		}
		return upns
	}
	cases := []struct{ filter, want string }{
		{"mail eq 'bram.janssen@contoso.com'", "[bjanssen@contoso.onmicrosoft.com]"},
		{"mail eq 'BRAM.JANSSEN@contoso.com'", "[bjanssen@contoso.onmicrosoft.com]"},
		{"userPrincipalName eq 'bjanssen@contoso.onmicrosoft.com'", "[bjanssen@contoso.onmicrosoft.com]"},
		{"mail eq 'claire.dubois@contoso.com'", "[]"}, // her alias, not her mail
		{"proxyAddresses/any(p:p eq 'smtp:claire.dubois@contoso.com')", "[claire.dubois@contoso.com]"},
		{"proxyAddresses/any(x:x eq 'smtp:sales@contoso.com') or proxyAddresses/any(x:x eq 'SMTP:sales@contoso.com')", "[claire.dubois@contoso.com]"},
		{"proxyAddresses/any(p:p eq 'smtp:c.dubois@contoso.com')", "[claire.dubois@contoso.com]"}, // primary, other case of prefix
		{"proxyAddresses/any(p:p eq 'smtp:eva.schmidt@contoso.com')", "[]"},                       // no mailbox, no addresses
		{"mail eq 'o''brien@contoso.com'", "[]"},
		{"userPrincipalName eq 'anna.devries@contoso.com' or mail eq 'bram.janssen@contoso.com'", "[anna.devries@contoso.com bjanssen@contoso.onmicrosoft.com]"},
	}
	for _, c := range cases {
		if got := fmt.Sprint(find(c.filter)); got != c.want {
			t.Errorf("%s: %v, want %s", c.filter, got, c.want)
		}
	}
	for _, bad := range []string{"startswith(mail,'a')", "mail eq 'a", "mail ne 'a'", "city eq 'Paris'", "mail eq 'a' and mail eq 'b'"} {
		status, body := graphCall(t, s, tok, "GET", "/users?$filter="+url.QueryEscape(bad), nil)
		if code, _ := graphErr(body); status != http.StatusBadRequest || code != "Request_UnsupportedQuery" {
			t.Errorf("%s: %d %v", bad, status, body)
		}
	}
}

func TestGraphListUsersPages(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{Users: 250})
	tok := appToken(t, s, "https://graph.microsoft.com", "User.Read.All")
	for _, c := range []struct {
		path  string
		pages int
	}{{"/users?$select=id", 3}, {"/users?$select=id&$top=60", 5}} {
		seen, pages := map[string]bool{}, 0
		for next := s.URL + "/v1.0" + c.path; next != ""; pages++ {
			status, body := graphCall(t, s, tok, "GET", strings.TrimPrefix(next, s.URL+"/v1.0"), nil)
			want(t, next, status, body, http.StatusOK)
			for _, v := range values(body) {
				seen[v["id"].(string)] = true
			}
			next, _ = body["@odata.nextLink"].(string)
			if next != "" && (!strings.Contains(next, "$skiptoken=") || !strings.Contains(next, "$select=id")) {
				t.Fatalf("nextLink %s", next)
			}
		}
		if len(seen) != len(s.Tenant.Users) || pages != c.pages {
			t.Errorf("%s: %d users in %d pages, want %d in %d", c.path, len(seen), pages, len(s.Tenant.Users), c.pages)
		}
	}
}

func TestGraphUserPermissions(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	noRoles := appToken(t, s, "https://graph.microsoft.com", "Mail.Send")
	for _, path := range []string{"/users/anna.devries@contoso.com", "/users?$filter=" + url.QueryEscape("mail eq 'x@contoso.com'")} {
		status, body := graphCall(t, s, noRoles, "GET", path, nil)
		if code, _ := graphErr(body); status != http.StatusForbidden || code != "Authorization_RequestDenied" {
			t.Errorf("app without User.Read.All, %s: %d %v", path, status, body)
		}
	}
	anna := userToken(t, s, "anna.devries@contoso.com", "User.Read")
	if status, body := graphCall(t, s, anna, "GET", "/users/anna.devries@contoso.com", nil); status != http.StatusOK {
		t.Errorf("anna reading herself: %d %v", status, body)
	}
	for _, path := range []string{"/users/bjanssen@contoso.onmicrosoft.com", "/users/nobody@contoso.com", "/users"} {
		status, body := graphCall(t, s, anna, "GET", path, nil)
		if status != http.StatusForbidden {
			t.Errorf("anna with User.Read, %s: %d %v", path, status, body)
		}
	}
}

func TestGraphMailboxSettings(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	tok := appToken(t, s, "https://graph.microsoft.com", "User.Read.All", "MailboxSettings.ReadWrite")
	for _, upn := range []string{"anna.devries@contoso.com", "dieter.wagner@contoso.com"} { // disabled or not
		status, body := graphCall(t, s, tok, "GET", "/users/"+upn+"/mailboxSettings", nil)
		if status != http.StatusOK || body["timeZone"] == nil {
			t.Errorf("%s: %d %v", upn, status, body)
		}
	}
	status, body := graphCall(t, s, tok, "GET", "/users/eva.schmidt@contoso.com/mailboxSettings", nil)
	if code, msg := graphErr(body); status != http.StatusNotFound || code != "MailboxNotEnabledForRESTAPI" || msg != "The mailbox is either inactive, soft-deleted, or is hosted on-premise." {
		t.Errorf("eva: %d %v", status, body)
	}
	// Reading mailbox settings takes MailboxSettings.Read(Write), as on Graph.
	userOnly := appToken(t, s, "https://graph.microsoft.com", "User.Read.All")
	status, body = graphCall(t, s, userOnly, "GET", "/users/anna.devries@contoso.com/mailboxSettings", nil)
	if code, _ := graphErr(body); status != http.StatusForbidden || code != "ErrorAccessDenied" {
		t.Errorf("without MailboxSettings.Read: %d %v", status, body)
	}
}
