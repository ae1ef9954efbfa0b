package m365sim_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/modauth/modauth/m365sim"
)

// Admin consent through oauth2PermissionGrants: users then sign in to the
// app without being asked, even for admin-only scopes, and a PATCH of a
// user's grant changes what the next refresh may get.
func TestGraphPermissionGrants(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	tok := adminToken(t, s, "admin@contoso.onmicrosoft.com")
	app := createApp(t, s, tok, map[string]any{
		"displayName": "directory sync", "isFallbackPublicClient": true,
		"publicClient": map[string]any{"redirectUris": []string{"http://localhost"}},
	})
	appID := app["appId"].(string)
	spID := createSP(t, s, tok, appID)
	graphSP := resourceSP(t, s, tok, m365sim.GraphAppID)["id"].(string)
	const anna = "anna.devries@contoso.com"

	// User.Read.All needs an admin: anna cannot consent to it herself.
	if _, _, err := deviceSignIn(t, s, appID, "https://graph.microsoft.com/User.Read.All", anna); err == nil || !strings.Contains(err.Error(), "AADSTS90094") {
		t.Fatalf("anna before the grant: %v, want AADSTS90094", err)
	}
	status, grant := graphCall(t, s, tok, "POST", "/oauth2PermissionGrants", map[string]any{
		"clientId": spID, "consentType": "AllPrincipals", "resourceId": graphSP, "scope": "User.Read.All offline_access",
	})
	want(t, "AllPrincipals grant", status, grant, http.StatusCreated)
	if id, _ := grant["id"].(string); len(id) != 43 || grant["clientId"] != spID || grant["resourceId"] != graphSP ||
		grant["consentType"] != "AllPrincipals" || grant["principalId"] != nil || grant["scope"] != "offline_access User.Read.All" {
		t.Errorf("grant %v", grant)
	}
	// Entra derives the ID from the client's and resource's object IDs,
	// in .NET byte order.
	if raw, _ := base64.RawURLEncoding.DecodeString(grant["id"].(string)); len(raw) != 32 || dotnetGUID(raw[:16]) != spID || dotnetGUID(raw[16:]) != graphSP {
		t.Errorf("grant ID %v does not encode client %s and resource %s", grant["id"], spID, graphSP)
	}
	if !s.HasDelegatedGrant(s.Tenant, appID, "User.Read.All") || s.HasDelegatedGrant(s.Tenant, appID, "Mail.Read") {
		t.Error("HasDelegatedGrant disagrees with the grant")
	}
	status, body := graphCall(t, s, tok, "POST", "/oauth2PermissionGrants", map[string]any{
		"clientId": spID, "consentType": "AllPrincipals", "resourceId": graphSP, "scope": "Mail.Read",
	})
	if code, _ := graphErr(body); status != http.StatusConflict || code != "Request_MultipleObjectsWithSameKeyValue" {
		t.Errorf("second AllPrincipals grant: %d %v", status, body)
	}

	// Now anna signs in without a consent prompt: declining it changes nothing.
	authURL := s.URL + "/" + s.Tenant.ID + "/oauth2/v2.0/authorize?" + url.Values{
		"client_id": {appID}, "response_type": {"code"}, "redirect_uri": {"http://localhost"},
		"scope": {"https://graph.microsoft.com/User.Read.All offline_access"},
	}.Encode()
	if to, err := s.SignInDeclining(authURL, anna); err != nil || !strings.Contains(to, "code=") {
		t.Errorf("anna after the grant: %q %v", to, err)
	}

	// Anna consents to IMAP herself: that is a Principal grant, listed too.
	status, tokens, err := deviceSignIn(t, s, appID, "https://outlook.office.com/IMAP.AccessAsUser.All offline_access", anna)
	if err != nil || status != http.StatusOK {
		t.Fatalf("anna's IMAP sign-in: %v %d %v", err, status, tokens)
	}
	rt := tokens["refresh_token"].(string)
	status, denied := refresh(t, s, appID, rt, "https://graph.microsoft.com/Mail.Read")
	if status != http.StatusBadRequest || errorCode(denied) != 65001 {
		t.Fatalf("refresh for Mail.Read before the grant: %d %v", status, denied)
	}
	status, list := graphCall(t, s, tok, "GET", filterPath("oauth2PermissionGrants", "clientId", spID), nil)
	want(t, "list grants", status, list, http.StatusOK)
	annaID := s.Tenant.User(anna).ObjectID
	mine := find(list["value"], "consentType", "Principal")
	if len(values(list)) != 2 || mine == nil || mine["principalId"] != annaID || mine["scope"] != "IMAP.AccessAsUser.All" {
		t.Fatalf("grants %v", list)
	}
	status, body = graphCall(t, s, tok, "POST", "/oauth2PermissionGrants", map[string]any{
		"clientId": spID, "consentType": "Principal", "principalId": annaID, "resourceId": graphSP, "scope": "Mail.Read",
	})
	if status != http.StatusConflict {
		t.Errorf("second grant for anna: %d %v", status, body)
	}

	grantPath := "/oauth2PermissionGrants/" + mine["id"].(string)
	status, body = graphCall(t, s, tok, "PATCH", grantPath, map[string]any{"scope": "IMAP.AccessAsUser.All Mail.Read"})
	want(t, "PATCH grant", status, body, http.StatusNoContent)
	status, tokens = refresh(t, s, appID, rt, "https://graph.microsoft.com/Mail.Read")
	want(t, "refresh for Mail.Read after PATCH", status, tokens, http.StatusOK)
	if scp := jwtClaims(t, tokens["access_token"].(string))["scp"]; scp != "Mail.Read" {
		t.Errorf("scp %v", scp)
	}
	rt = tokens["refresh_token"].(string)

	status, body = graphCall(t, s, tok, "PATCH", grantPath, map[string]any{"scope": "IMAP.AccessAsUser.All"})
	want(t, "PATCH grant back", status, body, http.StatusNoContent)
	if _, got := graphCall(t, s, tok, "GET", grantPath, nil); got["scope"] != "IMAP.AccessAsUser.All" {
		t.Errorf("grant after PATCH: %v", got)
	}
	if status, body := refresh(t, s, appID, rt, "https://graph.microsoft.com/Mail.Read"); status != http.StatusBadRequest || errorCode(body) != 65001 {
		t.Errorf("refresh for Mail.Read after it was taken away: %d %v", status, body)
	}
	if status, body := refresh(t, s, appID, rt, "https://outlook.office.com/IMAP.AccessAsUser.All"); status != http.StatusOK {
		t.Errorf("refresh for IMAP: %d %v", status, body)
	}

	status, body = graphCall(t, s, tok, "PATCH", grantPath, map[string]any{"scope": "full_access_as_app"})
	if status != http.StatusBadRequest {
		t.Errorf("PATCH with a scope Graph does not have: %d %v", status, body)
	}
}

