package main

import (
	"strings"
	"testing"
	"time"
)

// seed is one of the vendor guides' scenarios (../shared/seeds), set up in
// the demo from an empty store to a verified connection and the
// dashboard's first sweep, keys only, at 80x24.
type seed struct {
	name   string
	preset int    // position in the product list
	host   bool   // the preset asks for the product's address
	model  string // keys on the access model, e.g. "Left" for "each user signs in"
	// consent is how the users get signed in: "device" (each user), "account"
	// (the service account), "app" (nothing to do), "" (on-premises: no step)
	consent string
	scope   bool // app-only: prove the scope after the test
	onPrem  bool
	// credential: the profile step asks what the app signs in with (an
	// app-only product that can use a certificate); certificate: one
	// modauth makes, rather than a client secret
	credential, certificate bool
}

var seeds = []seed{
	{name: "000 AllSolutions online, per user", preset: 0, host: true, model: "Left", consent: "device"},
	{name: "000 AllSolutions online, service account", preset: 0, host: true, consent: "account"},
	{name: "001 Divalto", preset: 2, consent: "device"},
	{name: "002 Flowfact", preset: 3, consent: "device"},
	{name: "003 moveIT app-only with scope proof", preset: 5, consent: "app", scope: true, credential: true},
	{name: "003 moveIT app-only with a certificate", preset: 5, consent: "app", credential: true, certificate: true},
	{name: "003 moveIT delegated", preset: 4, consent: "device"},
	{name: "004 AllSolutions on-premises, NTLM", preset: 1, onPrem: true},
}

// TestSeedScenarios runs every seed scenario end to end, side by side.
func TestSeedScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux; skipped with -short")
	}
	for _, sc := range seeds {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t)
		})
	}
}

func (sc seed) run(t *testing.T) {
	tm := newTerm(t, "demo")
	s := tm.waitFor("Which connection")
	sim := simRe.FindStringSubmatch(s)[1]

	// 1. The profile: the product, its address, the model.
	tm.keys("Acme", "Enter", "Enter")
	for range sc.preset {
		tm.keys("Right")
	}
	tm.keys("Enter")
	if sc.host {
		tm.waitFor("Product address")
		tm.keys("crm.acme.nl", "Enter")
	}
	tm.waitFor("Access model")
	if sc.model != "" {
		tm.keys(sc.model)
	}
	tm.keys("Enter", "Enter", "Enter", "Enter")
	if sc.credential {
		tm.waitFor("‹ client secret ›")
		if sc.certificate {
			tm.keys("Right")
			tm.waitFor("‹ certificate (Microsoft's advice) ›")
		}
		tm.keys("Enter")
	}

	if sc.onPrem {
		// 2. The server: Autodiscover from Anna's address, the demo's
		// service account, signed in by NTLM.
		tm.waitFor("Exchange server")
		tm.keys("C-u", "Enter", "anna.devries@contoso.com", "Enter", `CONTOSO\svc-exchange`, "Enter", "Demo-2026!", "Enter")
		tm.waitFor("✓ Autodiscover found")
		tm.waitFor(`CONTOSO\svc-exchange signed in`)
		tm.keys("Enter")
	} else {
		// 2. Registered through Graph by the admin on the phone; 3. the
		// IDs it filled in, checked live.
		tm.waitFor("register the app")
		tm.keys("r")
		tm.waitFor("monitoring app for modauth?")
		tm.keys("n") // the product's app alone, as the seeds' guides have it
		approve(t, sim, tm.waitFor("one-time code"), "admin@contoso.onmicrosoft.com")
		if reg := tm.waitFor("✓ Registered"); sc.certificate && !strings.Contains(reg, "uploaded certificate") {
			t.Fatalf("the certificate was not uploaded:\n%s", reg)
		}
		tm.keys("Enter")
		tm.waitFor("IDs and secret")
		// Enter on each field; the live checks answer in their own time,
		// which a loaded machine stretches.
		deadline := time.Now().Add(45 * time.Second) // real time, as waitFor's
		for !strings.Contains(tm.screen(), "users and UPNs") {
			if time.Now().After(deadline) {
				t.Fatalf("the IDs never passed:\n%s", tm.screen())
			}
			if !strings.Contains(tm.screen(), "checking") {
				tm.keys("Enter")
			}
			time.Sleep(500 * time.Millisecond)
		}
	}

	// 4. Users: Anna, resolved.
	tm.waitFor("users and UPNs")
	tm.keys("a")
	tm.waitFor("Exchange account")
	tm.keys("AV", "Enter", "Anna de Vries", "Enter", "anna.devries@contoso.com", "Enter")
	tm.waitFor("Added AV")
	tm.keys("r")
	tm.waitFor("1 ok")
	tm.keys("Enter")

	// 5. Consent, as the model has it.
	switch sc.consent {
	case "device":
		tm.waitFor("sign-in and consent")
		tm.keys("d")
		approve(t, sim, tm.waitFor("one-time code"), "anna.devries@contoso.com")
		tm.waitFor("✓ Signed in as anna.devries@contoso.com")
		tm.keys("Enter")
	case "account":
		tm.waitFor("Which account signs in for every mailbox?")
		tm.keys("anna.devries@contoso.com", "Enter")
		tm.waitFor("The service account signs in once")
		tm.keys("d")
		approve(t, sim, tm.waitFor("one-time code"), "anna.devries@contoso.com")
		tm.waitFor("✓ Signed in as anna.devries@contoso.com")
		tm.keys("Enter")
	case "app":
		tm.waitFor("nothing to do here")
		tm.keys("Enter")
	}

	// 6. The connection test passes; the app's scope is proven.
	tm.waitFor("connection test")
	tm.keys("t")
	tm.waitFor(" work") // "works", or "All 3 protocols work"
	if sc.scope {
		tm.keys("o")
		tm.waitFor("A mailbox the app must not reach")
		tm.keys("claire.dubois@contoso.com", "Enter")
		// The demo's tenant has no RBAC scope: the proof reaches the
		// mailbox and says how to narrow the app, which is the truth.
		tm.waitFor("✗ Scope")
		tm.waitFor("New-ManagementScope")
		tm.keys("Enter")
		tm.waitFor("Continue anyway?")
		tm.keys("y")
		tm.waitFor("the connection test did not pass")
	} else {
		tm.keys("Enter")
		tm.waitFor("Setup of acme-production is complete")
	}

	// The dashboard: after the first sweep Anna is ok.
	tm.keys("Enter")
	tm.waitFor("next sweep")
	tm.keys("2") // failing
	tm.waitFor("failing: 0 of 1")
	tm.keys("1")
	if s := tm.waitFor("all: 1 of 1"); !strings.Contains(s, "Anna de Vries") {
		t.Errorf("dashboard:\n%s", s)
	}
}
