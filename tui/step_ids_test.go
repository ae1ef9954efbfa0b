package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// atIDs stores an app-only profile that finished the register step and
// an app in the simulator for it.
func atIDs(t *testing.T, h *harness) (*m365sim.App, m365sim.PasswordCredential) {
	t.Helper()
	app := h.sim.RegisterApp(h.sim.Tenant, m365sim.AppSpec{DisplayName: "moveIT Exchange (production)", Required: []string{"role:Mail.Send"}})
	h.sim.GrantAdminConsent(h.sim.Tenant, app)
	sec := h.sim.AddSecret(app, 200*24*time.Hour)
	p := store.Profile{ID: "acme-production", Customer: "Acme", Environment: "production", Preset: "moveit-app-only", Model: store.AppOnly,
		Protocols: []store.Protocol{store.Graph}, Hosts: h.options().Hosts, WizardStep: common.StepRegister}
	if err := h.db.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	h.open()
	if h.step() != common.StepIDs {
		t.Fatalf("at %s", h.step())
	}
	return app, sec
}

func TestIDsStepChecksEachValueLive(t *testing.T) {
	h := newHarness(t)
	app, sec := atIDs(t, h)
	h.sees("Tenant", "Client ID", "Secret value", "Secret expires")
	h.fits()

	h.keys("fabrikam.com<enter>")
	h.sees("aadsts90002", "tenant")
	h.fits()
	h.keys("<up>") // the focus stays where the person is typing
	for range len("fabrikam.com") {
		h.keys("<backspace>")
	}
	h.keys("contoso.com<enter>")
	h.sees("✓ tenant " + h.sim.Tenant.ID + " found")

	h.keys("not-a-guid<enter>")
	h.sees("client ID is a GUID")
	for range len("not-a-guid") {
		h.keys("<backspace>")
	}
	h.keys("11111111-2222-3333-4444-555555555555<enter>")
	h.sees("aadsts700016")
	h.keys("<up>")
	for range 36 {
		h.keys("<backspace>")
	}
	h.keys(app.ClientID + "<enter>")
	h.sees("✓ app found")

	h.paste(sec.KeyID) // the Secret ID, pasted by mistake
	h.keys("<enter>")
	h.sees("this is the Secret ID (a GUID)")
	if n := h.sim.Requests("/token"); n != 0 {
		t.Errorf("%d token requests: a Secret ID must be caught before any request", n)
	}
	for range 36 {
		h.keys("<backspace>")
	}
	h.paste(sec.Value)
	h.keys("<enter>")
	h.sees("✓ the secret works")
	if strings.Contains(h.screen(), sec.Value) {
		t.Fatal("the secret is on the screen")
	}
	expiry := h.sim.Clock.Now().AddDate(0, 6, 0).Format(time.DateOnly)
	h.keys(expiry + "<enter>")
	if h.step() != common.StepUsers {
		t.Fatalf("at %s:\n%s", h.step(), h.screen())
	}
	p, _ := h.db.Profile("acme-production")
	cs, _ := h.db.ClientSecret("acme-production")
	if p.TenantID != h.sim.Tenant.ID || p.TenantDomain != "contoso.com" || p.ClientID != app.ClientID || cs.Value.Reveal() != sec.Value || cs.ExpirySource != store.ExpiryEntered || cs.Expiry.Format(time.DateOnly) != expiry {
		t.Errorf("stored %+v %+v", p, cs)
	}
}

func TestIDsStepExpiredSecret(t *testing.T) {
	h := newHarness(t)
	app, sec := atIDs(t, h)
	h.sim.ExpireSecret(app, sec.KeyID)
	h.keys(h.sim.Tenant.ID + "<enter>" + app.ClientID + "<enter>")
	h.paste(sec.Value)
	h.keys("<enter>")
	h.sees("aadsts7000222", "expired")
	h.fits()
	h.keys("<enter><enter>")
	if h.step() != common.StepIDs {
		t.Error("an expired secret must not pass")
	}
}

// A secret whose expiry date is past is refused before it is stored.
func TestIDsStepRefusesAPastExpiry(t *testing.T) {
	h := newHarness(t)
	app, sec := atIDs(t, h)
	h.keys(h.sim.Tenant.ID + "<enter>" + app.ClientID + "<enter>")
	h.paste(sec.Value)
	h.keys("<enter>")
	h.sees("✓ the secret works")
	past := h.sim.Clock.Now().AddDate(0, 0, -2).Format(time.DateOnly)
	h.keys(past + "<enter>")
	h.seesText(past+" is past", "create a new one")
	if h.step() != common.StepIDs {
		t.Fatalf("a past expiry passed: at %s", h.step())
	}
	for range len(past) {
		h.keys("<backspace>")
	}
	h.keys(h.sim.Clock.Now().AddDate(0, 6, 0).Format(time.DateOnly) + "<enter>")
	if h.step() != common.StepUsers {
		t.Fatalf("at %s:\n%s", h.step(), h.screen())
	}
}
