package m365sim_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
)

// An app created through Graph is found by $filter and by its appId key,
// and the identity endpoints accept it at once; it has no service
// principal until one is created.
func TestGraphCreateApplication(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	tok := adminToken(t, s, "admin@contoso.onmicrosoft.com")
	required := []any{
		rra(m365sim.ExchangeAppID, ewsScopeID, "Scope"),
		rra(m365sim.GraphAppID, imapScopeID, "Scope", smtpScopeID, "Scope", offlineScopeID, "Scope"),
	}
	app := createApp(t, s, tok, map[string]any{
		"displayName": "CRM mail sync", "signInAudience": "AzureADMyOrg", "isFallbackPublicClient": true,
		"publicClient":           map[string]any{"redirectUris": []string{"http://localhost"}},
		"requiredResourceAccess": required,
	})
	id, appID := app["id"].(string), app["appId"].(string)
	if id == "" || appID == "" || id == appID || app["displayName"] != "CRM mail sync" || app["isFallbackPublicClient"] != true {
		t.Fatalf("created %v", app)
	}
	if creds, ok := app["passwordCredentials"].([]any); !ok || len(creds) != 0 {
		t.Errorf("passwordCredentials %v, want []", app["passwordCredentials"])
	}
	if got, want := jsonOf(app["requiredResourceAccess"]), jsonOf(required); got != want {
		t.Errorf("requiredResourceAccess\n got %s\nwant %s", got, want)
	}

	for _, path := range []string{
		filterPath("applications", "appId", appID),
		filterPath("applications", "displayName", "crm MAIL sync"),
	} {
		status, body := graphCall(t, s, tok, "GET", path, nil)
		if v := values(body); status != http.StatusOK || len(v) != 1 || v[0]["id"] != id {
			t.Errorf("GET %s: %d %v", path, status, body)
		}
	}
	for _, path := range []string{"/applications(appId='" + appID + "')", "/applications/" + id} {
		status, body := graphCall(t, s, tok, "GET", path, nil)
		if _, ok := body["passwordCredentials"]; status != http.StatusOK || body["appId"] != appID || !ok {
			t.Errorf("GET %s: %d %v", path, status, body)
		}
	}
	status, body := graphCall(t, s, tok, "GET", "/servicePrincipals(appId='"+appID+"')", nil)
	if code, _ := graphErr(body); status != http.StatusNotFound || code != "Request_ResourceNotFound" {
		t.Errorf("service principal before POST: %d %v", status, body)
	}

	// The token endpoint knows it: a user signs in by device code.
	status, tokens, err := deviceSignIn(t, s, appID, "https://outlook.office.com/IMAP.AccessAsUser.All offline_access", "anna.devries@contoso.com")
	if err != nil || status != http.StatusOK {
		t.Fatalf("sign-in to the new app: %v %d %v", err, status, tokens)
	}
	if c := jwtClaims(t, tokens["access_token"].(string)); c["appid"] != appID || c["scp"] != "IMAP.AccessAsUser.All" {
		t.Errorf("claims %v", c)
	}
}

func TestGraphCreateApplicationRefusesUnknownPermission(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	tok := adminToken(t, s, "admin@contoso.onmicrosoft.com")
	for name, access := range map[string]map[string]any{
		"unknown id":     rra(m365sim.GraphAppID, "11111111-2222-4333-8444-555555555555", "Scope"),
		"wrong resource": rra(m365sim.ExchangeAppID, imapScopeID, "Scope"),
		"wrong type":     rra(m365sim.ExchangeAppID, fullAccessID, "Scope"),
	} {
		status, body := graphCall(t, s, tok, "POST", "/applications", map[string]any{
			"displayName": "bad " + name, "requiredResourceAccess": []any{access},
		})
		if code, _ := graphErr(body); status != http.StatusBadRequest || code != "Request_BadRequest" {
			t.Errorf("%s: %d %v", name, status, body)
		}
		_, list := graphCall(t, s, tok, "GET", filterPath("applications", "displayName", "bad "+name), nil)
		if len(values(list)) != 0 {
			t.Errorf("%s: refused app was created: %v", name, list)
		}
	}
}

