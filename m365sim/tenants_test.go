package m365sim_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/modauth/modauth/m365sim"
)

// An added tenant is a directory of its own behind the same URL: its
// users sign in to its apps, a refresh token seeded for one of them is
// redeemed at its token endpoint and nowhere else, and Graph lets the
// token read that user's mailbox and no other tenant's.
func TestAddTenantIsADirectoryOfItsOwn(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{Users: 3})
	fab := s.AddTenant("fabrikam.com", 5)
	if fab.ID == s.Tenant.ID || len(fab.Users) < 5 {
		t.Fatalf("added tenant %s with %d users", fab.ID, len(fab.Users))
	}
	var doc map[string]any
	if code := getJSON(t, s, "/fabrikam.com/v2.0/.well-known/openid-configuration", &doc); code != 200 || doc["issuer"] != s.URL+"/"+fab.ID+"/v2.0" {
		t.Fatalf("discovery by the added domain: %d %v", code, doc["issuer"])
	}
	app := s.RegisterApp(fab, m365sim.AppSpec{DisplayName: "crm", FallbackPublicClient: true, Required: []string{"Calendars.ReadWrite", "offline_access"}})
	s.GrantAdminConsent(fab, app)
	u := fab.Users[len(fab.Users)-1]
	rt := s.DeviceSignedIn(fab, app, u)

	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "refresh_token": {rt}, "scope": {"https://graph.microsoft.com/Calendars.ReadWrite offline_access"}}
	if code, body := postForm(t, s, "/"+s.Tenant.ID+"/oauth2/v2.0/token", form); code == 200 {
		t.Fatalf("the default tenant redeemed the added tenant's refresh token: %v", body)
	}
	code, body := postForm(t, s, "/"+fab.ID+"/oauth2/v2.0/token", form)
	at, _ := body["access_token"].(string)
	if code != 200 || at == "" || body["refresh_token"] == rt {
		t.Fatalf("refresh in the added tenant: %d %v", code, body["error_description"])
	}
	get := func(upn string) int {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1.0/users/"+upn+"/calendarView/delta?startDateTime=2026-01-01T00:00:00Z&endDateTime=2026-02-01T00:00:00Z", nil)
		req.Header.Set("Authorization", "Bearer "+at)
		resp, err := s.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(u.UPN); code != http.StatusOK {
		t.Errorf("the user's own calendar: status %d", code)
	}
	if code := get(s.Tenant.Users[0].UPN); code == http.StatusOK {
		t.Errorf("a user of the default tenant was reachable with the added tenant's token")
	}
}
