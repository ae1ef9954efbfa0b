package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/modauth/modauth/cluster"
	"github.com/modauth/modauth/internal/testetcd"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

const (
	prefix        = "/modauth-test/"
	ttl           = 2 * time.Second
	tenantCount   = 6
	usersByTenant = 3
)

// fleet is a simulator whose tenants are kept in one etcd, and the
// monitors sharing them. Time: the simulator's clock for the tenants and
// the jobs; etcd's leases run on real time, which the test waits on.
type fleet struct {
	t        *testing.T
	sim      *m365sim.Sim
	endpoint string
	keyFile  string
	db       *store.DB // the test's own view of the store
	tenants  map[string]string
	monitors []*node
}

// node is one monitor: its own etcd client and session, store and engine.
type node struct {
	id     string
	client *clientv3.Client
	member *cluster.Member
	eng    *monitor.Engine
}

func newFleet(t *testing.T) *fleet {
	f := &fleet{t: t, sim: m365sim.Start(t, m365sim.Options{Seed: 15}), endpoint: testetcd.Start(t),
		keyFile: filepath.Join(t.TempDir(), "modauth.key"), tenants: map[string]string{}}
	f.db = f.openStore()
	hosts := testkit.Hosts(f.sim)
	for i := range tenantCount {
		f.addTenant(i, hosts)
	}
	return f
}

func (f *fleet) openStore() *store.DB {
	return openEtcdStore(f.t, f.endpoint, prefix, f.keyFile, f.sim.Clock.Now)
}

