package monitor_test

import (
	"testing"
	"time"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// A delegated profile's app may not read its own registration: with a
// monitoring app the secret's expiry comes from Graph all the same;
// without one the entered date stays.
func TestSecretExpiryThroughMonitoringApp(t *testing.T) {
	for _, withMonitor := range []bool{true, false} {
		f := newFixture(t, m365sim.Options{})
		f.delegatedProfile()
		sec := f.sim.AddSecret(f.app, 100*24*time.Hour)
		entered := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := f.db.SetClientSecret(pid, store.ClientSecret{Value: store.Secret(sec.Value), Expiry: entered, ExpirySource: store.ExpiryEntered}); err != nil {
			t.Fatal(err)
		}
		if withMonitor {
			plan, err := appreg.NewPlan(appreg.Scenario{Product: "Generic", Environment: "production", Model: store.Delegated, Protocols: []store.Protocol{store.Graph}, Data: []appreg.Data{appreg.Calendar}})
			if err != nil {
				t.Fatal(err)
			}
			mon, msec := testkit.RegisterMonitor(f.sim, plan)
			p, _ := f.db.Profile(pid)
			p.Monitor = &store.MonitorApp{ClientID: mon.ClientID, ServicePrincipalID: mon.SPObjectID}
			if err := f.db.PutProfile(p); err != nil {
				t.Fatal(err)
			}
			if err := f.db.SetMonitorSecret(pid, store.ClientSecret{Value: store.Secret(msec.Value), KeyID: msec.KeyID, Expiry: msec.End}); err != nil {
				t.Fatal(err)
			}
		}
		f.user("AV", anna, store.MappingOK)
		f.signIn("AV", anna)
		f.sweep()
		cs, _ := f.db.ClientSecret(pid)
		p, _ := f.db.Profile(pid)
		switch {
		case withMonitor && (cs.ExpirySource != store.ExpiryGraph || !cs.Expiry.Equal(sec.End) || cs.KeyID != sec.KeyID || p.SecretExpirySource != store.ExpiryGraph):
			t.Errorf("with a monitoring app: %+v, profile source %s", cs, p.SecretExpirySource)
		case !withMonitor && (cs.ExpirySource != store.ExpiryEntered || !cs.Expiry.Equal(entered)):
			t.Errorf("without a monitoring app: %+v", cs)
		}
		if withMonitor && (p.Monitor == nil || p.Monitor.SecretKeyID == "") {
			t.Errorf("the sweep lost the monitoring app: %+v", p.Monitor)
		}
	}
}