// Microsoft Graph Command Line Tools is first-party: the tenant has its
// service principal but no application object.
func TestGraphAdminAppIsFirstParty(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	tok := adminToken(t, s, "admin@contoso.onmicrosoft.com")
	if c := jwtClaims(t, tok); c["aud"] != "https://graph.microsoft.com" || c["appid"] != m365sim.GraphCLIAppID {
		t.Errorf("claims %v", c)
	}
	_, body := graphCall(t, s, tok, "GET", filterPath("applications", "appId", m365sim.GraphCLIAppID), nil)
	if len(values(body)) != 0 {
		t.Errorf("first-party app listed: %v", body)
	}
	status, body := graphCall(t, s, tok, "GET", "/servicePrincipals(appId='"+m365sim.GraphCLIAppID+"')", nil)
	if status != http.StatusOK || body["displayName"] != "Microsoft Graph Command Line Tools" {
		t.Errorf("service principal: %d %v", status, body)
	}
}

func TestGraphResourceServicePrincipals(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{Seed: 5})
	tok := adminToken(t, s, "admin@contoso.onmicrosoft.com")
	graph := resourceSP(t, s, tok, m365sim.GraphAppID)
	status, byID := graphCall(t, s, tok, "GET", "/servicePrincipals/"+graph["id"].(string), nil)
	if status != http.StatusOK || byID["appId"] != m365sim.GraphAppID || byID["displayName"] != "Microsoft Graph" {
		t.Errorf("by id: %d %v", status, byID)
	}
	if r := find(graph["appRoles"], "value", "Mail.Send"); r == nil || r["id"] != graphMailSendID || r["isEnabled"] != true || jsonOf(r["allowedMemberTypes"]) != `["Application"]` {
		t.Errorf("Graph Mail.Send role: %v", r)
	}
	if sc := find(graph["oauth2PermissionScopes"], "value", "IMAP.AccessAsUser.All"); sc == nil || sc["id"] != imapScopeID || sc["type"] != "User" {
		t.Errorf("Graph IMAP scope: %v", sc)
	}
	if sc := find(graph["oauth2PermissionScopes"], "value", "User.Read.All"); sc == nil || sc["type"] != "Admin" {
		t.Errorf("Graph User.Read.All scope: %v", sc)
	}
	exo := resourceSP(t, s, tok, m365sim.ExchangeAppID)
	if r := find(exo["appRoles"], "value", "full_access_as_app"); r == nil || r["id"] != fullAccessID {
		t.Errorf("Exchange full_access_as_app: %v", r)
	}
	if sc := find(exo["oauth2PermissionScopes"], "value", "EWS.AccessAsUser.All"); sc == nil || sc["id"] != ewsScopeID {
		t.Errorf("Exchange EWS scope: %v", sc)
	}
	if sc := find(exo["oauth2PermissionScopes"], "value", "IMAP.AccessAsUser.All"); sc != nil {
		t.Errorf("IMAP belongs to Graph's service principal, found on Exchange's: %v", sc)
	}

	// The same seed gives the same object IDs.
	s2 := m365sim.Start(t, m365sim.Options{Seed: 5})
	if again := resourceSP(t, s2, adminToken(t, s2, "admin@contoso.onmicrosoft.com"), m365sim.GraphAppID); again["id"] != graph["id"] {
		t.Errorf("Graph service principal ID %v, then %v", graph["id"], again["id"])
	}
}

