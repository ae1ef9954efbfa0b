package appreg_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// Registering a delegated product's app with the monitoring app asked
// for: the second app gets the four read roles with admin consent and a
// secret of its own, and with it reads the product app's secrets and
// certificates, which the product app itself cannot; Save stores it
// sealed; a second run adds nothing.
func TestRegisterMonitorApp(t *testing.T) {
	sim := m365sim.Start(t, m365sim.Options{})
	g := adminGraph(t, sim, adminUPN)
	p := presetPlan(t, "flowfact")
	if p.Monitor == nil || p.Monitor.DisplayName != p.DisplayName+" (modauth monitor)" {
		t.Fatalf("plan's monitoring app %+v", p.Monitor)
	}
	reg, err := appreg.Register(testkit.Ctx(t), g, p, appreg.RegisterOptions{Monitor: true, Now: sim.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	mon := reg.Monitor
	if mon == nil || mon.ClientID == "" || mon.ClientID == reg.ClientID || mon.SPObjectID == "" || mon.Secret == nil {
		t.Fatalf("monitoring app %+v", mon)
	}
	if d := mon.Secret.Expiry.Sub(sim.Clock.Now()); d < 364*24*time.Hour || d > 366*24*time.Hour {
		t.Errorf("monitoring secret lifetime %v, want a year", d)
	}
	if !slices.ContainsFunc(reg.Changes, func(c string) bool {
		return strings.HasPrefix(c, "monitoring app: granted Microsoft Graph AuditLog.Read.All")
	}) {
		t.Errorf("changes do not say what the monitoring app got: %v", reg.Changes)
	}
	got, err := roles(t, sim, mon.ClientID, mon.Secret.Value, "https://graph.microsoft.com")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{"Application.Read.All", "AuditLog.Read.All", "Directory.Read.All", "User.Read.All"}; !slices.Equal(got, want) {
		t.Errorf("monitoring token roles %v, want exactly %v", got, want)
	}

	// It reads the product app's secret and a certificate added by hand.
	for _, a := range sim.Tenant.Apps {
		if a.ClientID == reg.ClientID {
			sim.AddCertificate(a, "CN=flowfact", 90*24*time.Hour)
		}
	}
	tok, err := flowsFor(t, sim, mon.ClientID, mon.Secret.Value).ClientCredentials(testkit.Ctx(t), "https://graph.microsoft.com")
	if err != nil {
		t.Fatal(err)
	}
	mg := &exchange.Graph{Host: sim.URL, HTTP: sim.HTTPClient(), Token: func(context.Context) (store.Secret, error) { return tok.AccessToken, nil }}
	creds, err := mg.AppCredentials(testkit.Ctx(t), reg.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if len(creds.Passwords) != 1 || creds.Passwords[0].KeyID != reg.Secret.KeyID || len(creds.Keys) != 1 || creds.Keys[0].DisplayName != "CN=flowfact" {
		t.Errorf("credentials read by the monitoring app: %+v", creds)
	}

	db := testkit.Store(t, sim)
	if err := db.PutProfile(store.Profile{ID: "flowfact-production"}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Save(db, "flowfact-production"); err != nil {
		t.Fatal(err)
	}
	prof, _ := db.Profile("flowfact-production")
	ms, err := db.MonitorSecret("flowfact-production")
	if err != nil || prof.Monitor == nil || prof.Monitor.ClientID != mon.ClientID || prof.Monitor.ServicePrincipalID != mon.SPObjectID ||
		prof.Monitor.SecretKeyID != mon.Secret.KeyID || ms.Value != mon.Secret.Value {
		t.Errorf("saved monitoring app %+v, secret err %v", prof.Monitor, err)
	}

	again, err := appreg.Register(testkit.Ctx(t), g, p, appreg.RegisterOptions{
		ClientID: reg.ClientID, HaveSecret: true, Monitor: true, MonitorClientID: mon.ClientID, HaveMonitorSecret: true, Now: sim.Clock.Now,
	})
	if err != nil || len(again.Changes) != 0 || again.Monitor == nil || again.Monitor.ClientID != mon.ClientID {
		t.Errorf("second run: changes %v, err %v", again.Changes, err)
	}
	// Without Monitor, nothing of it is made.
	if reg, err := appreg.Register(testkit.Ctx(t), g, p, appreg.RegisterOptions{ClientID: reg.ClientID, HaveSecret: true, Now: sim.Clock.Now}); err != nil || reg.Monitor != nil {
		t.Errorf("a registration without the monitoring app made %+v (%v)", reg.Monitor, err)
	}
}
