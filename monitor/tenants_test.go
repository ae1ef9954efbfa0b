package monitor_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/benchsim"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// The profiles of different tenants are swept at once, each within its
// tenant's request slots: here each tenant's mailbox requests wait until
// the other tenant's have begun, which profiles swept one after another
// never do (the first waits out the sweep's deadline, and fails).
func TestSweepRunsTenantsAtOnce(t *testing.T) {
	sim := m365sim.Start(t, m365sim.Options{Seed: 42})
	db := testkit.Store(t, sim)
	f := benchsim.NewFleet()
	for i := range 2 { // one app-only tenant, one delegated
		f.AddTenant(t, db, testkit.Hosts(sim), i, benchsim.AddTenant(sim, i, 3))
	}
	hc := *sim.HTTPClient()
	hc.Transport = &meetTransport{next: hc.Transport, fleet: f, begun: [2]chan struct{}{make(chan struct{}), make(chan struct{})}}
	eng := monitor.New(db, monitor.Options{HTTPClient: &hc, Now: sim.Clock.Now, Concurrency: 4})

	ctx, cancel := context.WithTimeout(testkit.Ctx(t), 10*time.Second)
	defer cancel()
	sum, err := eng.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Profiles != 2 || sum.States[store.StateOK] != f.Users {
		t.Errorf("swept %d profiles, states %v; want 2 profiles and %d users ok", sum.Profiles, sum.States, f.Users)
	}
}

// meetTransport holds each tenant's mailbox requests until the other
// tenant's first one has been sent.
type meetTransport struct {
	next  http.RoundTripper
	fleet *benchsim.Fleet
	once  [2]sync.Once
	begun [2]chan struct{}
}

func (m *meetTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(segs) > 2 && segs[0] == "v1.0" && segs[1] == "users" {
		i, _ := m.fleet.TenantOf(segs[2])
		m.once[i].Do(func() { close(m.begun[i]) })
		select {
		case <-m.begun[1-i]:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	next := m.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// TestOnlookerSweepsNothing: the interface on a store the monitors share
// in etcd runs its engine with Onlooker: its sweeps redeem no token and
// its sync now says which monitor's work it is.
func TestOnlookerSweepsNothing(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.delegatedProfile()
	f.user("AV", anna, store.MappingOK)
	f.signIn("AV", anna)
	eng := monitor.New(f.db, monitor.Options{HTTPClient: f.sim.HTTPClient(), Now: f.sim.Clock.Now, Owner: monitor.Onlooker{}})
	before := f.sim.Requests("/oauth2/v2.0/token")
	sum, err := eng.Sweep(testkit.Ctx(t))
	if err != nil || sum.Jobs() != 0 {
		t.Fatalf("an onlooker's sweep ran %d job(s), err %v", sum.Jobs(), err)
	}
	if _, err := eng.SyncNow(testkit.Ctx(t), pid, "AV"); !errors.Is(err, monitor.ErrNotOwner) {
		t.Errorf("an onlooker's sync now: %v, want ErrNotOwner", err)
	}
	if n := f.sim.Requests("/oauth2/v2.0/token") - before; n != 0 {
		t.Errorf("an onlooker made %d token request(s)", n)
	}
	if sum := f.sweep(); sum.Jobs() != 1 { // the same user, on an engine that owns its tenant
		t.Errorf("the owning engine ran %d job(s), want 1", sum.Jobs())
	}
}
