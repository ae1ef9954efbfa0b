package tui

import (
	tea "charm.land/bubbletea/v2"
	"testing"
	"time"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/store"
)

const productScope = "https://graph.microsoft.com/Calendars.ReadWrite offline_access"

// withMonitor gives a stored profile its read-only monitoring app, as
// "register for me" makes it.
func withMonitor(t *testing.T, h *harness, p store.Profile) {
	t.Helper()
	plan, err := appreg.NewPlan(appreg.Scenario{Product: "Generic", Environment: "production", Model: store.Delegated, Protocols: []store.Protocol{store.Graph}, Data: []appreg.Data{appreg.Calendar}})
	must(t, err)
	mon, sec := testkit.RegisterMonitor(h.sim, plan)
	p.Monitor = &store.MonitorApp{ClientID: mon.ClientID, ServicePrincipalID: mon.SPObjectID}
	must(t, h.db.PutProfile(p))
	must(t, h.db.SetMonitorSecret(p.ID, store.ClientSecret{Value: store.Secret(sec.Value), KeyID: sec.KeyID, Expiry: sec.End}))
}

// TestDashboardShowsTheProductsOwnSignIns: the product signs its users in
// beside modauth, one of them is revoked; at 80x24 the table shows the
// product's failure, the filter finds that user, and the detail pane says
// what it means and what to do. Without Entra ID P1 one line says why.
func TestDashboardShowsTheProductsOwnSignIns(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	p := delegatedComplete(t, h, "acme-production")
	withMonitor(t, h, p)
	product := testkit.Product{Sim: h.sim, ClientID: h.sim.App.ClientID}
	rtA, err := product.SignInUser("anna.devries@contoso.com", productScope)
	must(t, err)
	rtB, err := product.SignInUser("bjanssen@contoso.onmicrosoft.com", productScope)
	must(t, err)
	h.sim.Clock.Advance(time.Minute)
	_, err = product.Refresh(rtA, productScope)
	must(t, err)
	h.sim.RevokeSessions(h.sim.Tenant.User("bjanssen@contoso.onmicrosoft.com"))
	if _, err := product.Refresh(rtB, productScope); err == nil {
		t.Fatal("a revoked refresh token still works")
	}
	h.sim.Clock.Advance(time.Minute)

	h.open() // the dashboard sweeps, and reads the sign-in log
	h.sees("Prod.", "✗50173", "bjanssen@contoso.o")
	h.fits()
	h.send(tea.WindowSizeMsg{Width: 120, Height: 30}) // wide: two columns
	h.sees("Prod ok", "Prod fail", "50173")
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.keys("6")
	h.sees("product failing: 1 of 2", "BJ")
	h.keys("<enter>")
	h.sees("Product sign-ins", "AADSTS50173")
	h.seesText("Fix:")
	h.keys("<esc>1")

	// A tenant without P1: the column stays, one line says why.
	h.sim.SetPremium(h.sim.Tenant, false)
	h.sim.Clock.Advance(6 * time.Minute)
	h.keys("y")
	h.sees("synced 1 user(s)")
	h.seesText("Product sign-ins: the tenant has no Microsoft Entra ID P1 or P2")
	h.fits()
}

// TestDashboardRotationFollowsTheProduct: R adds a secret and keeps the
// old; H hands it over; the product keeps the old one for a while (the
// header shows its use today), then switches; the next read makes the new
// secret modauth's; R retires the old one only when nothing has used it
// for ten minutes.
func TestDashboardRotationFollowsTheProduct(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	app := completeAppOnly(t, h)
	p, err := h.db.Profile("acme-production")
	must(t, err)
	withMonitor(t, h, p)
	old := app.Secrets[0]
	product := testkit.Product{Sim: h.sim, ClientID: app.ClientID, Secret: old.Value}
	must(t, product.SignIn())
	h.sim.Clock.Advance(time.Minute)

	h.open()
	h.sees("Product: its app signed in", "with secret "+old.KeyID[:8])
	h.keys("R")
	h.keys("y")
	h.sees("✓ new secret")
	rot, _, err := h.db.Rotation("acme-production")
	must(t, err)
	h.keys("H")
	h.keys("s")
	h.keys("y")
	h.sees("✓ Saved to")
	h.keys("<esc>")
	h.sees("handed over")

	// The product still runs on the old secret: the header says so.
	must(t, product.SignIn())
	h.sim.Clock.Advance(6 * time.Minute)
	h.keys("y")
	h.sees("synced 1 user(s)")
	h.sees("Old secret still in use by the product: ") // how many today depends on the hour the tests run at
	h.keys("R")
	h.seesText("has not signed in with the new secret")

	for _, s := range app.Secrets {
		if s.KeyID == rot.NewKeyID {
			product.Secret = s.Value // the admin enters the new secret
		}
	}
	must(t, product.SignIn())
	h.sim.Clock.Advance(6 * time.Minute)
	h.keys("y")
	h.sees("in use by the product since")
	if cs, _ := h.db.ClientSecret("acme-production"); cs.KeyID != rot.NewKeyID {
		t.Fatalf("modauth's secret after the product switched: %s", cs.KeyID)
	}
	h.keys("R")
	h.seesText("the log can be minutes late")
	h.sim.Clock.Advance(11 * time.Minute)
	h.keys("R")
	h.seesText("Remove the old secret")
	h.keys("y")
	h.sees("✓ old secret " + old.KeyID[:8] + "… removed")
	if len(app.Secrets) != 1 || app.Secrets[0].KeyID != rot.NewKeyID {
		t.Errorf("secrets in Entra: %d", len(app.Secrets))
	}
	must(t, product.SignIn()) // the product never broke
	h.fits()
}
