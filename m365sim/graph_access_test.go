package m365sim_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
)

func TestGraphRejectsBadTokens(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	admin := adminToken(t, s, "admin@contoso.onmicrosoft.com")

	// Same seed, same tenant ID, but another signing key.
	other := m365sim.Start(t, m365sim.Options{})
	foreign := adminToken(t, other, "admin@contoso.onmicrosoft.com")
	if jwtClaims(t, foreign)["tid"] != s.Tenant.ID {
		t.Fatal("the foreign token should name the same tenant")
	}
	// A valid token of this simulator, for Exchange rather than Graph.
	status, exo, err := deviceSignIn(t, s, s.App.ClientID, "https://outlook.office.com/IMAP.AccessAsUser.All", "anna.devries@contoso.com")
	if err != nil || status != http.StatusOK {
		t.Fatalf("Outlook token: %v %d %v", err, status, exo)
	}
	// A token of this simulator whose claims were changed after signing.
	parts := strings.Split(admin, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(jsonOf(jwtClaims(t, admin)), `"scp":"`, `"scp":"Directory.ReadWrite.All `, 1)))
	tampered := strings.Join(parts, ".")
	cases := []struct{ name, token, message string }{
		{"no token", "", "Access token is empty."},
		{"garbage", "not-a-jwt", "JWT is not well formed"},
		{"tampered claims", tampered, "Invalid signature"},
		{"foreign signature", foreign, "Invalid signature"},
		{"Outlook audience", exo["access_token"].(string), "Invalid audience"},
	}
	for _, c := range cases {
		status, hdr, body := graphRaw(t, s, c.token, "GET", "/applications", nil, http.Header{"Client-Request-Id": {"my-request-1"}})
		code, msg := graphErr(body)
		if status != http.StatusUnauthorized || code != "InvalidAuthenticationToken" || !strings.Contains(msg, c.message) {
			t.Errorf("%s: %d %v", c.name, status, body)
		}
		inner, _ := body["error"].(map[string]any)["innerError"].(map[string]any)
		if inner["date"] == "" || inner["request-id"] != hdr.Get("request-id") || inner["request-id"] == "" || inner["client-request-id"] != "my-request-1" {
			t.Errorf("%s: innerError %v, headers %v", c.name, inner, hdr)
		}
		if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer ") {
			t.Errorf("%s: WWW-Authenticate %q", c.name, hdr.Get("WWW-Authenticate"))
		}
	}

	if status, body := graphCall(t, s, admin, "GET", "/applications", nil); status != http.StatusOK {
		t.Fatalf("valid token: %d %v", status, body)
	}
	s.Clock.Advance(2 * time.Hour)
	status, body := graphCall(t, s, admin, "GET", "/applications", nil)
	if _, msg := graphErr(body); status != http.StatusUnauthorized || !strings.Contains(msg, "expired") {
		t.Errorf("expired token: %d %v", status, body)
	}
}

func TestGraphRouting(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	tok := adminToken(t, s, "admin@contoso.onmicrosoft.com")
	cases := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/me/messages", http.StatusBadRequest, "BadRequest"},
		{"GET", "/applications/nope/owners", http.StatusBadRequest, "BadRequest"},
		{"DELETE", "/applications", http.StatusMethodNotAllowed, "Request_BadRequest"},
		{"GET", "/applications/00000000-0000-4000-8000-000000000000", http.StatusNotFound, "Request_ResourceNotFound"},
		{"GET", "/applications(appId='" + m365sim.GraphAppID + "')", http.StatusNotFound, "Request_ResourceNotFound"},
		{"GET", "/applications?$filter=" + url.QueryEscape("startswith(displayName,'a')"), http.StatusBadRequest, "Request_UnsupportedQuery"},
	}
	for _, c := range cases {
		status, body := graphCall(t, s, tok, c.method, c.path, nil)
		if code, _ := graphErr(body); status != c.status || code != c.code {
			t.Errorf("%s %s: %d %v, want %d %s", c.method, c.path, status, body, c.status, c.code)
		}
	}
	// Entity sets and actions are case-insensitive, as on Graph.
	if status, body := graphCall(t, s, tok, "GET", "/SERVICEPRINCIPALS(appId='"+m365sim.GraphAppID+"')", nil); status != http.StatusOK {
		t.Errorf("upper-case entity set: %d %v", status, body)
	}
}

