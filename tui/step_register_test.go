package tui

import (
	"strings"
	"testing"

	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// atRegister stores a moveIT app-only profile that finished step 1 and
// reopens the interface on it.
func atRegister(t *testing.T, h *harness, preset string, model store.AccessModel, protos ...store.Protocol) {
	t.Helper()
	p := store.Profile{ID: "acme-production", Customer: "Acme", Environment: "production", Preset: preset, Model: model,
		Protocols: protos, Hosts: h.options().Hosts, WizardStep: common.StepProfile, Folders: []string{}}
	if err := h.db.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	h.open()
	if h.step() != common.StepRegister {
		t.Fatalf("at %s", h.step())
	}
}

func TestRegisterStepViews(t *testing.T) {
	h := newHarness(t)
	atRegister(t, h, "moveit-app-only", store.AppOnly, store.Graph)
	h.sees("moveIT Exchange (production)", "[1 checklist]", "New registration")
	h.fits()
	h.keys("2")
	h.sees("[2 manifest]", `"signInAudience": "AzureADMyOrg"`)
	h.keys("4")
	h.sees("Exchange Online admin steps", "New-ServicePrincipal")
	h.keys("s")
	h.sees("Saved to")
	h.keys("c")
	h.sees("Copied the PowerShell")
	h.fits()
}

// "Register it for me": an admin signs in by device code, and the app,
// its service principal, the consent and a secret are made and stored.
func TestRegisterStepThroughGraph(t *testing.T) {
	h := newHarness(t)
	atRegister(t, h, "moveit-app-only", store.AppOnly, store.Graph)
	h.approveAdmin("admin@contoso.onmicrosoft.com")
	h.keys("r")
	h.sees("✓ Registered", "created app registration")
	h.seesText("nothing else was missing") // the whole note, never cut
	h.fits()
	p, _ := h.db.Profile("acme-production")
	cs, err := h.db.ClientSecret("acme-production")
	if p.ClientID == "" || err != nil || cs.ExpirySource != store.ExpiryGraph || p.TenantID != h.sim.Tenant.ID || h.m.c.AdminGraph == nil {
		t.Fatalf("profile %+v secret %v", p, err)
	}
	if strings.Contains(h.screen(), cs.Value.Reveal()) {
		t.Error("the secret is on the screen")
	}
	// The PowerShell now names the app and its service principal.
	app := h.sim.Tenant.App(p.ClientID)
	h.keys("4")
	h.sees("$AppId     = '"+p.ClientID+"'", "$SPObjectId = '"+app.SPObjectID+"'")
	h.lacks("<enterprise application object ID>")
	if p.ServicePrincipalID != app.SPObjectID {
		t.Errorf("stored service principal %q, want %q", p.ServicePrincipalID, app.SPObjectID)
	}
	h.keys("r")
	h.sees("complete already")
	h.keys("<enter>")
	if h.step() != common.StepIDs {
		t.Errorf("at %s", h.step())
	}
}

func TestRegisterStepWithoutRights(t *testing.T) {
	h := newHarness(t)
	atRegister(t, h, "moveit-app-only", store.AppOnly, store.Graph)
	h.approveAdmin("hugo.lefebvre@contoso.com")
	h.keys("r")
	h.sees("✗", "Privileged Role Administrator")
	h.fits()
}
