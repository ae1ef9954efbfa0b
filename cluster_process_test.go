package main

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	clientv3 "go.etcd.io/etcd/client/v3"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modauth/modauth/cluster"
	"github.com/modauth/modauth/internal/testetcd"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// clusterChildEnv, set to a clusterChild in JSON, makes the test binary
// one `modauth monitor --etcd` process of TestMonitorsOnEtcdSurviveKill9.
const clusterChildEnv = "MODAUTH_CLUSTER_CHILD"

type clusterChild struct {
	Dir, Etcd, Prefix string
	Now               time.Time // the simulator's clock, standing still
	CA                []byte    // the simulator's certificate
}

const (
	killTenants  = 6
	killUsers    = 5
	killLeaseTTL = 2 * time.Second
)

// TestMonitorsOnEtcdSurviveKill9: three monitor processes on one etcd
// share six tenants, two each. One is killed with -9 in mid-sweep; within
// a lease TTL the other two take its tenants and finish its users. At the
// end every user's job is ok and every stored refresh token redeems (none
// lost). No refresh token was redeemed twice but those the victim had in
// flight when it died: Entra rotated those and the answer died with it,
// so the new owner redeems the old one again, which Entra allows (the old
// token is not revoked); no crash-safe client can do better.
func TestMonitorsOnEtcdSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and three monitor processes; skipped with -short")
	}
	endpoint := testetcd.Start(t)
	sim := m365sim.Start(t, m365sim.Options{Seed: 15})
	prefix := "/modauth-kill/"
	first := &dataDirFlag{dir: t.TempDir(), now: sim.Clock.Now, etcd: []string{endpoint}, etcdPrefix: prefix}
	db, err := first.create()
	must(t, err)
	defer db.Close()
	hosts := testkit.Hosts(sim)
	tenants := map[string]*m365sim.Tenant{}
	for i := range killTenants {
		tenant, id := testkit.DelegatedTenant(t, sim, db, i, killUsers, hosts)
		tenants[id] = tenant
	}

	var children []*exec.Cmd
	for range 3 {
		children = append(children, startClusterChild(t, sim, first, prefix))
	}
	client := testetcd.Client(t, endpoint)
	owned := waitOwners(t, client, prefix, evenly(3, killTenants/3))
	t.Logf("shares before the kill: %v", owned)

	// The users arrive, as from `users import`, and SIGHUP sweeps at once.
	sim.SetLatency(30 * time.Millisecond)
	signedIn := map[string]store.Secret{} // by tenant and user
	for id, tenant := range tenants {
		testkit.SignInUsers(t, sim, db, tenant, id, killUsers)
		for key, tok := range storedTokens(t, db, id) {
			signedIn[tenant.ID+"/"+key] = tok
		}
	}
	for _, c := range children {
		must(t, c.Process.Signal(syscall.SIGHUP))
	}
	victim := children[0]
	victimTenants := ownedBy(t, client, prefix, victim.Process.Pid)
	tokenRequests := func() int {
		n := 0
		for _, tenant := range victimTenants {
			n += sim.Requests("/" + tenant + "/oauth2/v2.0/token")
		}
		return n
	}
	for deadline := time.Now().Add(20 * time.Second); tokenRequests() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the victim never started its sweep")
		}
	}
	must(t, victim.Process.Kill())
	killed := time.Now()
	_ = victim.Wait()
	inSweep := tokenRequests()
	if inSweep >= len(victimTenants)*killUsers {
		t.Fatalf("the victim had redeemed all %d tokens before the kill: not mid-sweep", inSweep)
	}
	// Its tenants are still its own for a lease TTL: what it stored is
	// what it finished; the rest of its token requests were in flight.
	stored := 0
	for id, tenant := range tenants {
		if slices.Contains(victimTenants, tenant.ID) {
			for key, tok := range storedTokens(t, db, id) {
				if tok != signedIn[tenant.ID+"/"+key] {
					stored++
				}
			}
		}
	}
	inFlight := inSweep - stored

	// Its tenants move to the others, who finish the sweep.
	waitOwners(t, client, prefix, evenly(2, killTenants/2))
	t.Logf("tenants moved %s after the kill -9 (lease TTL %s); the victim had made %d of %d token requests, %d of them in flight",
		time.Since(killed).Round(10*time.Millisecond), killLeaseTTL, inSweep, len(victimTenants)*killUsers, inFlight)
	waitAllOK(t, db, tenants)

	// No token lost: each stored refresh token still redeems, as the
	// product's own would.
	for id, tenant := range tenants {
		p, err := db.Profile(id)
		must(t, err)
		product := testkit.Product{Sim: sim, Tenant: tenant, ClientID: p.ClientID}
		for key, tok := range storedTokens(t, db, id) {
			if rt, err := product.Refresh(string(tok), strings.Join(testkit.GraphScopes, " ")); err != nil || rt == "" {
				t.Errorf("the stored refresh token of %s in %s does not redeem: %v", key, id, err)
			}
		}
	}
	if n := sim.RefreshReplays(); n > inFlight {
		t.Errorf("%d refresh token(s) redeemed twice, but only %d were in flight in the killed monitor", n, inFlight)
	} else {
		t.Logf("%d refresh token(s) redeemed again after the kill, of %d in flight; none by two live monitors", n, inFlight)
	}
}

