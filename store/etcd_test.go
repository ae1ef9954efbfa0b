package store

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// testPrefix is where the tests keep the store in etcd.
const testPrefix = "modauth-test/"

// startEtcd runs a real single-node etcd (Debian's etcd-server) on free
// loopback ports with a temp data dir, killed at cleanup, and returns its
// client URL. Without the binary it skips, or fails when
// MODAUTH_REQUIRE_PEERS=1 (CI).
func startEtcd(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		reason := "etcd is not installed: apt-get install etcd-server, or run .ci/run"
		if os.Getenv("MODAUTH_REQUIRE_PEERS") == "1" {
			t.Fatal(reason + " (MODAUTH_REQUIRE_PEERS=1)")
		}
		t.Skip(reason)
	}
	ports := freePorts(t, 3)
	client := "http://127.0.0.1:" + ports[0]
	peer := "http://127.0.0.1:" + ports[1]
	var log bytes.Buffer
	cmd := exec.Command(bin, "--name", "n1", "--data-dir", filepath.Join(t.TempDir(), "etcd"),
		"--logger=zap", "--log-outputs=stderr",
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "n1="+peer, "--listen-metrics-urls", "http://127.0.0.1:"+ports[2],
		// Room for a sweep's batch in one Txn; see etcdStore.
		"--max-txn-ops", "100000", "--max-request-bytes", strconv.Itoa(32<<20))
	cmd.Stderr = &log
	must(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	c := rawEtcd(t, client)
	for start := 0; ; start++ {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		_, err := c.Get(ctx, "health")
		cancel()
		if err == nil {
			return client
		}
		if start == 100 {
			t.Fatalf("etcd did not come up: %v\n%s", err, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var ports []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		must(t, err)
		defer l.Close()
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	return ports
}

// rawEtcd is a plain client, for reading what the store wrote.
func rawEtcd(t *testing.T, endpoint string) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	must(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// etcdDB opens the store in a fresh etcd, on the tests' clock unless opts
// name one, and returns it with the etcd's client URL.
func etcdDB(t *testing.T, opts Options) (*DB, string) {
	t.Helper()
	endpoint := startEtcd(t)
	if opts.Now == nil {
		opts.Now = clock(t)
	}
	if opts.KeyFile == "" {
		opts.KeyFile = filepath.Join(t.TempDir(), "modauth.key")
	}
	db, err := OpenEtcd([]string{endpoint}, testPrefix, opts)
	if err != nil {
		t.Fatalf("OpenEtcd: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, endpoint
}

// backends runs a behavioural test on a bbolt file and on a real etcd.
func backends(t *testing.T, opts Options, test func(t *testing.T, db *DB)) {
	t.Run("bbolt", func(t *testing.T) {
		db, _ := testDB(t, opts)
		test(t, db)
	})
	t.Run("etcd", func(t *testing.T) {
		db, _ := etcdDB(t, opts)
		test(t, db)
	})
}
