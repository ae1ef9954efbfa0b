package main

import (
	"context"
	"os"
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

// TestSecretRotateAndRetireCommands: rotate writes the sheet with the new
// value and keeps the old secret; retire waits (exit 75) until the product
// is seen on the new one and nothing uses the old one, then removes it.
func TestSecretRotateAndRetireCommands(t *testing.T) {
	sim, dir, old := simProfile(t, "role:Application.ReadWrite.OwnedBy", "role:Mail.Send")
	addMonitor(t, sim, dir)
	app := sim.Tenant.App(profileIn(t, sim, dir).ClientID)
	product := testkit.Product{Sim: sim, ClientID: app.ClientID, Secret: old.Value}
	cmd := func(args ...string) (string, string, error) {
		t.Helper()
		out, errOut, done := runOn(sim.Clock.Now, context.Background(), append(args, "--profile", "acme", "--data-dir", dir)...)
		err := <-done
		all := out.String() + errOut.String()
		if strings.Contains(all, old.Value) || strings.Contains(all, product.Secret) {
			t.Fatalf("a secret value was printed:\n%s", all)
		}
		return out.String(), errOut.String(), err
	}

	if _, _, err := cmd("secret", "rotate"); exitCode(err) != 2 || !strings.Contains(err.Error(), "--handoff-file") {
		t.Fatalf("rotate without a hand-off file: %v", err)
	}
	sheet := filepath.Join(t.TempDir(), "handoff.txt")
	out, errOut, err := cmd("secret", "rotate", "--handoff-file", sheet)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	newKey := strings.TrimSpace(out)
	value := handedValue(t, sheet, app, newKey)
	if len(app.Secrets) != 2 {
		t.Fatalf("%d secrets in Entra after rotate, want the old and the new", len(app.Secrets))
	}
	if _, _, err := cmd("secret", "rotate", "--handoff-file", sheet); err == nil || !strings.Contains(err.Error(), "under way") {
		t.Errorf("a second rotate: %v", err)
	}

	sim.Clock.Advance(time.Minute)
	must(t, product.SignIn()) // the product still works on the old secret
	_, errOut, err = cmd("secret", "retire", "--when-unused")
	if exitCode(err) != exitTryLater || !strings.Contains(err.Error(), "has not signed in with the new secret") || !strings.Contains(errOut, "old secret "+old.KeyID+": 1 sign-in(s)") {
		t.Fatalf("retire before the switch: exit %d, %v\n%s", exitCode(err), err, errOut)
	}

	product.Secret = value // the admin enters the sheet's value in the product
	sim.Clock.Advance(time.Hour)
	must(t, product.SignIn())
	sim.Clock.Advance(time.Minute)
	_, errOut, err = cmd("secret", "retire", "--when-unused")
	if exitCode(err) != exitTryLater || !strings.Contains(errOut, "modauth uses it too") {
		t.Fatalf("retire at the switch: exit %d, %v\n%s", exitCode(err), err, errOut)
	}
	sim.Clock.Advance(15 * time.Minute)
	out, errOut, err = cmd("secret", "retire", "--when-unused")
	if err != nil || strings.TrimSpace(out) != old.KeyID {
		t.Fatalf("retire once the old secret is unused: %v, printed %q\n%s", err, out, errOut)
	}
	if len(app.Secrets) != 1 || app.Secrets[0].KeyID != newKey {
		t.Errorf("secrets left in Entra: %+v", app.Secrets)
	}
	must(t, product.SignIn()) // and the product never noticed
}

// A product that is never given the new secret keeps the old one: retire
// refuses, day after day; an admin who checked can still say so.
func TestSecretRetireWaitsForAProductThatNeverSwitches(t *testing.T) {
	sim, dir, old := simProfile(t, "role:Application.ReadWrite.OwnedBy", "role:Mail.Send")
	addMonitor(t, sim, dir)
	app := sim.Tenant.App(profileIn(t, sim, dir).ClientID)
	product := testkit.Product{Sim: sim, ClientID: app.ClientID, Secret: old.Value}
	run := func(args ...string) error {
		_, _, done := runOn(sim.Clock.Now, context.Background(), append(args, "--profile", "acme", "--data-dir", dir)...)
		return <-done
	}
	must(t, run("secret", "rotate", "--handoff-file", filepath.Join(t.TempDir(), "sheet.txt")))
	for range 3 {
		sim.Clock.Advance(24 * time.Hour)
		must(t, product.SignIn())
		if err := run("secret", "retire", "--when-unused"); exitCode(err) != exitTryLater {
			t.Fatalf("retire while the product uses the old secret: %v", err)
		}
	}
	if len(app.Secrets) != 2 {
		t.Fatalf("the old secret was removed while in use: %d left", len(app.Secrets))
	}
	if err := run("secret", "retire"); exitCode(err) != 2 {
		t.Errorf("retire without --when-unused or --confirmed: %v", err)
	}
	must(t, run("secret", "retire", "--confirmed"))
	if len(app.Secrets) != 1 {
		t.Errorf("--confirmed did not retire the old secret")
	}
}

// addMonitor gives the profile in dir a read-only monitoring app.
func addMonitor(t *testing.T, sim *m365sim.Sim, dir string) {
	t.Helper()
	mon := sim.RegisterApp(sim.Tenant, m365sim.AppSpec{DisplayName: "acme (modauth monitor)", Required: []string{"role:AuditLog.Read.All", "role:Directory.Read.All", "role:Application.Read.All", "role:User.Read.All"}})
	sim.GrantAdminConsent(sim.Tenant, mon)
	sec := sim.AddSecret(mon, 365*24*time.Hour)
	db := openIn(t, sim, dir)
	defer db.Close()
	p := mustProfile(t, db)
	p.Monitor = &store.MonitorApp{ClientID: mon.ClientID}
	must(t, db.PutProfile(p))
	must(t, db.SetMonitorSecret("acme", store.ClientSecret{Value: store.Secret(sec.Value), KeyID: sec.KeyID}))
}

func openIn(t *testing.T, sim *m365sim.Sim, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, "modauth.db"), store.Options{Now: sim.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func profileIn(t *testing.T, sim *m365sim.Sim, dir string) store.Profile {
	db := openIn(t, sim, dir)
	defer db.Close()
	return mustProfile(t, db)
}

// handedValue reads the new secret's value from the saved sheet: a 0600
// file that holds the secret Entra knows as keyID.
func handedValue(t *testing.T, path string, app *m365sim.App, keyID string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("hand-off sheet %s: %v, mode %v", path, err, fi.Mode())
	}
	data, _ := os.ReadFile(path)
	for _, s := range app.Secrets {
		if s.KeyID == keyID && strings.Contains(string(data), s.Value) {
			return s.Value
		}
	}
	t.Fatalf("the sheet does not hold the new secret %s:\n%s", keyID, data)
	return ""
}

func mustProfile(t *testing.T, db *store.DB) store.Profile {
	p, err := db.Profile("acme")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
