package cluster_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/modauth/modauth/cluster"
	"github.com/modauth/modauth/internal/testclock"
	"github.com/modauth/modauth/internal/testetcd"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// TestSweptTenantsAreNotGivenUp: a monitor joining makes the first give
// tenants up to rebalance, but not one it is sweeping: the newcomer would
// sweep it alongside and redeem its refresh tokens twice. They move once
// their sweeps end.
func TestSweptTenantsAreNotGivenUp(t *testing.T) {
	endpoint := testetcd.Start(t)
	t0 := testclock.Start(t)
	db, err := store.OpenEtcd([]string{endpoint}, prefix, store.Options{KeyFile: filepath.Join(t.TempDir(), "modauth.key"), Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	var tenants []string
	for i := range 4 {
		p := store.Profile{ID: fmt.Sprintf("p%d", i), TenantID: fmt.Sprintf("tenant-%d", i), ClientID: "app", Model: store.Delegated}
		if err := db.PutProfile(p); err != nil {
			t.Fatal(err)
		}
		tenants = append(tenants, p.TenantID)
	}
	join := func(id string) *cluster.Member {
		m, err := cluster.Join(testkit.Ctx(t), testetcd.Client(t, endpoint), cluster.Options{Prefix: prefix, ID: id, TTL: time.Second,
			Tenants: func() ([]string, error) { return monitor.Tenants(db) }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close() })
		return m
	}
	shares := func() map[string]int {
		h, err := cluster.ReadHealth(testkit.Ctx(t), testetcd.Client(t, endpoint), prefix)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, m := range h.Owners {
			out[m]++
		}
		return out
	}

	first := join("first")
	var releases []context.CancelFunc
	for _, tenant := range tenants {
		_, release, ok, err := first.Hold(testkit.Ctx(t), tenant)
		if err != nil || !ok {
			t.Fatalf("the only monitor does not hold %s: %v", tenant, err)
		}
		releases = append(releases, release)
	}
	join("second")
	time.Sleep(2 * time.Second) // six claim rounds of each, on etcd's real time
	if got := shares(); got["first"] != 4 {
		t.Fatalf("tenants given up while being swept: %v", got)
	}
	for _, release := range releases {
		release()
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if got := shares(); got["first"] == 2 && got["second"] == 2 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("shares after the sweeps ended: %v", got)
		}
	}
}
