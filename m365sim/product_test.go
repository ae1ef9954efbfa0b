package m365sim

import (
	"testing"
	"time"
)

// The played product signs in app-only with its secret, and takes a new
// secret only a minute after it was added, as an admin would type it in.
func TestPlayedProductSwitchesSecrets(t *testing.T) {
	sim := Start(t, Options{})
	app := sim.RegisterApp(sim.Tenant, AppSpec{DisplayName: "moveIT (production)", Required: []string{"role:Mail.Send"}})
	sim.GrantAdminConsent(sim.Tenant, app)
	old := sim.AddSecret(app, 90*24*time.Hour)
	mon := sim.RegisterApp(sim.Tenant, AppSpec{DisplayName: "moveIT (production) (modauth monitor)", Required: []string{"role:AuditLog.Read.All"}})
	sim.GrantAdminConsent(sim.Tenant, mon)
	sim.AddSecret(mon, time.Hour)

	keys := func() (out []string) {
		for _, s := range sim.SignIns() {
			if s.EventType == ServicePrincipal {
				if s.AppID != app.ClientID {
					t.Fatalf("the monitoring app played the product: %+v", s)
				}
				out = append(out, s.CredentialKeyID)
			}
		}
		return out
	}
	sim.productRound()
	sim.Clock.Advance(2 * time.Minute)
	next := sim.AddSecret(app, 90*24*time.Hour)
	sim.productRound() // just added: the product still has the old one
	sim.Clock.Advance(2 * time.Minute)
	sim.productRound()
	if got := keys(); len(got) != 3 || got[0] != old.KeyID || got[1] != old.KeyID || got[2] != next.KeyID {
		t.Errorf("keys used %v, want old, old, new (%s, %s)", got, old.KeyID, next.KeyID)
	}
}

// A product of an app with certificates only signs in with a certificate,
// the newest once it has settled, and the log says so.
func TestPlayedProductSignsInWithItsCertificate(t *testing.T) {
	sim := Start(t, Options{})
	app := sim.RegisterApp(sim.Tenant, AppSpec{DisplayName: "moveIT (production)", Required: []string{"role:Mail.Send"}})
	sim.GrantAdminConsent(sim.Tenant, app)
	old := sim.AddCertificate(app, "old", 90*24*time.Hour)
	sim.productRound()
	sim.Clock.Advance(2 * time.Minute)
	next := sim.AddCertificate(app, "new", 90*24*time.Hour)
	sim.productRound()
	sim.Clock.Advance(2 * time.Minute)
	sim.productRound()
	var got []string
	for _, s := range sim.SignIns() {
		if s.EventType == ServicePrincipal {
			if s.ClientCredentialType != "certificate" {
				t.Errorf("credential type %q, want certificate", s.ClientCredentialType)
			}
			got = append(got, s.CredentialKeyID)
		}
	}
	if len(got) != 3 || got[0] != old.KeyID || got[1] != old.KeyID || got[2] != next.KeyID {
		t.Errorf("keys used %v, want old, old, new (%s, %s)", got, old.KeyID, next.KeyID)
	}
}
