package monitor_test

import (
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

func (f *fixture) appOnlyEWS() {
	f.app = f.sim.RegisterApp(f.sim.Tenant, m365sim.AppSpec{DisplayName: "AllSolutions Exchange (production)", Required: []string{"role:full_access_as_app"}})
	f.sim.GrantAdminConsent(f.sim.Tenant, f.app)
	sec := f.sim.AddSecret(f.app, 365*24*time.Hour)
	f.putProfile(store.Profile{Model: store.AppOnly, Protocols: []store.Protocol{store.EWS}})
	if err := f.db.SetClientSecret(pid, store.ClientSecret{Value: store.Secret(sec.Value), KeyID: sec.KeyID, Expiry: sec.End}); err != nil {
		f.t.Fatal(err)
	}
}

func TestEWSSyncFirstIncrementalResyncAndBusy(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.appOnlyEWS()
	f.user("AV", anna, store.MappingOK)
	f.user("BJ", bram, store.MappingMismatch)
	f.sweep()
	for _, key := range []string{"AV", "BJ"} {
		if j := f.job(key); j.State != store.StateOK || j.Checkpoints["contacts"] == "" {
			t.Fatalf("%s: %s %v", key, j.State, j.LastError)
		}
	}
	f.synced("AV", anna, m365sim.FolderContacts)
	f.synced("BJ", bram, m365sim.FolderTasks)

	mb := f.sim.Mailbox(f.sim.Tenant.User(anna))
	mb.Add(m365sim.FolderContacts)
	mb.Delete(m365sim.FolderContacts, mb.IDs(m365sim.FolderContacts)[0])
	f.sim.EWSServerBusy(2, 1500*time.Millisecond) // retried after the back-off
	f.next()
	f.sweep()
	if j := f.job("AV"); j.State != store.StateOK {
		t.Fatalf("after busy: %s %v", j.State, j.LastError)
	}
	f.synced("AV", anna, m365sim.FolderContacts)

	f.sim.ExpireDeltaTokens(f.sim.Tenant.User(anna)) // SyncStates too
	mb.Add(m365sim.FolderTasks)
	f.next()
	f.sweep()
	if j := f.job("AV"); j.State != store.StateOK {
		t.Fatalf("after invalid SyncState: %s %v", j.State, j.LastError)
	}
	f.synced("AV", anna, m365sim.FolderTasks)
	f.synced("AV", anna, m365sim.FolderContacts)
}

func TestEWSOnPremisesServiceAccount(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.sim.EnableOnPremEWS(`CONTOSO\svc-allsolutions`, "Winter2026!", true)
	f.app = &m365sim.App{}
	f.putProfile(store.Profile{Model: store.ServiceAccount, Protocols: []store.Protocol{store.EWS}, OnPremises: true, ServiceAccount: `CONTOSO\svc-allsolutions`})
	if err := f.db.SetClientSecret(pid, store.ClientSecret{Value: "Winter2026!", KeyID: "password"}); err != nil {
		t.Fatal(err)
	}
	f.user("AV", anna, store.MappingOK)
	f.sweep()
	if j := f.job("AV"); j.State != store.StateOK {
		t.Fatalf("%s %v", j.State, j.LastError)
	}
	f.synced("AV", anna, m365sim.FolderContacts)

	f.sim.EnableOnPremEWS(`CONTOSO\svc-allsolutions`, "Winter2026!", false) // impersonation right taken away
	f.next()
	f.sweep()
	if j := f.job("AV"); j.State != store.StateConsentNeeded || j.LastError == nil {
		t.Errorf("without impersonation: %s %+v", j.State, j.LastError)
	}
}

// What an on-premises Exchange answers, each to its own state and fix:
// Windows authentication only (NTLM signs in), a proxy's forms login, a
// wrong password.
func TestEWSOnPremisesRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*m365sim.Sim)
		state store.JobState
		fix   string
	}{
		{"windows authentication only", func(s *m365sim.Sim) { s.EWSOnPremAuth(false, true) }, store.StateOK, ""},
		{"forms login in front", func(s *m365sim.Sim) { s.EWSFormsLogin(true) }, store.StateProxyLoginPage, "/owa/auth/logon.aspx"},
		{"wrong password", func(s *m365sim.Sim) { s.EnableOnPremEWS(`CONTOSO\svc-allsolutions`, "Spring2027!", true) }, store.StateSignInNeeded, "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, m365sim.Options{})
			f.sim.EnableOnPremEWS(`CONTOSO\svc-allsolutions`, "Winter2026!", true)
			tc.setup(f.sim)
			f.app = &m365sim.App{}
			f.putProfile(store.Profile{Model: store.ServiceAccount, Protocols: []store.Protocol{store.EWS}, OnPremises: true, ServiceAccount: `CONTOSO\svc-allsolutions`})
			if err := f.db.SetClientSecret(pid, store.ClientSecret{Value: "Winter2026!", KeyID: "password"}); err != nil {
				t.Fatal(err)
			}
			f.user("AV", anna, store.MappingOK)
			f.sweep()
			j := f.job("AV")
			if j.State != tc.state || !strings.Contains(monitor.FixFor(j), tc.fix) {
				t.Errorf("%s, fix %q", j.State, monitor.FixFor(j))
			}
			if j.LastError != nil && strings.Contains(j.LastError.Message+j.LastError.Fix+j.LastError.Meaning, "Winter2026!") {
				t.Error("the password is in the job's error")
			}
		})
	}
}

// The service-account model online (AllSolutions 000): one account signs
// in, and every mapped user's mailbox is opened with its token as a
// delegate with FullAccess (no impersonation role online). A user whose
// mailbox the account may not open is mailbox-access-denied with the
// Add-MailboxPermission that fixes it; the others sync.
func TestEWSServiceAccountOnline(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	const sa = "claire.dubois@contoso.com"
	f.app = f.sim.RegisterApp(f.sim.Tenant, m365sim.AppSpec{DisplayName: "AllSolutions Exchange (production)", PublicRedirectURIs: []string{"http://localhost"},
		FallbackPublicClient: true, Required: []string{"EWS.AccessAsUser.All", "offline_access", "openid", "profile"}})
	f.sim.GrantAdminConsent(f.sim.Tenant, f.app)
	scopes := []string{"https://outlook.office365.com/EWS.AccessAsUser.All", "offline_access", "openid", "profile"}
	f.putProfile(store.Profile{Model: store.ServiceAccount, Protocols: []store.Protocol{store.EWS}, ServiceAccount: sa, Scopes: scopes})
	f.user("AV", anna, store.MappingOK)
	f.user("BJ", bram, store.MappingMismatch)
	f.user(store.ServiceAccountKey, sa, store.MappingOK) // as the consent step keeps it
	f.signInScopes(store.ServiceAccountKey, sa, scopes)  // only the service account signs in
	f.sim.GrantFullAccess(f.sim.Tenant.User(anna), f.sim.Tenant.User(sa), true)
	f.sweep()
	if j := f.job("AV"); j.State != store.StateOK || j.Checkpoints["contacts"] == "" {
		t.Fatalf("anna, FullAccess given: %s %+v", j.State, j.LastError)
	}
	f.synced("AV", anna, m365sim.FolderContacts)
	j := f.job("BJ")
	if j.State != store.StateMailboxDenied || !strings.Contains(monitor.FixFor(j), "Add-MailboxPermission -Identity <mailbox> -User "+sa) {
		t.Errorf("bram, no FullAccess: %s, fix %q", j.State, monitor.FixFor(j))
	}
}