func TestGraphPermissionGrantValidation(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	tok := adminToken(t, s, "admin@contoso.onmicrosoft.com")
	graphSP := resourceSP(t, s, tok, m365sim.GraphAppID)["id"].(string)
	exoSP := resourceSP(t, s, tok, m365sim.ExchangeAppID)["id"].(string)
	appSP := s.App.SPObjectID
	cases := map[string]map[string]any{
		"unknown client":            {"clientId": "00000000-0000-4000-8000-000000000000", "consentType": "AllPrincipals", "resourceId": graphSP, "scope": "SMTP.Send"},
		"client as resource":        {"clientId": appSP, "consentType": "AllPrincipals", "resourceId": appSP, "scope": "SMTP.Send"},
		"bad consentType":           {"clientId": appSP, "consentType": "Everyone", "resourceId": graphSP, "scope": "SMTP.Send"},
		"Principal without user":    {"clientId": appSP, "consentType": "Principal", "resourceId": graphSP, "scope": "SMTP.Send"},
		"scope of another resource": {"clientId": appSP, "consentType": "AllPrincipals", "resourceId": exoSP, "scope": "SMTP.Send"},
		"scope URI instead of name": {"clientId": appSP, "consentType": "AllPrincipals", "resourceId": graphSP, "scope": "https://outlook.office.com/SMTP.Send"},
		"empty scope":               {"clientId": appSP, "consentType": "AllPrincipals", "resourceId": graphSP, "scope": ""},
		"AllPrincipals with a user": {"clientId": appSP, "consentType": "AllPrincipals", "principalId": s.Tenant.Users[1].ObjectID, "resourceId": graphSP, "scope": "SMTP.Send"},
	}
	for name, body := range cases {
		status, resp := graphCall(t, s, tok, "POST", "/oauth2PermissionGrants", body)
		if code, _ := graphErr(resp); status != http.StatusBadRequest || code != "Request_BadRequest" {
			t.Errorf("%s: %d %v", name, status, resp)
		}
	}
	if s.HasDelegatedGrant(s.Tenant, s.App.ClientID, "SMTP.Send") {
		t.Error("a refused grant was recorded")
	}
	status, resp := graphCall(t, s, tok, "POST", "/oauth2PermissionGrants", map[string]any{
		"clientId": appSP, "consentType": "AllPrincipals", "resourceId": exoSP, "scope": "EWS.AccessAsUser.All",
	})
	want(t, "Exchange grant", status, resp, http.StatusCreated)
	if !s.HasDelegatedGrant(s.Tenant, s.App.ClientID, "EWS.AccessAsUser.All") {
		t.Error("HasDelegatedGrant: false after the Exchange grant")
	}
}

// dotnetGUID formats 16 bytes in .NET's Guid.ToByteArray order.
func dotnetGUID(b []byte) string {
	return fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%x-%x", b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8:10], b[10:16])
}
