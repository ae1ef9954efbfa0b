package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// simProfile registers an app-only app in a simulator and stores a
// profile for it in a fresh data directory.
func simProfile(t *testing.T, roles ...string) (*m365sim.Sim, string, m365sim.PasswordCredential) {
	t.Helper()
	sim := m365sim.Start(t, m365sim.Options{})
	app := sim.RegisterApp(sim.Tenant, m365sim.AppSpec{DisplayName: "acme (production)", Required: roles})
	sec := sim.AddSecret(app, 90*24*time.Hour)
	sim.GrantAdminConsent(sim.Tenant, app)
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "modauth.db"), store.Options{Now: sim.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p := store.Profile{ID: "acme", Customer: "Acme", Environment: "production", TenantID: sim.Tenant.ID, ClientID: app.ClientID,
		Model: store.AppOnly, Protocols: []store.Protocol{store.Graph}, Hosts: testkit.Hosts(sim)}
	if err := db.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	if err := db.SetClientSecret("acme", store.ClientSecret{Value: store.Secret(sec.Value), KeyID: sec.KeyID, Expiry: sec.End, ExpirySource: store.ExpiryGraph}); err != nil {
		t.Fatal(err)
	}
	return sim, dir, sec
}

func TestSecretRotateCommand(t *testing.T) {
	sim, dir, old := simProfile(t, "role:Application.ReadWrite.OwnedBy", "role:Mail.Send")
	out, errOut, done := run(t, context.Background(), "secret", "rotate", "--profile", "acme", "--yes", "--data-dir", dir)
	if err := <-done; err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	db, _ := store.Open(filepath.Join(dir, "modauth.db"), store.Options{Now: sim.Clock.Now})
	defer db.Close()
	cs, _ := db.ClientSecret("acme")
	if cs.KeyID == old.KeyID || strings.TrimSpace(out.String()) != cs.KeyID {
		t.Errorf("stored %s, printed %q, old %s", cs.KeyID, out, old.KeyID)
	}
	app := sim.Tenant.App(mustProfile(t, db).ClientID)
	if len(app.Secrets) != 1 || app.Secrets[0].KeyID != cs.KeyID {
		t.Errorf("secrets left in Entra: %d", len(app.Secrets))
	}
	if strings.Contains(out.String()+errOut.String(), cs.Value.Reveal()) || strings.Contains(errOut.String(), old.Value) {
		t.Error("a secret value was printed")
	}
}

func mustProfile(t *testing.T, db *store.DB) store.Profile {
	p, err := db.Profile("acme")
	if err != nil {
		t.Fatal(err)
	}
	return p
}
