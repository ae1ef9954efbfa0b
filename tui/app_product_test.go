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
