package m365sim_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/modauth/modauth/m365sim"
)

// adminScope is what an admin tool asks for to register apps and grant
// their permissions.
const adminScope = "https://graph.microsoft.com/Application.ReadWrite.All https://graph.microsoft.com/AppRoleAssignment.ReadWrite.All https://graph.microsoft.com/DelegatedPermissionGrant.ReadWrite.All offline_access"

// Permission IDs the tests use (microsoft.md §2).
const (
	imapScopeID     = "652390e4-393a-48de-9484-05f9b1212954"
	smtpScopeID     = "258f6531-6087-4cc4-bb90-092c5fb3ed3f"
	offlineScopeID  = "7427e0e9-2fba-42fe-b0c0-848c9e6a8182"
	ewsScopeID      = "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5"
	fullAccessID    = "dc890d15-9560-4a4c-9b7f-a736ec74ec40"
	graphMailSendID = "b633e1c5-b582-4048-a93e-9f11b44c7e96"
)

// graphCall sends a Graph request with a bearer token ("" for none) and
// decodes the JSON answer, if any. path is below /v1.0 unless it starts
// with /beta/ or is a link on the simulator.
func graphCall(t *testing.T, s *m365sim.Sim, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	status, _, out := graphRaw(t, s, token, method, path, body, nil)
	return status, out
}

func graphRaw(t *testing.T, s *m365sim.Sim, token, method, path string, body any, header http.Header) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	target := s.URL + "/v1.0" + path
	switch {
	case strings.HasPrefix(path, "/beta/"):
		target = s.URL + path
	case strings.HasPrefix(path, s.URL+"/"): // a nextLink
		target = path
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, resp.Header, out
}

// want fails the test unless the call answered status.
func want(t *testing.T, what string, status int, body map[string]any, wantStatus int) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("%s: status %d, want %d: %v", what, status, wantStatus, body)
	}
}

// graphErr returns the code and message of a Graph error body.
func graphErr(body map[string]any) (code, message string) {
	e, _ := body["error"].(map[string]any)
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	return code, message
}

func filterPath(set, prop, value string) string {
	return "/" + set + "?$filter=" + url.QueryEscape(prop+" eq '"+value+"'")
}

// values returns a Graph collection's items.
func values(body map[string]any) []map[string]any {
	var out []map[string]any
	list, _ := body["value"].([]any)
	for _, v := range list {
		out = append(out, v.(map[string]any))
	}
	return out
}

// deviceSignIn runs a device-code sign-in of upn to the client, as a
// person approving on /devicelogin, and returns the token endpoint's
// answer. An approval the page refuses is returned as the error.
func deviceSignIn(t *testing.T, s *m365sim.Sim, clientID, scope, upn string) (int, map[string]any, error) {
	t.Helper()
	status, dc := postForm(t, s, "/"+s.Tenant.ID+"/oauth2/v2.0/devicecode", url.Values{"client_id": {clientID}, "scope": {scope}})
	if status != http.StatusOK {
		t.Fatalf("devicecode: %d %v", status, dc)
	}
	if err := s.ApproveDevice(dc["user_code"].(string), upn); err != nil {
		return 0, nil, err
	}
	status, tok := postForm(t, s, "/"+s.Tenant.ID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {clientID}, "device_code": {dc["device_code"].(string)},
	})
	return status, tok, nil
}

// adminToken signs upn in to Microsoft Graph Command Line Tools and
// returns a Graph access token.
func adminToken(t *testing.T, s *m365sim.Sim, upn string) string {
	t.Helper()
	status, tok, err := deviceSignIn(t, s, s.AdminApp.ClientID, adminScope, upn)
	if err != nil || status != http.StatusOK {
		t.Fatalf("admin sign-in of %s: %v %d %v", upn, err, status, tok)
	}
	return tok["access_token"].(string)
}

// clientCredentials asks for an app-only token.
func clientCredentials(t *testing.T, s *m365sim.Sim, clientID, secret, scope string) (int, map[string]any) {
	t.Helper()
	return postForm(t, s, "/"+s.Tenant.ID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {scope},
	})
}

func refresh(t *testing.T, s *m365sim.Sim, clientID, rt, scope string) (int, map[string]any) {
	t.Helper()
	return postForm(t, s, "/"+s.Tenant.ID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {rt}, "scope": {scope},
	})
}

// jwtClaims decodes a token's payload without checking it.
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func errorCode(body map[string]any) float64 {
	codes, _ := body["error_codes"].([]any)
	if len(codes) == 0 {
		return 0
	}
	return codes[0].(float64)
}

// createApp registers an app through Graph and returns its resource.
func createApp(t *testing.T, s *m365sim.Sim, token string, body map[string]any) map[string]any {
	t.Helper()
	status, app := graphCall(t, s, token, "POST", "/applications", body)
	want(t, "create application", status, app, http.StatusCreated)
	return app
}

// createSP creates an app's service principal and returns its object ID.
func createSP(t *testing.T, s *m365sim.Sim, token, appID string) string {
	t.Helper()
	status, sp := graphCall(t, s, token, "POST", "/servicePrincipals", map[string]any{"appId": appID})
	want(t, "create service principal", status, sp, http.StatusCreated)
	return sp["id"].(string)
}

// resourceSP looks up a first-party resource's service principal as a
// script does, by $filter on its appId.
func resourceSP(t *testing.T, s *m365sim.Sim, token, appID string) map[string]any {
	t.Helper()
	status, body := graphCall(t, s, token, "GET", filterPath("servicePrincipals", "appId", appID), nil)
	want(t, "find resource", status, body, http.StatusOK)
	if v := values(body); len(v) == 1 {
		return v[0]
	}
	t.Fatalf("resource %s: %v", appID, body)
	return nil
}

func rra(resourceAppID string, access ...string) map[string]any {
	var ra []map[string]string
	for i := 0; i < len(access); i += 2 {
		ra = append(ra, map[string]string{"id": access[i], "type": access[i+1]})
	}
	return map[string]any{"resourceAppId": resourceAppID, "resourceAccess": ra}
}

func assignRole(t *testing.T, s *m365sim.Sim, token, resourceID, principalID, roleID string) (int, map[string]any) {
	t.Helper()
	return graphCall(t, s, token, "POST", "/servicePrincipals/"+resourceID+"/appRoleAssignedTo",
		map[string]any{"principalId": principalID, "resourceId": resourceID, "appRoleId": roleID})
}
