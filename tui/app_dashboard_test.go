package tui

import (
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// completeAppOnly stores an app-only Graph profile whose setup is done,
// with an app in the simulator that may rotate its own secret.
func completeAppOnly(t *testing.T, h *harness) *m365sim.App {
	t.Helper()
	app := h.sim.RegisterApp(h.sim.Tenant, m365sim.AppSpec{DisplayName: "moveIT Exchange (production)",
		Required: []string{"role:Calendars.ReadWrite", "role:Contacts.ReadWrite", "role:Tasks.ReadWrite.All", "role:Application.ReadWrite.OwnedBy"}})
	h.sim.GrantAdminConsent(h.sim.Tenant, app)
	sec := h.sim.AddSecret(app, 20*24*time.Hour)
	p := store.Profile{ID: "acme-production", Customer: "Acme", Environment: "production", Preset: "generic", Model: store.AppOnly,
		Protocols: []store.Protocol{store.Graph}, Folders: []string{"calendar", "contacts", "tasks"}, TenantID: h.sim.Tenant.ID,
		ClientID: app.ClientID, Hosts: h.options().Hosts, WizardStep: stepVerify}
	must(t, h.db.PutProfile(p))
	must(t, h.db.SetClientSecret(p.ID, store.ClientSecret{Value: store.Secret(sec.Value), KeyID: sec.KeyID, Expiry: sec.End, ExpirySource: store.ExpiryGraph}))
	for _, u := range []struct{ key, upn string }{{"AV", "anna.devries@contoso.com"}, {"BJ", "bjanssen@contoso.onmicrosoft.com"}, {"XX", "nobody@contoso.com"}} {
		su := h.sim.Tenant.User(u.upn)
		user := store.User{Key: u.key, Name: u.key, Account: u.upn, UPN: u.upn, Mapping: store.MappingOK}
		if su != nil {
			user.ObjectID, user.PrimarySMTP = su.ObjectID, su.Mail
		} else {
			user.Mapping = store.MappingNotFound
		}
		must(t, h.db.PutUsers(p.ID, user))
	}
	return app
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDashboardOpensAfterSetupAndSweeps(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	app := completeAppOnly(t, h)
	h.open()
	if h.m.screen != screenDashboard {
		t.Fatalf("screen %v", h.m.screen)
	}
	h.sees("acme-production", "secret 20d 0h") // the clock stands still: to the second
	h.fits()
	// The first sweep ran inside the program: two users synced, one not.
	if j, _ := h.db.Job("acme-production", "AV"); j.State != store.StateOK {
		t.Fatalf("anna after the first sweep: %s", j.State)
	}
	h.keys("3") // no sync-id
	h.sees("no sync-id: 1 of 3", "XX")
	h.fits()

	h.keys("y")
	h.sees("✓ synced 1 user(s)")
	h.keys("e")
	h.sees("user(s) written to")
	files, _ := os.ReadDir(h.db.Path()[:strings.LastIndex(h.db.Path(), "/")])
	found := false
	for _, f := range files {
		found = found || strings.HasPrefix(f.Name(), "acme-production-users-")
	}
	if !found {
		t.Error("no export file")
	}

	old := app.Secrets[0].KeyID
	h.keys("R")
	h.sees("Rotate the client secret?")
	h.keys("y")
	h.sees("✓ new secret")
	cs, _ := h.db.ClientSecret("acme-production")
	if cs.KeyID == old || len(app.Secrets) != 1 {
		t.Errorf("rotation: stored %s, old %s, %d secrets in Entra", cs.KeyID, old, len(app.Secrets))
	}
	h.sees("secret 365d 0h") // the header counts down to the new secret's expiry
	h.keys("1<down>l")
	h.sees("consent link for")

	h.keys("n")
	if h.m.screen != screenWizard || h.step() != stepProfile {
		t.Errorf("n: screen %v step %s", h.m.screen, h.step())
	}
}

// The next sweep is timed on the interface's clock: a test's clock stands
// days or years away from the wall clock, and the timer must still wait
// the sweep interval, not fire at once.
func TestDashboardTimesTheNextSweepOnItsClock(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	completeAppOnly(t, h)
	h.open()
	now := h.sim.Clock.Now()
	_, cmd := h.m.Update(sweepMsg{at: now, next: now.Add(15 * time.Minute)})
	fired := false
	runCmd(cmd, 1500*time.Millisecond, func(msg tea.Msg) {
		_, tick := msg.(sweepTickMsg)
		fired = fired || tick
	})
	if fired {
		t.Error("the next sweep started at once, not 15 minutes on")
	}
}

func TestDashboardReconsentOpensTheConsentStep(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	completeAppOnly(t, h)
	h.open()
	h.keys("c")
	if h.m.screen != screenWizard || h.step() != stepConsent {
		t.Errorf("c: screen %v step %s", h.m.screen, h.step())
	}
}

func TestDashboardSyncFailingAndStaleWhenUnreachable(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	completeAppOnly(t, h)
	h.open()
	h.keys("F")
	h.sees("✓ synced 1 user(s)") // only XX, whose account is not found
	if strings.Contains(h.screen(), "stale") {
		t.Fatal("stale before any failure")
	}
	h.sim.FailNext("/", 1000, 503)
	h.sim.Clock.Advance(16 * time.Minute)
	h.run(h.m.sweep())
	h.sees("stale")
	h.fits()
}

func TestDashboardSeveralProfiles(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	completeAppOnly(t, h)
	p, _ := h.db.Profile("acme-production")
	p.ID, p.Environment = "acme-acceptance", "acceptance"
	must(t, h.db.PutProfile(p))
	must(t, h.db.PutUsers(p.ID, store.User{Key: "AV", Account: "anna.devries@contoso.com", UPN: "anna.devries@contoso.com", Mapping: store.MappingOK}))
	h.open()
	h.sees("acme-acceptance", "acme-production ✗ upn-invalid (1)")
	first := h.m.c.Profile.ID
	h.keys("<tab>")
	if h.m.c.Profile.ID == first {
		t.Error("tab did not switch profiles")
	}
	h.sees("[" + h.m.c.Profile.ID)
	h.fits()
}
