// Package testetcd runs a real etcd for tests: Debian's etcd-server,
// started from PATH on free loopback ports with a temporary data dir, one
// node or a cluster of several. Only tests import it.
package testetcd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
	return StartCluster(t, 1).Endpoints[0]
}

// Cluster is a running etcd cluster, each member its own process.
type Cluster struct {
	// Endpoints are the members' client URLs, in member order.
	Endpoints []string
	t         testing.TB
	nodes     []*node
}

// node is one member's process and where its log goes.
type node struct {
	cmd    *exec.Cmd
	log    string // file holding its stderr, shown when it does not come up
	killed bool
}

// StartCluster runs an n-member etcd cluster on loopback, every member
// killed at cleanup, and returns once each member answers a read (which
// needs a leader). It skips or fails without the binary as Start does.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	bin := binary(t)
	for try := 1; ; try++ {
		c, err := startCluster(t, bin, n)
		if err == nil {
			return c
		}
		c.killAll()
		// A free port can be taken by another process (a parallel test
		// run's etcd) before etcd binds it: try again on new ones.
		if !errors.Is(err, errPortTaken) || try == 3 {
			t.Fatal(err)
		}
	}
}

// errPortTaken: a member could not bind a port freePorts found free.
var errPortTaken = errors.New("a port was taken before etcd bound it")

func startCluster(t testing.TB, bin string, n int) (*Cluster, error) {
	t.Helper()
	ports := freePorts(t, 3*n)
	dir := t.TempDir()
	var peers []string
	for i := range n {
		peers = append(peers, fmt.Sprintf("n%d=http://127.0.0.1:%s", i+1, ports[3*i+1]))
	}
	c := &Cluster{t: t}
	t.Cleanup(c.killAll)
	for i := range n {
		client, peer, metrics := "http://127.0.0.1:"+ports[3*i], "http://127.0.0.1:"+ports[3*i+1], "http://127.0.0.1:"+ports[3*i+2]
		name := fmt.Sprintf("n%d", i+1)
		logPath := filepath.Join(dir, name+".log")
		logFile, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "--name", name, "--data-dir", filepath.Join(dir, name),
			"--logger=zap", "--log-outputs=stderr",
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", strings.Join(peers, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", "testetcd", "--listen-metrics-urls", metrics,
			// Room for a sweep's batch in one Txn; see the store's etcdStore.
			"--max-txn-ops", "100000", "--max-request-bytes", strconv.Itoa(32<<20))
		cmd.Stderr = logFile
		err = cmd.Start()
		_ = logFile.Close() // the child has its own descriptor
		if err != nil {
			return c, err
		}
		c.nodes = append(c.nodes, &node{cmd: cmd, log: logPath})
		c.Endpoints = append(c.Endpoints, client)
	}
	for i := range n {
		if err := c.waitHealthy(i); err != nil {
			return c, err
		}
	}
	return c, nil
}

// killAll kills every member.
func (c *Cluster) killAll() {
	for i := range c.nodes {
		c.Kill(i)
	}
}

// binary finds etcd on PATH, or skips (fails under MODAUTH_REQUIRE_PEERS=1).
func binary(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		reason := "etcd is not installed: apt-get install etcd-server, or run .ci/run"
		if os.Getenv("MODAUTH_REQUIRE_PEERS") == "1" {
			t.Fatal(reason + " (MODAUTH_REQUIRE_PEERS=1)")
		}
		t.Skip(reason)
	}
	return bin
}

// waitHealthy waits, for up to ten seconds, until member i answers a read.
func (c *Cluster) waitHealthy(i int) error {
	c.t.Helper()
	client := Client(c.t, c.Endpoints[i])
	for try := 0; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		_, err := client.Get(ctx, "health")
		cancel()
		if err == nil {
			return nil
		}
		log, _ := os.ReadFile(c.nodes[i].log)
		if bytes.Contains(log, []byte("address already in use")) {
			return fmt.Errorf("etcd member n%d: %w", i+1, errPortTaken)
		}
		if try == 100 {
			return fmt.Errorf("etcd member n%d did not come up: %v\n%s", i+1, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Kill ends member i with SIGKILL, as a crash or a pulled plug would: no
// leadership handed over, no goodbye to its peers. Killing it again does
// nothing.
func (c *Cluster) Kill(i int) {
	n := c.nodes[i]
	if n.killed {
		return
	}
	n.killed = true
	_ = n.cmd.Process.Kill()
	_ = n.cmd.Wait()
}

// Leader returns the index of the member that leads now, as the running
// members' status tells: the leader is the member whose ID they name.
func (c *Cluster) Leader() int {
	c.t.Helper()
	var live []string
	for i, n := range c.nodes {
		if !n.killed {
			live = append(live, c.Endpoints[i])
		}
	}
	client, err := clientv3.New(clientv3.Config{Endpoints: live, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		c.t.Fatal(err)
	}
	defer client.Close()
	members := map[uint64]int{}
	var leader uint64
	for i, n := range c.nodes {
		if n.killed {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		status, err := client.Status(ctx, c.Endpoints[i])
		cancel()
		if err != nil {
			c.t.Fatalf("status of etcd member n%d: %v", i+1, err)
		}
		members[status.Header.MemberId] = i
		leader = max(leader, status.Leader) // 0 where a member knows none
	}
	i, ok := members[leader]
	if !ok {
		c.t.Fatalf("no running etcd member leads (leader ID %x)", leader)
	}
	return i
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
