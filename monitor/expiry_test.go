package monitor_test

import (
	"testing"
	"time"

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
			f.monitorApp()
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
