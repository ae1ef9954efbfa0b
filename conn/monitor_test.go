package conn_test

import (
	"strings"
	"testing"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/store"
)

// A delegated profile: the product app's own token may not read its
// registration; the monitoring app's may, on a token of its own, asked
// once. Without the monitoring app (or its secret) there is no
// MonitorGraph and Sees says what is not seen.
func TestMonitorGraph(t *testing.T) {
	f := newFixture(t)
	pre, _ := appreg.PresetByID("flowfact")
	p := f.presetProfile(pre)
	f.register(&p)

	cn := conn.New(p, f.deps())
	if _, ok := cn.MonitorGraph(); ok {
		t.Fatal("a profile without a monitoring app has MonitorGraph")
	}
	if v := cn.Sees(); v.MonitorApp || !strings.Contains(v.Why, "no monitoring app: secret expiry is the date entered") {
		t.Errorf("without a monitoring app Sees says %+v", v)
	}
	if _, err := cn.AppGraph().AppCredentials(testkit.Ctx(t), p.ClientID); err == nil {
		t.Fatal("the delegated product app read its own registration: the test proves nothing")
	}

	mon, sec := testkit.RegisterMonitor(f.sim, cn.Plan())
	p.Monitor = &store.MonitorApp{ClientID: mon.ClientID}
	if err := f.db.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	if v := conn.New(p, f.deps()).Sees(); v.MonitorApp || !strings.Contains(v.Why, "secret is not stored") {
		t.Errorf("monitoring app without its secret: Sees says %+v", v)
	}
	if err := f.db.SetMonitorSecret(p.ID, store.ClientSecret{Value: store.Secret(sec.Value)}); err != nil {
		t.Fatal(err)
	}
	cn = conn.New(p, f.deps())
	g, ok := cn.MonitorGraph()
	if !ok {
		t.Fatal("no MonitorGraph with the monitoring app and its secret stored")
	}
	if v := cn.Sees(); !v.MonitorApp {
		t.Errorf("Sees says %+v", v)
	}
	before := f.requests.Load()
	for range 2 {
		creds, err := g.AppCredentials(testkit.Ctx(t), p.ClientID)
		if err != nil || len(creds.Passwords) != 1 {
			t.Fatalf("the monitoring app read %+v, %v", creds, err)
		}
	}
	if n := f.requests.Load() - before; n != 1 {
		t.Errorf("%d token requests for two reads, want 1", n)
	}
	// The product app's own token is still its own: it still may not.
	if _, err := cn.AppGraph().AppCredentials(testkit.Ctx(t), p.ClientID); err == nil {
		t.Error("AppGraph used the monitoring app's token")
	}
}
