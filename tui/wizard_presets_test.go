package tui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/tui/step/consent"
	"github.com/modauth/modauth/tui/step/register"
	"github.com/modauth/modauth/tui/step/users"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/tui/common"
)

// registerByHand makes the app registration of a profile's plan in the
// simulator, as a consultant would in the portal from the checklist, and
// returns it with a secret when the plan needs one.
func registerByHand(t *testing.T, h *harness) (*m365sim.App, m365sim.PasswordCredential) {
	t.Helper()
	plan, err := conn.Plan(h.m.c.Profile)
	if err != nil {
		t.Fatal(err)
	}
	return testkit.RegisterPlan(h.sim, plan)
}

// profileFor fills the profile step for a preset, typing as a person
// would, and leaves the wizard at the register step.
func profileFor(t *testing.T, h *harness, preset string) {
	t.Helper()
	fillProfile(h, preset)
	if h.step() != common.StepRegister {
		t.Fatalf("%s: still on %s:\n%s", preset, h.step(), h.screen())
	}
}

// idsAndAnna types the app's IDs (and secret) at the IDs step, adds Anna
// at the users step and resolves her, with an admin's sign-in where the
// app may not read users: the wizard is then at the consent step.
func idsAndAnna(t *testing.T, h *harness, app *m365sim.App, sec m365sim.PasswordCredential) {
	t.Helper()
	h.keys("<enter>")
	h.keys(h.sim.Tenant.ID + "<enter>" + app.ClientID + "<enter>")
	if sec.Value != "" && h.step() == common.StepIDs {
		h.paste(sec.Value)
		h.keys("<enter><enter>")
	}
	if h.step() != common.StepUsers {
		t.Fatalf("still at %s:\n%s", h.step(), h.screen())
	}
	h.approveAdmin("admin@contoso.onmicrosoft.com")
	h.keys("a")
	h.keys("AV<enter>Anna de Vries<enter>anna.devries@contoso.com<enter>")
	h.keys("r")
	h.sees("Resolved 1 user")
	h.keys("<enter>")
	if h.step() != common.StepConsent {
		t.Fatalf("still at %s:\n%s", h.step(), h.screen())
	}
}

// fillProfile fills the profile step for a preset as a person would.
func fillProfile(h *harness, preset string) {
	fillProfileUpTo(h, preset)
	if h.step() == common.StepProfile && strings.Contains(h.screen(), "Credential") {
		h.keys("<enter>") // the client secret, offered first
	}
}

// fillProfileUpTo fills the profile step up to the credential, which is
// offered where the product may sign in with a certificate.
func fillProfileUpTo(h *harness, preset string) {
	at := slices.IndexFunc(appreg.Presets(), func(p appreg.Preset) bool { return p.ID == preset })
	h.keys("Acme<enter><enter>" + strings.Repeat("<right>", at) + "<enter>")
	if strings.Contains(h.screen(), "Product address") {
		h.keys("crm.acme.nl<enter>")
	}
	for range 4 { // model, protocols, exchange, cloud
		h.keys("<enter>")
	}
}

// approveAdmin makes the device-code polls approve an admin's sign-in,
// as the admin on the phone would, whichever step shows the code.
func (h *harness) approveAdmin(upn string) {
	wait := h.m.c.Sleep
	h.m.c.Sleep = func(ctx context.Context, d time.Duration) error {
		var dc *flows.DeviceCode
		switch s := h.m.wiz.current().(type) {
		case *register.Step:
			dc = s.Device()
		case *users.Step:
			dc = s.Device()
		}
		if dc != nil {
			h.sim.ApproveDevice(dc.UserCode, upn)
		}
		return wait(ctx, d)
	}
}

// TestWizardByHandForEachPreset sets up every preset with an Entra app
// from the checklist, as a consultant does who registers the app in the
// portal: the IDs typed, a user added and resolved, signed in where the
// model has sign-ins, and the connection test run, which passes with the
// plan's permissions. It ends on a saved, verified setup.
func TestWizardByHandForEachPreset(t *testing.T) {
	for _, pre := range appreg.Presets() {
		if pre.Scenario.OnPremises {
			continue
		}
		t.Run(pre.ID, func(t *testing.T) {
			h := newHarness(t)
			h.wait = 800 * time.Millisecond
			profileFor(t, h, pre.ID)
			app, sec := registerByHand(t, h)
			idsAndAnna(t, h, app, sec)
			if strings.Contains(h.screen(), "App-only: nobody signs in") {
				h.keys("<enter>")
			} else {
				if strings.Contains(h.screen(), "Which account signs in for every mailbox?") {
					h.keys("anna.devries@contoso.com<enter>") // the service account
				}
				h.approveDeviceAs("anna.devries@contoso.com")
				h.keys("d")
				h.sees("✓ anna.devries@contoso.com")
				h.keys("<enter>")
			}
			if h.step() != common.StepVerify {
				t.Fatalf("still at %s:\n%s", h.step(), h.screen())
			}
			h.keys("t")
			if !strings.Contains(h.screen(), "enter finishes") {
				// The simulator serves every protocol, IMAP, POP and SMTP
				// included: the plan's permissions must pass.
				t.Fatalf("%s: the connection test did not pass on the simulator:\n%s", pre.ID, h.screen())
			}
			h.keys("<enter>")
			if !h.m.finished {
				t.Fatalf("not finished:\n%s", h.screen())
			}
			if p, _ := h.db.Profile("acme-production"); p.WizardStep != common.StepVerify {
				t.Errorf("progress %q", p.WizardStep)
			}
		})
	}
}

