// Package testetcd runs a real etcd for tests: Debian's etcd-server,
// started from PATH on free loopback ports with a temporary data dir. Only
// tests import it.
package testetcd

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

// Start runs a single-node etcd, killed at cleanup, and returns its client
// URL. Without the binary it skips, or fails when MODAUTH_REQUIRE_PEERS=1
// (CI).
func Start(t testing.TB) string {
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
		// Room for a sweep's batch in one Txn; see the store's etcdStore.
		"--max-txn-ops", "100000", "--max-request-bytes", strconv.Itoa(32<<20))
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	c := Client(t, client)
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

// Client is a plain client of the etcd at endpoint, closed at cleanup.
func Client(t testing.TB, endpoint string) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func freePorts(t testing.TB, n int) []string {
	t.Helper()
	var ports []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	return ports
}
