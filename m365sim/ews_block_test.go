package m365sim_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
)

// TestEWSBlock: Exchange Online refuses EWS with HTTP 403 from
// 1 October 2026 to apps its allow list leaves out (when Microsoft's
// disablement reached the tenant and EwsEnabled was never set), and to
// every app from 1 April 2027; an on-premises server never does.
func TestEWSBlock(t *testing.T) {
	clock := m365sim.NewClockAt(time.Date(2026, 9, 30, 12, 0, 0, 0, time.UTC))
	s := m365sim.Start(t, m365sim.Options{Clock: clock})
	listed := s.RegisterApp(s.Tenant, m365sim.AppSpec{DisplayName: "listed", Required: []string{"role:full_access_as_app"}})
	other := s.RegisterApp(s.Tenant, m365sim.AppSpec{DisplayName: "other", Required: []string{"role:full_access_as_app"}})
	secrets := map[*m365sim.App]string{}
	for _, a := range []*m365sim.App{listed, other} {
		secrets[a] = s.AddSecret(a, 24*365*time.Hour).Value
		s.GrantAdminConsent(s.Tenant, a)
	}
	sync := func(a *m365sim.App) *ewsAnswer {
		t.Helper()
		status, tok := clientCredentials(t, s, a.ClientID, secrets[a], exoURI+"/.default")
		want(t, "client credentials", status, tok, http.StatusOK)
		set := func(r *http.Request) {
			bearer(tok["access_token"].(string))(r)
			r.Header.Set("X-AnchorMailbox", "bram.janssen@contoso.com")
		}
		return ewsPost(t, s, set, impersonate("bram.janssen@contoso.com"), syncItems(distinguished("contacts"), "", 10))
	}
	refused := func(a *ewsAnswer, words string) bool {
		return a.status == http.StatusForbidden && a.header.Get("WWW-Authenticate") == "" && strings.Contains(a.raw, words)
	}
	s.EWSDisablementReached(s.Tenant, true)
	for _, a := range []*m365sim.App{listed, other} {
		if m := sync(a).msg(t, "SyncFolderItems"); m.Code != "NoError" {
			t.Errorf("%s before 1 October 2026: %+v", a.DisplayName, m)
		}
	}
	clock.Advance(12 * time.Hour) // 2026-10-01T00:00Z
	if a := sync(other); !refused(a, "not allowed") {
		t.Errorf("EwsEnabled $null after the disablement: %d %v %q", a.status, a.header, a.raw)
	}
	s.AllowEWS(s.Tenant, strings.ToUpper(listed.ClientID))
	if m := sync(listed).msg(t, "SyncFolderItems"); m.Code != "NoError" {
		t.Errorf("allow-listed app: %+v", m)
	}
	if a := sync(other); !refused(a, "not allowed") {
		t.Errorf("app left out of the list: %d %q", a.status, a.raw)
	}
	s.DisableEWS(s.Tenant)
	if a := sync(listed); !refused(a, "not allowed") {
		t.Errorf("EwsEnabled $false: %d %q", a.status, a.raw)
	}
	s.AllowEWS(s.Tenant)
	clock.Advance(182*24*time.Hour - time.Second) // 2027-03-31T23:59:59Z
	if m := sync(listed).msg(t, "SyncFolderItems"); m.Code != "NoError" {
		t.Errorf("allow-listed app on 31 March 2027: %+v", m)
	}
	clock.Advance(time.Second)
	if a := sync(listed); !refused(a, "disabled in Exchange Online") {
		t.Errorf("allow-listed app on 1 April 2027: %d %q", a.status, a.raw)
	}

	// Exchange Server on-premises keeps EWS, whatever the date.
	s.EnableOnPremEWS("svc-sync@contoso.com", "S3cret!", true)
	basic := func(r *http.Request) { r.SetBasicAuth("svc-sync@contoso.com", "S3cret!") }
	if m := ewsPost(t, s, basic, impersonate("bram.janssen@contoso.com"), syncItems(distinguished("contacts"), "", 10)).msg(t, "SyncFolderItems"); m.Code != "NoError" {
		t.Errorf("on-premises with Basic after 1 April 2027: %+v", m)
	}
	if m := sync(other).msg(t, "SyncFolderItems"); m.Code != "NoError" {
		t.Errorf("on-premises with a token after 1 April 2027: %+v", m)
	}
}

// TestEWSBlockNotReached: a tenant Microsoft's disablement has not reached
// and whose EwsEnabled nobody set keeps EWS until 1 April 2027.
func TestEWSBlockNotReached(t *testing.T) {
	clock := m365sim.NewClockAt(time.Date(2027, 3, 31, 23, 0, 0, 0, time.UTC))
	s := m365sim.Start(t, m365sim.Options{Clock: clock})
	withAnchor := func(tok string) func(*http.Request) {
		return func(r *http.Request) {
			bearer(tok)(r)
			r.Header.Set("X-AnchorMailbox", "bram.janssen@contoso.com")
		}
	}
	tok := appToken(t, s, exoURI, "full_access_as_app")
	if m := ewsPost(t, s, withAnchor(tok), impersonate("bram.janssen@contoso.com"), syncItems(distinguished("contacts"), "", 10)).msg(t, "SyncFolderItems"); m.Code != "NoError" {
		t.Errorf("31 March 2027: %+v", m)
	}
	clock.Advance(time.Hour)
	tok = appToken(t, s, exoURI, "full_access_as_app")
	// Not reached: EWS stays, whatever the date, so the suite passes on
	// any day; reached, it is gone from 1 April 2027.
	if m := ewsPost(t, s, withAnchor(tok), impersonate("bram.janssen@contoso.com"), syncItems(distinguished("contacts"), "", 10)).msg(t, "SyncFolderItems"); m.Code != "NoError" {
		t.Errorf("1 April 2027, not reached: %+v", m)
	}
	s.EWSDisablementReached(s.Tenant, true)
	if a := ewsPost(t, s, withAnchor(tok), impersonate("bram.janssen@contoso.com"), syncItems(distinguished("contacts"), "", 10)); a.status != http.StatusForbidden {
		t.Errorf("1 April 2027, reached: %d", a.status)
	}
}
