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
	h.sees("[2 manifest]", `"signInAudience": "AzureADMyOrg"`, "// The product's app: moveIT Exchange (production)")
	h.keys("<pgdown><pgdown>")
	h.sees("// Optional second app, modauth's read-only monitoring app", `"displayName": "moveIT Exchange (production) (modauth monitor)"`)
	h.keys("4")
	h.sees("Exchange Online admin steps", "New-ServicePrincipal")
	h.keys("s")
	h.sees("Saved to")
	h.keys("c")
	h.sees("Copied the PowerShell")
	h.fits()
}

// "Register it for me": an admin signs in by device code, and the app,
// its service principal, the consent and a secret are made and stored;
// with the monitoring app asked for (yes is offered first), that one too,
// its secret sealed apart.
func TestRegisterStepThroughGraph(t *testing.T) {
	h := newHarness(t)
	atRegister(t, h, "moveit-app-only", store.AppOnly, store.Graph)
	h.approveAdmin("admin@contoso.onmicrosoft.com")
	h.keys("r")
	h.sees("Also create a read-only monitoring app for modauth?", "directory-wide")
	h.fits()
	h.keys("<enter>")
	h.sees("✓ Registered", "created app registration")
	h.seesText("monitoring app: created app registration")
	h.seesText("nothing else was missing") // the whole note, never cut
	h.fits()
	p, _ := h.db.Profile("acme-production")
	cs, err := h.db.ClientSecret("acme-production")
	if p.ClientID == "" || err != nil || cs.ExpirySource != store.ExpiryGraph || p.TenantID != h.sim.Tenant.ID || h.m.c.AdminGraph == nil {
		t.Fatalf("profile %+v secret %v", p, err)
	}
	ms, err := h.db.MonitorSecret("acme-production")
	if p.Monitor == nil || p.Monitor.ClientID == "" || p.Monitor.ClientID == p.ClientID || err != nil || p.Monitor.SecretKeyID != ms.KeyID {
		t.Fatalf("monitoring app %+v, secret %v", p.Monitor, err)
	}
	if !h.sim.HasRole(h.sim.Tenant, p.Monitor.ClientID, "AuditLog.Read.All") {
		t.Error("the monitoring app has no consented AuditLog.Read.All")
	}
	for _, secret := range []string{cs.Value.Reveal(), ms.Value.Reveal()} {
		if strings.Contains(h.screen(), secret) {
			t.Error("a secret is on the screen")
		}
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
	h.keys("rn")
	h.sees("✗", "Privileged Role Administrator")
	h.fits()
}

// No to the monitoring app registers the product's alone; esc cancels
// the registration altogether.
func TestRegisterStepWithoutMonitoringApp(t *testing.T) {
	h := newHarness(t)
	atRegister(t, h, "flowfact", store.Delegated, store.IMAP, store.SMTP)
	h.keys("r<esc>")
	h.lacks("Registered", "Also create")
	if p, _ := h.db.Profile("acme-production"); p.ClientID != "" {
		t.Fatalf("esc registered %s", p.ClientID)
	}
	h.approveAdmin("admin@contoso.onmicrosoft.com")
	h.keys("rn")
	h.sees("✓ Registered")
	h.lacks("monitoring app:")
	p, _ := h.db.Profile("acme-production")
	if p.ClientID == "" || p.Monitor != nil {
		t.Errorf("client ID %q, monitoring app %+v", p.ClientID, p.Monitor)
	}
	for _, a := range h.sim.Tenant.Apps {
		if strings.Contains(a.DisplayName, "modauth monitor") {
			t.Errorf("a monitoring app was made: %s", a.DisplayName)
		}
	}
}
