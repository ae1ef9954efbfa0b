package testkit

import (
	"fmt"
	"testing"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// DelegatedTenant adds the i-th simulated tenant of a fleet, with a
// delegated Graph sync app consented by its admin, and stores it in db as
// the profile "t<i>-production", without users yet (see SignInUsers). It
// returns the tenant and the profile's ID.
func DelegatedTenant(t testing.TB, sim *m365sim.Sim, db *store.DB, i, users int, hosts store.Hosts) (*m365sim.Tenant, string) {
	t.Helper()
	domain := fmt.Sprintf("tenant%02d.example", i)
	tenant := sim.AddTenant(domain, users+2)
	app := sim.RegisterApp(tenant, m365sim.AppSpec{DisplayName: "delegated", PublicRedirectURIs: []string{"http://localhost"}, FallbackPublicClient: true,
		Required: []string{"Calendars.ReadWrite", "Contacts.ReadWrite", "Tasks.ReadWrite", "offline_access", "openid", "profile", "User.Read"}})
	sim.GrantAdminConsent(tenant, app)
	id := fmt.Sprintf("t%02d-production", i)
	p := store.Profile{ID: id, Customer: domain, Environment: "production", TenantID: tenant.ID, ClientID: app.ClientID,
		Model: store.Delegated, Scopes: GraphScopes, Protocols: []store.Protocol{store.Graph},
		Folders: []string{"calendar", "contacts", "tasks"}, Hosts: hosts}
	if err := db.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	return tenant, id
}

// SignInUsers stores up to n of the tenant's users with mailboxes under
// the profile, each signed in by device code with a refresh token: the
// tokens rotate at every redemption, so a tenant swept by two monitors at
// once shows up as a replay in the simulator.
func SignInUsers(t testing.TB, sim *m365sim.Sim, db *store.DB, tenant *m365sim.Tenant, profileID string, n int) {
	t.Helper()
	p, err := db.Profile(profileID)
	if err != nil {
		t.Fatal(err)
	}
	app := tenant.App(p.ClientID)
	batch := store.Batch{Profile: profileID, Tokens: map[string]store.Token{}}
	for _, u := range tenant.Users {
		if !u.HasMailbox || !u.Enabled || len(batch.Users) == n {
			continue
		}
		batch.Users = append(batch.Users, store.User{Key: u.ObjectID, Account: u.UPN, UPN: u.UPN, ObjectID: u.ObjectID, Mapping: store.MappingOK})
		batch.Tokens[u.ObjectID] = store.Token{RefreshToken: store.Secret(sim.DeviceSignedIn(tenant, app, u)), Scopes: GraphScopes, ViaDevice: true}
	}
	if err := db.Apply(batch); err != nil {
		t.Fatal(err)
	}
}
