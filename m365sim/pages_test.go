package m365sim_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/modauth/modauth/m365sim"
)

// noFollow is a client that shows redirects instead of following them.
func noFollow(s *m365sim.Sim) *http.Client {
	c := *s.HTTPClient()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// readBody returns a reader of a response's body, to be called with a
// request's results: readBody(t)(http.Get(u)).
func readBody(t *testing.T) func(*http.Response, error) string {
	return func(resp *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
}

// A person completes the sign-in page by hand: the form posts back and
// the browser is redirected with a code and the state.
func TestSignInPageByHand(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	q := url.Values{"client_id": {s.App.ClientID}, "response_type": {"code"}, "redirect_uri": {"http://localhost:7777"},
		"scope": {"https://outlook.office.com/IMAP.AccessAsUser.All offline_access"}, "state": {"xyz"}}
	page := readBody(t)(http.Get(s.URL + "/contoso.com/oauth2/v2.0/authorize?" + q.Encode()))
	for _, want := range []string{"IMAP.AccessAsUser.All", "anna.devries@contoso.com", `name="state" value="xyz"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	form := url.Values{}
	for k, v := range q {
		form[k] = v
	}
	form.Set("upn", "anna.devries@contoso.com")
	form.Set("action", "accept")
	resp, err := noFollow(s).PostForm(s.URL+"/contoso.com/oauth2/v2.0/authorize", form)
	readBody(t)(resp, err)
	to, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || to.Host != "localhost:7777" || to.Query().Get("code") == "" || to.Query().Get("state") != "xyz" {
		t.Fatalf("redirect %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	form.Set("action", "cancel")
	form.Set("upn", "claire.dubois@contoso.com")
	resp, err = noFollow(s).PostForm(s.URL+"/contoso.com/oauth2/v2.0/authorize", form)
	readBody(t)(resp, err)
	if to, _ := url.Parse(resp.Header.Get("Location")); to.Query().Get("error") != "access_denied" || !strings.Contains(to.Query().Get("error_description"), "AADSTS65004") {
		t.Errorf("cancel: %s", resp.Header.Get("Location"))
	}
}

func TestSignInPageShowsRedirectMismatch(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	q := url.Values{"client_id": {s.App.ClientID}, "response_type": {"code"}, "redirect_uri": {"https://evil.example.com/"}, "scope": {"openid"}}
	resp, err := http.Get(s.URL + "/contoso.com/oauth2/v2.0/authorize?" + q.Encode())
	page := readBody(t)(resp, err)
	if resp.StatusCode != 400 || !strings.Contains(page, "AADSTS50011") {
		t.Errorf("status %d page %q", resp.StatusCode, page)
	}
}

func TestDeviceLoginPageByHand(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	_, body := postForm(t, s, "/contoso.com/oauth2/v2.0/devicecode", url.Values{"client_id": {s.App.ClientID}, "scope": {"https://outlook.office.com/SMTP.Send offline_access"}})
	code := body["user_code"].(string)
	if page := readBody(t)(http.Get(s.URL + "/devicelogin")); !strings.Contains(page, "Enter code") {
		t.Fatalf("page %q", page)
	}
	page := readBody(t)(http.PostForm(s.URL+"/devicelogin", url.Values{"code": {"WRONGCODE"}, "upn": {"anna.devries@contoso.com"}, "action": {"accept"}}))
	if !strings.Contains(page, "AADSTS70018") {
		t.Errorf("wrong code: %q", page)
	}
	page = readBody(t)(http.PostForm(s.URL+"/devicelogin", url.Values{"code": {strings.ToLower(code)}, "upn": {"anna.devries@contoso.com"}, "action": {"accept"}}))
	if !strings.Contains(page, "You have signed in") {
		t.Fatalf("approve: %q", page)
	}
	status, tok := postForm(t, s, "/contoso.com/oauth2/v2.0/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {s.App.ClientID}, "device_code": {body["device_code"].(string)}})
	if status != 200 || tok["refresh_token"] == nil || tok["id_token"] != nil {
		t.Errorf("token %d %v (no openid asked: no id_token)", status, tok)
	}
}

func TestAdminConsentPageByHand(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	app := s.RegisterApp(s.Tenant, m365sim.AppSpec{DisplayName: "daemon", WebRedirectURIs: []string{"https://crm.example.com/consent"}, Required: []string{"role:full_access_as_app"}})
	q := url.Values{"client_id": {app.ClientID}, "redirect_uri": {"https://crm.example.com/consent"}, "state": {"s1"}}
	if page := readBody(t)(http.Get(s.URL + "/contoso.com/adminconsent?" + q.Encode())); !strings.Contains(page, "full_access_as_app") {
		t.Fatalf("page %q", page)
	}
	q.Set("upn", "admin@contoso.onmicrosoft.com")
	resp, err := noFollow(s).PostForm(s.URL+"/contoso.com/adminconsent", q)
	readBody(t)(resp, err)
	to, _ := url.Parse(resp.Header.Get("Location"))
	if to.Query().Get("admin_consent") != "True" || to.Query().Get("tenant") != s.Tenant.ID || to.Query().Get("state") != "s1" {
		t.Errorf("redirect %s", resp.Header.Get("Location"))
	}
}
