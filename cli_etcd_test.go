package main

import (
	"context"
	clientv3 "go.etcd.io/etcd/client/v3"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testetcd"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
)

// etcdProfile is simProfile's app-only profile, kept in a fresh etcd
// under prefix with the key file in a data directory of its own.
func etcdProfile(t *testing.T, prefix string) (*m365sim.Sim, *dataDirFlag) {
	t.Helper()
	sim, dir, _ := simProfile(t, "role:User.Read.All")
	src := openIn(t, sim, dir)
	p := mustProfile(t, src)
	secret, err := src.ClientSecret(p.ID)
	must(t, err)
	src.Close()
	data := &dataDirFlag{dir: dir, now: sim.Clock.Now, etcd: []string{testetcd.Start(t)}, etcdPrefix: prefix}
	db, err := data.create()
	must(t, err)
	defer db.Close()
	must(t, db.PutProfile(p))
	must(t, db.SetClientSecret(p.ID, secret))
	return sim, data
}

// TestCheckReportsTheMonitorsOnEtcd: check on etcd is CRITICAL while no
// monitor runs; with one, its tenant is held and the check says so in
// its perfdata. MODAUTH_ETCD does what --etcd does.
func TestCheckReportsTheMonitorsOnEtcd(t *testing.T) {
	sim, data := etcdProfile(t, "/modauth-check/")
	flags := []string{"--data-dir", data.dir, "--etcd", data.etcd[0], "--etcd-prefix", data.etcdPrefix}
	o, code := runOutcome(t, sim, append([]string{"check"}, flags...)...)
	if code != nagiosCritical || !strings.Contains(o.stdout, "no monitor is running on etcd") || !strings.Contains(o.stdout, "'monitors'=0") {
		t.Fatalf("check with no monitor: exit %d\n%s", code, o.stdout)
	}

	ctx, cancel := context.WithCancel(context.Background())
	log := &syncBuffer{}
	opts := &monitorOptions{IO: streams{Out: &syncBuffer{}, Err: log, Now: sim.Clock.Now}, Data: data,
		Interval: time.Hour, Concurrency: 4, HTTPClient: sim.HTTPClient(), LeaseTTL: 2 * time.Second}
	done := make(chan error, 1)
	go func() { done <- runMonitor(ctx, opts) }()
	defer func() {
		cancel()
		must(t, <-done)
	}()
	t.Setenv("MODAUTH_ETCD", data.etcd[0])
	t.Setenv("MODAUTH_ETCD_PREFIX", data.etcdPrefix)
	// Another machine: a data directory with no monitor's socket, and no
	// key file until the first one's is copied there.
	elsewhere := t.TempDir()
	if o, code := runOutcome(t, sim, "check", "--data-dir", elsewhere); code != nagiosUnknown || !strings.Contains(o.stdout, "copy modauth.key there from the data directory of the monitor that made the store") {
		t.Errorf("check without the key file: exit %d\n%s", code, o.stdout)
	}
	key, err := os.ReadFile(data.keyFile())
	must(t, err)
	must(t, os.WriteFile(filepath.Join(elsewhere, "modauth.key"), key, 0o600))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		o, code = runOutcome(t, sim, "check", "--data-dir", elsewhere)
		if code == nagiosOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("check with a monitor running: exit %d\n%s\n%s", code, o.stdout, log)
		}
	}
	for _, want := range []string{"1 monitor(s) on etcd", "'monitors'=1;;1", "'tenants_unowned'=0;0"} {
		if !strings.Contains(o.stdout, want) {
			t.Errorf("check lacks %q:\n%s", want, o.stdout)
		}
	}
}

// TestEtcdPrefixMustHoldAStore: a command that reads, on a prefix with no
// store, says where it looked and what to do, with exit 2, and creates
// nothing there.
func TestEtcdPrefixMustHoldAStore(t *testing.T) {
	sim, data := etcdProfile(t, "/modauth/")
	o, code := runOutcome(t, sim, "users", "export", "--profile", "acme", "--data-dir", data.dir, "--etcd", data.etcd[0], "--etcd-prefix", "/modauht/")
	if code != 2 || !strings.Contains(o.err, `prefix "/modauht/"`) || !strings.Contains(o.err, "check --etcd and --etcd-prefix") {
		t.Fatalf("a mistyped prefix: exit %d %+v", code, o)
	}
	resp, err := testetcd.Client(t, data.etcd[0]).Get(testkit.Ctx(t), "/modauht/", clientv3.WithPrefix())
	must(t, err)
	if len(resp.Kvs) != 0 {
		t.Errorf("reading a mistyped prefix wrote %d keys there", len(resp.Kvs))
	}
	if o, code := runOutcome(t, sim, "users", "export", "--profile", "acme", "--data-dir", data.dir, "--etcd", data.etcd[0]); code != 0 {
		t.Errorf("the right prefix: exit %d %+v", code, o)
	}
}

// TestStoreMigrateBothWays: a data directory's store moves into etcd and
// back out into another data directory, and every command answers the
// same on each; the destination must be empty.
func TestStoreMigrateBothWays(t *testing.T) {
	sim, dir, _ := simProfile(t)
	t.Chdir(t.TempDir())
	must(t, os.WriteFile("export.csv", []byte(usersCSV), 0o600))
	if o, code := runOutcome(t, sim, "users", "import", "export.csv", "--profile", "acme", "--data-dir", dir); code != 0 {
		t.Fatalf("import: %+v", o)
	}
	want, _ := runOutcome(t, sim, "users", "export", "--profile", "acme", "--data-dir", dir)
	etcd := []string{"--etcd", testetcd.Start(t), "--etcd-prefix", "/migrated/"}

	o, code := runOutcome(t, sim, append([]string{"store", "migrate", "--to", "etcd", "--data-dir", dir}, etcd...)...)
	if code != 0 || !strings.Contains(o.stderr, "copied 1 profile(s), 5 user(s)") || !strings.Contains(o.stderr, "copy "+filepath.Join(dir, "modauth.key")) {
		t.Fatalf("migrate to etcd: exit %d %+v", code, o)
	}
	if got, code := runOutcome(t, sim, append([]string{"users", "export", "--profile", "acme", "--data-dir", dir}, etcd...)...); code != 0 || got.stdout != want.stdout {
		t.Errorf("export from etcd: exit %d\n%s\nwant\n%s", code, got.stdout, want.stdout)
	}
	if o, code := runOutcome(t, sim, append([]string{"store", "migrate", "--to", "etcd", "--data-dir", dir}, etcd...)...); code == 0 || !strings.Contains(o.err, `already holds profile "acme"`) {
		t.Errorf("migrate into a used prefix: exit %d %+v", code, o)
	}

	back := t.TempDir()
	key, err := os.ReadFile(filepath.Join(dir, "modauth.key"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(back, "modauth.key"), key, 0o600))
	if o, code := runOutcome(t, sim, append([]string{"store", "migrate", "--to", "bbolt", "--data-dir", back}, etcd...)...); code != 0 {
		t.Fatalf("migrate to bbolt: exit %d %+v", code, o)
	}
	if got, code := runOutcome(t, sim, "users", "export", "--profile", "acme", "--data-dir", back); code != 0 || got.stdout != want.stdout {
		t.Errorf("export from the migrated file: exit %d\n%s\nwant\n%s", code, got.stdout, want.stdout)
	}
	if o, code := runOutcome(t, sim, "store", "migrate", "--to", "etcd", "--data-dir", back); code != 2 || !strings.Contains(o.err, "--etcd URL") {
		t.Errorf("migrate without --etcd: exit %d %+v", code, o)
	}
}