// openEtcdStore opens the store at prefix in the etcd at endpoint, sealed
// with keyFile, on the clock now, and closes it at cleanup.
func openEtcdStore(t testing.TB, endpoint, prefix, keyFile string, now func() time.Time) *store.DB {
	t.Helper()
	db, err := store.OpenEtcd([]string{endpoint}, prefix, store.Options{KeyFile: keyFile, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// addTenant adds a simulated tenant with a delegated app and stores it as
// a profile whose users each hold a refresh token.
func (f *fleet) addTenant(i int, hosts store.Hosts) {
	tenant, id := testkit.DelegatedTenant(f.t, f.sim, f.db, i, usersByTenant, hosts)
	testkit.SignInUsers(f.t, f.sim, f.db, tenant, id, usersByTenant)
	f.tenants[tenant.ID] = id
}

// start runs a monitor: its own etcd client, session, store and engine.
func (f *fleet) start(id string) *node {
	f.t.Helper()
	client, err := clientv3.New(clientv3.Config{Endpoints: []string{f.endpoint}, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = client.Close() })
	db := f.openStore()
	member, err := cluster.Join(testkit.Ctx(f.t), client, cluster.Options{Prefix: prefix, ID: id, TTL: ttl,
		Tenants: func() ([]string, error) { return monitor.Tenants(db) }})
	if err != nil {
		f.t.Fatal(err)
	}
	db.Fence(member.Fence()) // as the monitor command does
	n := &node{id: id, client: client, member: member,
		eng: monitor.New(db, monitor.Options{HTTPClient: f.sim.HTTPClient(), Now: f.sim.Clock.Now, Sleep: testkit.Sleep(f.sim), Concurrency: 4, Owner: member})}
	f.monitors = append(f.monitors, n)
	return n
}

// kill ends a monitor as kill -9 does, as far as etcd can tell: its
// client goes away without revoking its lease, which lives out its TTL.
func (f *fleet) kill(n *node) {
	_ = n.client.Close()
	for i, m := range f.monitors {
		if m == n {
			f.monitors = append(f.monitors[:i], f.monitors[i+1:]...)
		}
	}
}

// holders lists, for each tenant, the live monitors whose Hold says they
// own it.
func (f *fleet) holders() map[string][]string {
	out := map[string][]string{}
	for tenant := range f.tenants {
		for _, n := range f.monitors {
			_, release, ok, err := n.member.Hold(testkit.Ctx(f.t), tenant)
			if err != nil {
				f.t.Fatal(err)
			}
			release()
			if ok {
				out[tenant] = append(out[tenant], n.id)
			}
		}
	}
	return out
}

// balanced reports whether every tenant has exactly one owner and each
// live monitor holds between floor and ceiling of the fair share.
func (f *fleet) balanced() (bool, string) {
	held := map[string]int{}
	for tenant, owners := range f.holders() {
		if len(owners) != 1 {
			return false, fmt.Sprintf("tenant %s owned by %v", tenant, owners)
		}
		held[owners[0]]++
	}
	n := len(f.monitors)
	for _, m := range f.monitors {
		if c := held[m.id]; c < tenantCount/n || c > (tenantCount+n-1)/n {
			return false, fmt.Sprintf("shares %v", held)
		}
	}
	return true, fmt.Sprintf("shares %v", held)
}

// waitBalanced waits, on real time (etcd's), until the shares settle.
func (f *fleet) waitBalanced(within time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, why := f.balanced()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("not balanced after %s: %s", within, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// round moves the simulated clock past the sweep interval and the access
// tokens' lifetime (every job due, every refresh token redeemed), sweeps
// on every live monitor at once, and returns the profiles each swept.
func (f *fleet) round(extra ...*node) map[string]int {
	f.t.Helper()
	f.sim.Clock.Advance(2 * time.Hour)
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		swept = map[string]int{}
	)
	for _, n := range append(f.monitors, extra...) {
		wg.Go(func() {
			sum, err := n.eng.Sweep(testkit.Ctx(f.t))
			if err != nil {
				f.t.Errorf("monitor %s: %v", n.id, err)
			}
			mu.Lock()
			defer mu.Unlock()
			swept[n.id] = sum.Profiles
		})
	}
	wg.Wait()
	return swept
}

// sweptNow lists the profiles whose every job ran at the clock's instant,
// and checks each user's job is in one state, ok, and no token replayed.
func (f *fleet) sweptNow() map[string]bool {
	f.t.Helper()
	if n := f.sim.RefreshReplays(); n != 0 {
		f.t.Fatalf("%d refresh tokens redeemed again after their rotation: a tenant swept by two monitors", n)
	}
	now := f.sim.Clock.Now()
	out := map[string]bool{}
	for _, id := range f.tenants {
		jobs, err := f.db.Jobs(id)
		if err != nil {
			f.t.Fatal(err)
		}
		if len(jobs) != usersByTenant {
			f.t.Fatalf("profile %s: %d jobs for %d users", id, len(jobs), usersByTenant)
		}
		all := true
		for key, j := range jobs {
			if j.State != store.StateOK {
				f.t.Errorf("profile %s user %s: job %s (%v)", id, key, j.State, j.LastError)
			}
			all = all && j.LastRun.Equal(now)
		}
		out[id] = all
	}
	return out
}

// watchClaims sends when the profiles' tenants have all been claimed
// anew: the instant etcd tells of the last claim.
func (f *fleet) watchClaims(profiles []string) <-chan time.Time {
	watcher := testetcd.Client(f.t, f.endpoint)
	ctx, cancel := context.WithCancel(testkit.Ctx(f.t))
	f.t.Cleanup(cancel)
	left := map[string]bool{}
	for tenant, id := range f.tenants {
		if slices.Contains(profiles, id) {
			left[prefix+"owners/"+tenant] = true
		}
	}
	events := watcher.Watch(ctx, prefix+"owners/", clientv3.WithPrefix(), clientv3.WithFilterDelete())
	done := make(chan time.Time, 1)
	go func() {
		for resp := range events {
			for _, ev := range resp.Events {
				delete(left, string(ev.Kv.Key))
			}
			if len(left) == 0 {
				done <- time.Now()
				return
			}
		}
	}()
	return done
}

func total(swept map[string]int) int {
	n := 0
	for _, c := range swept {
		n += c
	}
	return n
}

// Three monitors share six tenants, one each at a time; one is killed and
// its tenants are swept by the others within the lease's TTL; a fourth
// joins and takes its share. The simulator sees no refresh token redeemed
// twice, and every job ends each round in one state.
func TestMonitorsShareTenantsAndFailOver(t *testing.T) {
	f := newFleet(t)
	for i := range 3 {
		f.start(fmt.Sprintf("m%d", i+1))
	}
	f.waitBalanced(4 * ttl)
	swept := f.round()
	if total(swept) != tenantCount {
		t.Fatalf("profiles swept by each monitor %v: want %d in all", swept, tenantCount)
	}
	for id, ok := range f.sweptNow() {
		if !ok {
			t.Errorf("profile %s not swept", id)
		}
	}

	other, mine := f.monitors[1], f.monitors[2]
	for tenant, owners := range f.holders() {
		if owners[0] != other.id {
			continue
		}
		if _, err := mine.eng.SyncNow(testkit.Ctx(t), f.tenants[tenant]); !errors.Is(err, monitor.ErrNotOwner) {
			t.Errorf("sync now on a tenant %s owns, from %s: %v, want ErrNotOwner", other.id, mine.id, err)
		}
		break
	}

	dead := f.monitors[0]
	var orphans []string
	for tenant, owners := range f.holders() {
		if owners[0] == dead.id {
			orphans = append(orphans, f.tenants[tenant])
		}
	}
	claimed := f.watchClaims(orphans)
	f.kill(dead)
	// Real time: etcd expires leases on its own clock. These are deadlines
	// and a measured failover, never a date the test asserts.
	killed := time.Now()
	select {
	case <-dead.member.Lost():
	case <-time.After(ttl):
		t.Fatal("the killed monitor's session still looks alive")
	}
	if swept := f.round(dead); swept[dead.id] != 0 {
		t.Errorf("the killed monitor swept %d profiles after losing its session", swept[dead.id])
	}
	var failover time.Duration
	for failover == 0 {
		if time.Since(killed) > 2*ttl {
			t.Fatalf("the killed monitor's tenants %v not swept by the others %s after the kill", orphans, 2*ttl)
		}
		time.Sleep(100 * time.Millisecond)
		f.round()
		now := f.sweptNow()
		all := true
		for _, id := range orphans {
			all = all && now[id]
		}
		if all {
			failover = time.Since(killed)
		}
	}
	takeover := (<-claimed).Sub(killed)
	if takeover > ttl+time.Second {
		t.Errorf("the killed monitor's tenants claimed %s after the kill: want within its lease's TTL %s and etcd's expiry check", takeover, ttl)
	}
	t.Logf("failover: the killed monitor's tenants %v owned by the others %s and swept %s after the kill (TTL %s)",
		orphans, takeover.Round(10*time.Millisecond), failover.Round(10*time.Millisecond), ttl)
	f.waitBalanced(2 * ttl)

	f.start("m4")
	f.waitBalanced(4 * ttl)
	_, why := f.balanced()
	t.Logf("after m4 joined: %s", why)
	if swept := f.round(); total(swept) != tenantCount || swept["m4"] == 0 {
		t.Errorf("profiles swept by each monitor %v: want %d in all, some by m4", swept, tenantCount)
	}
	for id, ok := range f.sweptNow() {
		if !ok {
			t.Errorf("profile %s not swept after m4 joined", id)
		}
	}
	if strings.Contains(why, dead.id) {
		t.Errorf("the killed monitor still holds tenants: %s", why)
	}
}