// TestClusterMonitorChild is one monitor of TestMonitorsOnEtcdSurviveKill9:
// runMonitor as `modauth monitor --etcd` runs it, SIGHUP included, on the
// simulator's clock and certificate.
func TestClusterMonitorChild(t *testing.T) {
	spec := os.Getenv(clusterChildEnv)
	if spec == "" {
		t.Skip("runs only as a process TestMonitorsOnEtcdSurviveKill9 starts")
	}
	var c clusterChild
	must(t, json.Unmarshal([]byte(spec), &c))
	hc := &http.Client{}
	if c.CA != nil {
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(c.CA)
		hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	}
	now := func() time.Time { return c.Now }
	ctx, stop := signalContext()
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	opts := &monitorOptions{IO: streams{Out: os.Stdout, Err: os.Stderr, Now: now}, Reload: hup,
		Data:     &dataDirFlag{dir: c.Dir, now: now, etcd: []string{c.Etcd}, etcdPrefix: c.Prefix},
		Interval: time.Hour, Concurrency: 1, HTTPClient: hc, LeaseTTL: killLeaseTTL}
	must(t, runMonitor(ctx, opts))
}

// startClusterChild starts a monitor process with a data directory of its
// own holding a copy of the shared key file, as an operator sets one up.
func startClusterChild(t *testing.T, sim *m365sim.Sim, first *dataDirFlag, prefix string) *exec.Cmd {
	t.Helper()
	dir := t.TempDir()
	key, err := os.ReadFile(first.keyFile())
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "modauth.key"), key, 0o600))
	spec, err := json.Marshal(clusterChild{Dir: dir, Etcd: first.etcd[0], Prefix: prefix, Now: sim.Clock.Now(), CA: sim.CertificatePEM()})
	must(t, err)
	child := exec.Command(os.Args[0], "-test.run=^TestClusterMonitorChild$", "-test.v")
	child.Env = append(os.Environ(), clusterChildEnv+"="+string(spec))
	out := &syncBuffer{}
	child.Stdout, child.Stderr = out, out
	must(t, child.Start())
	t.Cleanup(func() {
		_ = child.Process.Kill()
		_ = child.Wait()
		if t.Failed() {
			t.Logf("monitor %d:\n%s", child.Process.Pid, out)
		}
	})
	return child
}

// hostPID is a monitor's ID in the cluster: host-pid by default.
func hostPID(pid int) string {
	host, _ := os.Hostname()
	return host + "-" + strconv.Itoa(pid)
}

// waitOwners waits, on etcd's real time, until the count of tenants each
// monitor holds satisfies ok, and returns it.
func waitOwners(t *testing.T, client *clientv3.Client, prefix string, ok func(map[string]int) bool) map[string]int {
	t.Helper()
	var by map[string]int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		h, err := cluster.ReadHealth(testkit.Ctx(t), client, prefix)
		must(t, err)
		by = map[string]int{}
		for _, m := range h.Monitors {
			by[m] = 0
		}
		for _, m := range h.Owners {
			by[m]++
		}
		if ok(by) {
			return by
		}
	}
	t.Fatalf("the shares never settled: %v", by)
	return nil
}

// evenly: every monitor holds n tenants.
func evenly(monitors, n int) func(map[string]int) bool {
	return func(by map[string]int) bool {
		for _, c := range by {
			if c != n {
				return false
			}
		}
		return len(by) == monitors
	}
}

// ownedBy lists the tenants the monitor with process pid holds.
func ownedBy(t *testing.T, client *clientv3.Client, prefix string, pid int) []string {
	t.Helper()
	h, err := cluster.ReadHealth(testkit.Ctx(t), client, prefix)
	must(t, err)
	var out []string
	for tenant, m := range h.Owners {
		if m == hostPID(pid) {
			out = append(out, tenant)
		}
	}
	return out
}

// waitAllOK waits until every user of every profile has an ok job.
func waitAllOK(t *testing.T, db *store.DB, tenants map[string]*m365sim.Tenant) {
	t.Helper()
	var states map[store.JobState]int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		states = map[store.JobState]int{}
		for id := range tenants {
			keys, err := db.UserKeys(id)
			must(t, err)
			jobs, err := db.Jobs(id)
			must(t, err)
			for _, k := range keys {
				states[cmp.Or(jobs[k].State, store.StateNeverSynced)]++
			}
		}
		if states[store.StateOK] == len(tenants)*killUsers {
			return
		}
	}
	t.Fatalf("users' states after the failover: %v, want %d ok", states, len(tenants)*killUsers)
}

// storedTokens are the refresh tokens stored for a profile's users.
func storedTokens(t *testing.T, db *store.DB, profileID string) map[string]store.Secret {
	t.Helper()
	keys, err := db.UserKeys(profileID)
	must(t, err)
	out := map[string]store.Secret{}
	for _, key := range keys {
		tok, err := db.Token(profileID, key)
		must(t, err)
		out[key] = tok.RefreshToken
	}
	return out
}
