package tui

import (
	"slices"
	"testing"

	"github.com/modauth/modauth/tui/step/profile"

	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

func TestProfileStepSavesAndResumes(t *testing.T) {
	h := newHarness(t)
	h.sees("step 1 of 6", "Customer", "Which connection", "ctrl+c quit")
	h.fits()
	h.keys("<enter>")
	h.sees("enter the customer's name")
	h.keys("Acme B.V.<enter>")                                  // customer
	h.keys("<right><enter>")                                    // acceptance
	h.keys("<right><right><right><right><right><right><enter>") // preset: Generic
	if h.m.wiz.steps[0].(*profile.Step).PresetID() != "generic" {
		t.Fatalf("preset %q", h.m.wiz.steps[0].(*profile.Step).PresetID())
	}
	h.keys("<enter><enter><enter><enter>") // model, protocols, exchange, cloud
	if h.step() != common.StepRegister {
		t.Fatalf("still on %s:\n%s", h.step(), h.screen())
	}
	p, err := h.db.Profile("acme-b-v-acceptance")
	if err != nil {
		t.Fatal(err)
	}
	if p.Model != store.Delegated || !slices.Equal(p.Protocols, []store.Protocol{store.Graph}) || p.WizardStep != common.StepProfile || p.Hosts.Authority != h.sim.URL {
		t.Errorf("profile %+v", p)
	}
	if !slices.Contains(p.Scopes, "offline_access") || !slices.Equal(p.Folders, []string{"calendar", "contacts", "tasks"}) {
		t.Errorf("scopes %v folders %v", p.Scopes, p.Folders)
	}

	// Esc goes back with the answers kept; a restart resumes after the
	// last completed step.
	h.keys("<esc>")
	if h.step() != common.StepProfile || h.m.wiz.steps[0].(*profile.Step).Customer() != "Acme B.V." {
		t.Fatal("esc lost the answers")
	}
	h.open()
	if h.step() != common.StepRegister {
		t.Fatalf("restart resumed at %s", h.step())
	}
	h.keys("<esc>")
	if v := h.m.wiz.steps[0].(*profile.Step).Customer(); v != "Acme B.V." {
		t.Errorf("restart lost the customer: %q", v)
	}
}

func TestProfileStepHostForAllSolutions(t *testing.T) {
	h := newHarness(t)
	h.keys("Acme<enter><enter>") // production
	h.keys("<enter>")            // AllSolutions online is first
	h.sees("Product address")
	h.keys("<enter>")
	h.sees("enter the product's address")
	h.keys("crm.acme.nl<enter><enter><enter><enter><enter>")
	p, err := h.db.Profile("acme-production")
	if err != nil {
		t.Fatalf("%v\n%s", err, h.screen())
	}
	if p.RedirectURI != "https://crm.acme.nl/jsonhandler.ashx" || p.Model != store.ServiceAccount {
		t.Errorf("profile %+v", p)
	}
}

func TestQuitAsks(t *testing.T) {
	h := newHarness(t)
	h.keys("<ctrl+c>")
	h.sees("Quit? What was completed is saved")
	h.sees("Quit", "Stay")
	h.fits()
	h.keys("n")
	if h.m.question != nil {
		t.Error("n must cancel")
	}
	// esc says no as well; ←/→ and enter choose.
	h.keys("<ctrl+c><esc>")
	if h.m.question != nil {
		t.Error("esc must cancel")
	}
	h.keys("Acme")
	if v := h.m.wiz.steps[0].(*profile.Step).Customer(); v != "Acme" {
		t.Errorf("typing after cancel: %q", v)
	}
}

// A URL copied from the browser's address bar makes one redirect URI.
func TestProfileStepTakesAPastedURL(t *testing.T) {
	h := newHarness(t)
	h.keys("Acme<enter><enter><enter>") // AllSolutions online is first
	h.paste("https://acme.allsolutions.nl/")
	h.keys("<enter><enter><enter><enter><enter>")
	p, err := h.db.Profile("acme-production")
	if err != nil {
		t.Fatalf("%v\n%s", err, h.screen())
	}
	if p.RedirectURI != "https://acme.allsolutions.nl/jsonhandler.ashx" {
		t.Errorf("redirect %q", p.RedirectURI)
	}
	h.sees("https://acme.allsolutions.nl/jsonhandler.ashx")
	h.lacks("https://https://")
}

// The description under the form follows the model chosen, not the
// preset's: AllSolutions switched to per-user sign-in no longer says the
// MZZPAR account signs in.
func TestProfileStepDescribesTheChosenModel(t *testing.T) {
	h := newHarness(t)
	h.keys("Acme<enter><enter><enter>") // AllSolutions online
	h.seesText("the MZZPAR account signs in once")
	h.keys("crm.acme.nl<enter><left>") // model: each user signs in
	h.lacks("MZZPAR")
	h.seesText("each user signs in once")
}
