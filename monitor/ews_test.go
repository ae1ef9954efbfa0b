package monitor_test

import (
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
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