// The app-only setup a script does: app, secret, service principal,
// admin consent to full_access_as_app; the token then carries the role.
func TestGraphAppOnlySetup(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	tok := adminToken(t, s, "admin@contoso.onmicrosoft.com")
	app := createApp(t, s, tok, map[string]any{
		"displayName":            "mail daemon",
		"requiredResourceAccess": []any{rra(m365sim.ExchangeAppID, fullAccessID, "Role")},
	})
	appID := app["appId"].(string)
	status, pw := graphCall(t, s, tok, "POST", "/applications(appId='"+appID+"')/addPassword",
		map[string]any{"passwordCredential": map[string]any{"displayName": "prod"}})
	want(t, "addPassword", status, pw, http.StatusOK)
	secret, _ := pw["secretText"].(string)
	if len(secret) != 40 || pw["hint"] != secret[:3] || pw["displayName"] != "prod" || pw["keyId"] == "" {
		t.Errorf("addPassword answer %v", pw)
	}
	end, _ := time.Parse(time.RFC3339, pw["endDateTime"].(string))
	if d := end.Sub(s.Clock.Now().AddDate(2, 0, 0)); d < -48*time.Hour || d > 48*time.Hour {
		t.Errorf("default endDateTime %v, want two years from now", end)
	}

	status, cc := clientCredentials(t, s, appID, secret, "https://outlook.office365.com/.default")
	want(t, "token before consent", status, cc, http.StatusOK)
	if roles := jwtClaims(t, cc["access_token"].(string))["roles"]; roles != nil {
		t.Errorf("roles before consent: %v", roles)
	}

	spID := createSP(t, s, tok, appID)
	status, body := graphCall(t, s, tok, "POST", "/servicePrincipals", map[string]any{"appId": appID})
	if code, _ := graphErr(body); status != http.StatusConflict || code != "Request_MultipleObjectsWithSameKeyValue" {
		t.Errorf("second service principal: %d %v", status, body)
	}

	exo := resourceSP(t, s, tok, m365sim.ExchangeAppID)
	exoID := exo["id"].(string)
	roleID := find(exo["appRoles"], "value", "full_access_as_app")["id"].(string)
	status, asg := assignRole(t, s, tok, exoID, spID, roleID)
	want(t, "appRoleAssignedTo", status, asg, http.StatusCreated)
	if asg["principalId"] != spID || asg["resourceId"] != exoID || asg["appRoleId"] != roleID || asg["principalType"] != "ServicePrincipal" ||
		asg["principalDisplayName"] != "mail daemon" || asg["resourceDisplayName"] != "Office 365 Exchange Online" || asg["id"] == "" || asg["createdDateTime"] == nil {
		t.Errorf("assignment %v", asg)
	}
	status, body = assignRole(t, s, tok, exoID, spID, roleID)
	if code, msg := graphErr(body); status != http.StatusBadRequest || code != "Request_BadRequest" || msg != "Permission being assigned already exists on the object" {
		t.Errorf("duplicate assignment: %d %v", status, body)
	}
	if !s.HasRole(s.Tenant, appID, "full_access_as_app") {
		t.Error("HasRole: false after appRoleAssignedTo")
	}

	status, cc = clientCredentials(t, s, appID, secret, "https://outlook.office365.com/.default")
	want(t, "token after consent", status, cc, http.StatusOK)
	if roles := jwtClaims(t, cc["access_token"].(string))["roles"]; jsonOf(roles) != `["full_access_as_app"]` {
		t.Errorf("roles %v", roles)
	}

	for _, path := range []string{"/servicePrincipals/" + exoID + "/appRoleAssignedTo", "/servicePrincipals/" + spID + "/appRoleAssignments"} {
		status, body := graphCall(t, s, tok, "GET", path, nil)
		if v := values(body); status != http.StatusOK || len(v) != 1 || v[0]["id"] != asg["id"] {
			t.Errorf("GET %s: %d %v", path, status, body)
		}
	}
}