// A plain user may read app registrations but not change them, even with
// the scope consented for the organization.
func TestGraphPlainUserIsForbidden(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	if _, _, err := deviceSignIn(t, s, s.AdminApp.ClientID, adminScope, "anna.devries@contoso.com"); err == nil || !strings.Contains(err.Error(), "AADSTS90094") {
		t.Fatalf("anna consenting to admin scopes: %v, want AADSTS90094", err)
	}
	s.GrantAdminConsent(s.Tenant, s.AdminApp)
	anna := adminToken(t, s, "anna.devries@contoso.com")
	if status, body := graphCall(t, s, anna, "GET", "/applications", nil); status != http.StatusOK {
		t.Errorf("anna reading apps: %d %v", status, body)
	}
	graphSP := resourceSP(t, s, anna, m365sim.GraphAppID)["id"].(string)
	for _, c := range []struct {
		method, path string
		body         map[string]any
	}{
		{"POST", "/applications", map[string]any{"displayName": "anna's app"}},
		{"PATCH", "/applications(appId='" + s.App.ClientID + "')", map[string]any{"displayName": "renamed"}},
		{"POST", "/applications(appId='" + s.App.ClientID + "')/addPassword", map[string]any{}},
		{"POST", "/servicePrincipals/" + graphSP + "/appRoleAssignedTo", map[string]any{}},
		{"POST", "/oauth2PermissionGrants", map[string]any{}},
	} {
		status, body := graphCall(t, s, anna, c.method, c.path, c.body)
		code, msg := graphErr(body)
		if status != http.StatusForbidden || code != "Authorization_RequestDenied" ||
			!strings.HasPrefix(msg, "Insufficient privileges to complete the operation. The signed-in user needs the ") {
			t.Errorf("anna %s %s: %d %v", c.method, c.path, status, body)
		}
	}
}

// Hugo, an Application Administrator, manages apps and grants Exchange's
// application permissions, but Microsoft Graph's need a higher role; the
// 403 says which.
func TestGraphApplicationAdministratorCannotGrantGraphRoles(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	hugo := adminToken(t, s, "hugo.lefebvre@contoso.com")
	app := createApp(t, s, hugo, map[string]any{"displayName": "hugo's daemon"})
	spID := createSP(t, s, hugo, app["appId"].(string))
	graphSP := resourceSP(t, s, hugo, m365sim.GraphAppID)["id"].(string)
	exoSP := resourceSP(t, s, hugo, m365sim.ExchangeAppID)["id"].(string)

	status, body := assignRole(t, s, hugo, graphSP, spID, graphMailSendID)
	code, msg := graphErr(body)
	if status != http.StatusForbidden || code != "Authorization_RequestDenied" ||
		msg != "Insufficient privileges to complete the operation. The signed-in user needs the Privileged Role Administrator or Global Administrator role to grant Microsoft Graph application permissions." {
		t.Errorf("hugo granting Graph Mail.Send: %d %v", status, body)
	}
	status, body = assignRole(t, s, hugo, exoSP, spID, fullAccessID)
	want(t, "hugo granting full_access_as_app", status, body, http.StatusCreated)
	if s.HasRole(s.Tenant, app["appId"].(string), "Mail.Send") || !s.HasRole(s.Tenant, app["appId"].(string), "full_access_as_app") {
		t.Error("HasRole disagrees with the assignments")
	}

	admin := adminToken(t, s, "admin@contoso.onmicrosoft.com")
	status, body = assignRole(t, s, admin, graphSP, spID, graphMailSendID)
	want(t, "global admin granting Graph Mail.Send", status, body, http.StatusCreated)
}

// A provisioning daemon does the whole setup app-only: application roles
// need no directory role.
func TestGraphAppOnlyCaller(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	prov := s.RegisterApp(s.Tenant, m365sim.AppSpec{DisplayName: "provisioner", Required: []string{
		"role:Application.ReadWrite.All", "role:AppRoleAssignment.ReadWrite.All", "role:DelegatedPermissionGrant.ReadWrite.All",
	}})
	sec := s.AddSecret(prov, time.Hour)
	status, cc := clientCredentials(t, s, prov.ClientID, sec.Value, "https://graph.microsoft.com/.default")
	want(t, "token before consent", status, cc, http.StatusOK)
	status, body := graphCall(t, s, cc["access_token"].(string), "GET", "/applications", nil)
	if code, msg := graphErr(body); status != http.StatusForbidden || code != "Authorization_RequestDenied" || msg != "Insufficient privileges to complete the operation." {
		t.Errorf("app token without roles: %d %v", status, body)
	}

	s.GrantAdminConsent(s.Tenant, prov)
	_, cc = clientCredentials(t, s, prov.ClientID, sec.Value, "https://graph.microsoft.com/.default")
	tok := cc["access_token"].(string)
	app := createApp(t, s, tok, map[string]any{"displayName": "made by a daemon"})
	spID := createSP(t, s, tok, app["appId"].(string))
	graphSP := resourceSP(t, s, tok, m365sim.GraphAppID)["id"].(string)
	status, body = assignRole(t, s, tok, graphSP, spID, graphMailSendID)
	want(t, "app-only Graph role assignment", status, body, http.StatusCreated)
	status, body = graphCall(t, s, tok, "POST", "/oauth2PermissionGrants", map[string]any{
		"clientId": spID, "consentType": "AllPrincipals", "resourceId": graphSP, "scope": "SMTP.Send",
	})
	want(t, "app-only delegated grant", status, body, http.StatusCreated)
	if !s.HasDelegatedGrant(s.Tenant, app["appId"].(string), "SMTP.Send") {
		t.Error("HasDelegatedGrant: false after the grant")
	}
}
