package cluster_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/modauth/modauth/cluster"
	"github.com/modauth/modauth/internal/testclock"
	"github.com/modauth/modauth/internal/testetcd"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// Two monitors share four tenants through a 3-node etcd; its leader is
// killed (SIGKILL). Neither monitor loses its session, each still holds
// the tenants it held, and Hold keeps answering, for longer than a TTL:
// one etcd node down costs no failover.
// nodeDeathTTL is the members' lease TTL here: a lease must outlast etcd's
// election and the client's move to another member, 1 to 3 s on loopback
// (at 2 s the members lost their sessions).
const nodeDeathTTL = 5 * time.Second

func TestMembersKeepTheirLeasesWhenAnEtcdNodeDies(t *testing.T) {
	etcd := testetcd.StartCluster(t, 3)
	t0 := testclock.Start(t)
	db, err := store.OpenEtcd(etcd.Endpoints, prefix, store.Options{KeyFile: filepath.Join(t.TempDir(), "modauth.key"), Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	for i := range 4 {
		p := store.Profile{ID: fmt.Sprintf("p%d", i), TenantID: fmt.Sprintf("tenant-%d", i), ClientID: "app", Model: store.Delegated}
		if err := db.PutProfile(p); err != nil {
			t.Fatal(err)
		}
	}
	var members []*cluster.Member
	for _, id := range []string{"m1", "m2"} {
		client, err := clientv3.New(clientv3.Config{Endpoints: etcd.Endpoints, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = client.Close() })
		m, err := cluster.Join(testkit.Ctx(t), client, cluster.Options{Prefix: prefix, ID: id, TTL: nodeDeathTTL,
			Tenants: func() ([]string, error) { return monitor.Tenants(db) }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close() })
		members = append(members, m)
	}
	// owners asks every member which tenants it holds, and says how long
	// the slowest Hold took to answer.
	owners := func() (map[string][]string, time.Duration) {
		out := map[string][]string{}
		var slowest time.Duration
		for i := range 4 {
			tenant := fmt.Sprintf("tenant-%d", i)
			for _, m := range members {
				asked := time.Now() // real time: a measurement
				_, release, ok, err := m.Hold(testkit.Ctx(t), tenant)
				slowest = max(slowest, time.Since(asked))
				if err != nil {
					t.Fatalf("Hold(%s) on %s: %v", tenant, m.ID(), err)
				}
				release()
				if ok {
					out[tenant] = append(out[tenant], m.ID())
				}
			}
		}
		return out, slowest
	}
	// Real time: etcd's leases; deadlines, never dates the test asserts.
	var before map[string][]string
	for deadline := time.Now().Add(4 * ttl); ; time.Sleep(50 * time.Millisecond) {
		before, _ = owners()
		if balancedTwoEach(before) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tenants not shared two each after %s: %v", 4*ttl, before)
		}
	}

	// Holds in flight when the member dies: the client must take them to
	// another member, not fail them.
	stop := make(chan struct{})
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, release, _, err := members[i%2].Hold(testkit.Ctx(t), fmt.Sprintf("tenant-%d", i%4))
				if err != nil {
					errs <- err
					return
				}
				release()
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	leader := etcd.Leader()
	etcd.Kill(leader)
	killed := time.Now()
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Hold in flight when etcd member n%d was killed: %v", leader+1, err)
	}
	var slowest time.Duration
	// A session the client cannot renew ends one TTL after its last
	// renewal: watch a little longer than that.
	const watch = nodeDeathTTL + 2*time.Second
	for time.Since(killed) < watch {
		for _, m := range members {
			select {
			case <-m.Lost():
				t.Fatalf("%s lost its etcd session %s after etcd member n%d was killed", m.ID(), time.Since(killed), leader+1)
			default:
			}
		}
		now, took := owners()
		slowest = max(slowest, took)
		if fmt.Sprint(now) != fmt.Sprint(before) {
			t.Fatalf("owners changed after etcd member n%d was killed: %v, were %v", leader+1, now, before)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("etcd leader n%d killed: sessions kept and owners unchanged for %s; the slowest Hold took %s",
		leader+1, watch, slowest.Round(10*time.Millisecond))
}

// balancedTwoEach reports whether each of four tenants has one owner and
// each of the two members holds two.
func balancedTwoEach(owners map[string][]string) bool {
	held := map[string]int{}
	for _, o := range owners {
		if len(o) != 1 {
			return false
		}
		held[o[0]]++
	}
	return len(owners) == 4 && held["m1"] == 2 && held["m2"] == 2
}