// PATCH replaces the fields it holds; requiredResourceAccess as a whole.
func TestGraphPatchApplication(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	tok := adminToken(t, s, "admin@contoso.onmicrosoft.com")
	app := createApp(t, s, tok, map[string]any{
		"displayName": "sync", "isFallbackPublicClient": true,
		"publicClient":           map[string]any{"redirectUris": []string{"http://localhost"}},
		"requiredResourceAccess": []any{rra(m365sim.GraphAppID, imapScopeID, "Scope", smtpScopeID, "Scope")},
	})
	path := "/applications/" + app["id"].(string)
	ews := []any{rra(m365sim.ExchangeAppID, ewsScopeID, "Scope")}
	status, body := graphCall(t, s, tok, "PATCH", path, map[string]any{"requiredResourceAccess": ews, "isFallbackPublicClient": false})
	want(t, "PATCH", status, body, http.StatusNoContent)
	_, got := graphCall(t, s, tok, "GET", path, nil)
	if jsonOf(got["requiredResourceAccess"]) != jsonOf(ews) || got["displayName"] != "sync" || got["isFallbackPublicClient"] != false ||
		jsonOf(got["publicClient"]) != `{"redirectUris":["http://localhost"]}` {
		t.Errorf("after PATCH: %v", got)
	}

	status, body = graphCall(t, s, tok, "PATCH", "/applications(appId='"+app["appId"].(string)+"')", map[string]any{
		"displayName": "renamed", "requiredResourceAccess": []any{rra(m365sim.GraphAppID, fullAccessID, "Role")},
	})
	if status != http.StatusBadRequest {
		t.Errorf("PATCH with a bad permission: %d %v", status, body)
	}
	if _, again := graphCall(t, s, tok, "GET", path, nil); !reflect.DeepEqual(again, got) {
		t.Errorf("a refused PATCH changed the app: %v", again)
	}

	// The identity platform sees the change: no more public client flows.
	status, tokens, err := deviceSignIn(t, s, app["appId"].(string), "https://outlook.office365.com/EWS.AccessAsUser.All", "anna.devries@contoso.com")
	if err != nil || status != http.StatusUnauthorized || errorCode(tokens) != 7000218 {
		t.Errorf("device code after isFallbackPublicClient=false: %v %d %v", err, status, tokens)
	}
}

// addPassword shows the value once; GET never does; removePassword makes
// the secret useless at once.
func TestGraphSecretRotation(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	tok := adminToken(t, s, "admin@contoso.onmicrosoft.com")
	key := "/applications(appId='" + s.App.ClientID + "')"
	end := s.Clock.Now().Add(90 * 24 * time.Hour).UTC().Truncate(time.Second)
	status, pw := graphCall(t, s, tok, "POST", key+"/addPassword",
		map[string]any{"passwordCredential": map[string]any{"displayName": "rotation 2026", "endDateTime": end.Format(time.RFC3339)}})
	want(t, "addPassword", status, pw, http.StatusOK)
	secret, keyID := pw["secretText"].(string), pw["keyId"].(string)
	if got, _ := time.Parse(time.RFC3339, pw["endDateTime"].(string)); !got.Equal(end) {
		t.Errorf("endDateTime %v, want %v", pw["endDateTime"], end)
	}

	_, hdr, app := graphRaw(t, s, tok, "GET", key, nil, nil)
	if raw := jsonOf(app); strings.Contains(raw, secret) {
		t.Fatalf("GET shows the secret: %s (%v)", raw, hdr)
	}
	cred := find(app["passwordCredentials"], "keyId", keyID)
	if v, ok := cred["secretText"]; !ok || v != nil || cred["hint"] != secret[:3] || cred["displayName"] != "rotation 2026" {
		t.Errorf("credential as GET shows it: %v", cred)
	}
	if v, ok := cred["customKeyIdentifier"]; !ok || v != nil {
		t.Errorf("customKeyIdentifier %v", cred)
	}

	if status, cc := clientCredentials(t, s, s.App.ClientID, secret, "https://graph.microsoft.com/.default"); status != http.StatusOK {
		t.Fatalf("new secret: %d %v", status, cc)
	}
	status, body := graphCall(t, s, tok, "POST", key+"/removePassword", map[string]any{"keyId": keyID})
	want(t, "removePassword", status, body, http.StatusNoContent)
	if _, app := graphCall(t, s, tok, "GET", key, nil); find(app["passwordCredentials"], "keyId", keyID) != nil {
		t.Errorf("removed credential still listed: %v", app)
	}
	if status, cc := clientCredentials(t, s, s.App.ClientID, secret, "https://graph.microsoft.com/.default"); status != http.StatusUnauthorized || errorCode(cc) != 7000215 {
		t.Errorf("removed secret: %d %v", status, cc)
	}

	status, body = graphCall(t, s, tok, "POST", key+"/removePassword", map[string]any{"keyId": keyID})
	if code, _ := graphErr(body); status != http.StatusBadRequest || code != "Request_BadRequest" {
		t.Errorf("unknown keyId: %d %v", status, body)
	}
	status, body = graphCall(t, s, tok, "POST", key+"/addPassword",
		map[string]any{"passwordCredential": map[string]any{"endDateTime": s.Clock.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}})
	if status != http.StatusBadRequest {
		t.Errorf("endDateTime in the past: %d %v", status, body)
	}
}