// TestIDsStepEscCancelsACheck: a check that takes long can be left with
// esc, and starts again when the field is submitted.
func TestIDsStepEscCancelsACheck(t *testing.T) {
	h := newHarness(t)
	profileFor(t, h, "divalto")
	registerByHand(t, h)
	h.keys("<enter>")
	h.sim.SetLatency(5 * time.Second)
	h.wait = 300 * time.Millisecond // the check's command is still running
	h.keys(h.sim.Tenant.ID + "<enter>")
	h.sees("… checking the tenant", "esc cancel")
	h.keys("<esc>")
	h.lacks("checking")
	if h.step() != common.StepIDs || h.m.wiz.current().Busy() {
		t.Fatalf("esc: at %s, busy %v", h.step(), h.m.wiz.current().Busy())
	}
	h.sim.SetLatency(0)
	h.wait = 3 * time.Second
	h.keys("<up><enter>")
	h.sees("✓ tenant " + h.sim.Tenant.ID + " found")
}

// TestWizardOnPremises: an Exchange Server profile (AllSolutions 004) has
// a path of its own, without Entra: the server step finds the EWS URL by
// Autodiscover and signs the service account in by NTLM, the users step
// opens each mailbox through impersonation, the test passes; a wrong
// password and an unknown address each say what to do.
func TestWizardOnPremises(t *testing.T) {
	h := newHarness(t)
	h.sim.EnableOnPremEWS(`CONTOSO\svc-exchange`, "Winter2026!", true)
	h.sim.EWSOnPremAuth(false, true) // Windows authentication only
	p := h.m.c.Options.Hosts
	p.Autodiscover = h.sim.URL + "/autodiscover/autodiscover.xml"
	h.m.c.Options.Hosts = p
	fillProfile(h, "allsolutions-onprem")
	if h.step() != common.StepServer {
		t.Fatalf("on-premises went to %s:\n%s", h.step(), h.screen())
	}
	h.sees("step 2 of 4", "Exchange server")
	h.fits()
	// A wrong password first: the server says so, the password is not shown.
	h.keys("<ctrl+u><enter>anna.devries@contoso.com<enter>")
	h.keys(`CONTOSO\svc-exchange<enter>Summer2025!<enter>`)
	h.sees("✗", "password")
	h.lacks("Summer2025!")
	h.keys("e<down><down><down>")
	for range len("Summer2025!") {
		h.keys("<backspace>")
	}
	h.keys("Winter2026!<enter>")
	h.sees("✓ Autodiscover found "+h.sim.URL+"/EWS/Exchange.asmx", `✓ CONTOSO\svc-exchange signed in`)
	h.fits()
	h.keys("<enter>")
	if h.step() != common.StepUsers {
		t.Fatalf("after the server: %s", h.step())
	}
	h.keys("a")
	h.keys("AV<enter>Anna de Vries<enter>anna.devries@contoso.com<enter>")
	h.keys("a")
	h.keys("XX<enter>Nobody<enter>nobody@contoso.com<enter>")
	h.keys("r")
	h.sees("1 ok", "No mailbox on the Exchange server has this address")
	h.keys("d")
	h.keys("y")
	h.keys("<enter>")
	if h.step() != common.StepVerify {
		t.Fatalf("after the users: %s\n%s", h.step(), h.screen())
	}
	h.keys("t")
	h.sees("✓ EWS", "(impersonation)")
	cs, err := h.db.ClientSecret(h.m.c.Profile.ID)
	if err != nil || cs.Value.Reveal() != "Winter2026!" {
		t.Errorf("the password is not sealed in the store: %v", err)
	}
}

// TestWizardDivaltoAdminConsentLink (001 by hand, as the Divalto guide
// does it): the app is registered in the portal without admin consent, in
// a tenant where users may not consent; a user's sign-in is refused until
// an admin opens the link the consent step gives (a), then it passes.
func TestWizardDivaltoAdminConsentLink(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	profileFor(t, h, "divalto")
	plan, err := conn.Plan(h.m.c.Profile)
	if err != nil {
		t.Fatal(err)
	}
	app, sec := testkit.RegisterPlanWithoutConsent(h.sim, plan)
	h.sim.DisableUserConsent(h.sim.Tenant)
	idsAndAnna(t, h, app, sec)
	h.approveDeviceAs("anna.devries@contoso.com")
	h.keys("d")
	h.seesText("90094") // only an admin may consent here
	h.keys("a")
	h.sees("Admin consent for every user")
	h.fits()
	link := h.m.wiz.current().(*consent.Step).AdminConsentURL()
	if link == "" || !strings.Contains(consentJoinedScreen(h.screen()), link) {
		t.Fatalf("no admin consent link on the screen:\n%s", h.screen())
	}
	if _, err := h.sim.AdminConsent(link, "admin@contoso.onmicrosoft.com"); err != nil {
		t.Fatal(err)
	}
	h.approveDeviceAs("anna.devries@contoso.com")
	h.keys("d")
	h.sees("✓ anna.devries@contoso.com")
	h.keys("<enter>")
	h.keys("t")
	h.sees("✓ EWS", "enter finishes")
}