// An app with Application.ReadWrite.OwnedBy rotates its own secret, and
// no one else's.
func TestGraphOwnedByRotatesOwnSecret(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	self := s.RegisterApp(s.Tenant, m365sim.AppSpec{DisplayName: "self-rotating daemon", Required: []string{"role:Application.ReadWrite.OwnedBy"}})
	old := s.AddSecret(self, 24*time.Hour)
	s.GrantAdminConsent(s.Tenant, self)
	status, cc := clientCredentials(t, s, self.ClientID, old.Value, "https://graph.microsoft.com/.default")
	want(t, "app token", status, cc, http.StatusOK)
	tok := cc["access_token"].(string)
	if c := jwtClaims(t, tok); jsonOf(c["roles"]) != `["Application.ReadWrite.OwnedBy"]` || c["idtyp"] != "app" {
		t.Fatalf("claims %v", c)
	}

	own := "/applications(appId='" + self.ClientID + "')"
	if status, body := graphCall(t, s, tok, "GET", own, nil); status != http.StatusOK || find(body["passwordCredentials"], "keyId", old.KeyID) == nil {
		t.Errorf("GET own app: %d %v", status, body)
	}
	status, pw := graphCall(t, s, tok, "POST", own+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "next"}})
	want(t, "addPassword on own app", status, pw, http.StatusOK)
	if status, cc := clientCredentials(t, s, self.ClientID, pw["secretText"].(string), "https://graph.microsoft.com/.default"); status != http.StatusOK {
		t.Fatalf("new secret: %d %v", status, cc)
	}
	status, body := graphCall(t, s, tok, "POST", own+"/removePassword", map[string]any{"keyId": old.KeyID})
	want(t, "removePassword on own app", status, body, http.StatusNoContent)
	if status, cc := clientCredentials(t, s, self.ClientID, old.Value, "https://graph.microsoft.com/.default"); status != http.StatusUnauthorized || errorCode(cc) != 7000215 {
		t.Errorf("old secret after removal: %d %v", status, cc)
	}

	other := "/applications(appId='" + s.App.ClientID + "')"
	for _, c := range []struct{ method, path string }{{"POST", other + "/addPassword"}, {"POST", other + "/removePassword"}, {"GET", other}} {
		status, body := graphCall(t, s, tok, c.method, c.path, map[string]any{})
		if code, msg := graphErr(body); status != http.StatusForbidden || code != "Authorization_RequestDenied" || msg != "Insufficient privileges to complete the operation." {
			t.Errorf("%s %s: %d %v", c.method, c.path, status, body)
		}
	}
}

// find returns the first object of a JSON list whose key has value.
func find(list any, key, value string) map[string]any {
	items, _ := list.([]any)
	for _, it := range items {
		if m, _ := it.(map[string]any); m[key] == value {
			return m
		}
	}
	return nil
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
