// Package cluster shares tenants between monitors through etcd leases
// (issue 15): each monitor keeps a session (a lease kept alive), announces
// itself under <prefix>monitors/<id> and owns a tenant by holding the key
// <prefix>owners/<tenantID> with its lease. When a monitor dies its lease
// expires, its keys go with it, and the others claim its tenants at their
// next round. A monitor sweeps only what it holds, checked in one etcd
// revision just before each sweep; when its session is lost it stops at
// once. Fair shares come from counting the live monitors' keys.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Options configure a member.
type Options struct {
	// Prefix is where the cluster's keys live, such as "/modauth/".
	Prefix string
	// ID names this monitor among the others; default host-pid.
	ID string
	// TTL is the lease's: how long the others wait for a dead monitor's
	// tenants; default 10 s, whole seconds (etcd's unit). It must outlast
	// an etcd election: when etcd's leader died, members with a 2 s TTL
	// lost their sessions (the election and the client's move to another
	// member take 1 to 3 s), members with 5 s kept them.
	TTL time.Duration
	// Tenants lists the tenants to share, as the engine names them
	// (monitor.Engine.Tenants).
	Tenants func() ([]string, error)
	Logger  *slog.Logger
}

// Member is one monitor's part in the cluster. Its methods are safe for
// concurrent use.
type Member struct {
	client  *clientv3.Client
	session *concurrency.Session
	opts    Options
	lease   clientv3.LeaseID
	done    chan struct{} // closed when the claim loop has ended
	stop    context.CancelFunc
	claimed chan struct{} // a tenant was claimed: see Claimed

	// releasing is held (write) while a claim round gives tenants up and
	// (read) while Hold checks ownership, so that no tenant is given up
	// between Hold's check and its sweep being counted in busy.
	releasing sync.RWMutex
	busyMu    sync.Mutex
	busy      map[string]int // tenants being swept: kept until released
}

// Join starts a session on client, announces the monitor, claims its first
// share of the tenants and keeps claiming every TTL/3 until Close or the
// session's loss.
func Join(ctx context.Context, client *clientv3.Client, opts Options) (*Member, error) {
	if opts.Tenants == nil {
		return nil, errors.New("join the cluster: no tenant list given")
	}
	if opts.TTL <= 0 {
		opts.TTL = 10 * time.Second
	}
	if opts.ID == "" {
		host, _ := os.Hostname()
		opts.ID = host + "-" + strconv.Itoa(os.Getpid())
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ttl := max(1, int(opts.TTL.Round(time.Second)/time.Second))
	session, err := concurrency.NewSession(client, concurrency.WithTTL(ttl), concurrency.WithContext(context.WithoutCancel(ctx)))
	if err != nil {
		return nil, fmt.Errorf("join the cluster: start an etcd session: %w", err)
	}
	m := &Member{client: client, session: session, opts: opts, lease: session.Lease(), done: make(chan struct{}), claimed: make(chan struct{}, 1), busy: map[string]int{}}
	if _, err := client.Put(ctx, m.monitorKey(opts.ID), opts.ID, clientv3.WithLease(m.lease)); err != nil {
		_ = session.Close()
		return nil, fmt.Errorf("join the cluster: announce monitor %s: %w", opts.ID, err)
	}
	if err := m.Claim(ctx); err != nil {
		opts.Logger.Warn("first claim round failed", "err", err)
	}
	loop, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stop = stop
	go m.claimLoop(loop)
	return m, nil
}

// ID is the monitor's name in the cluster.
func (m *Member) ID() string { return m.opts.ID }

// Fence is the key and lease that stand for this monitor's ownership: a
// write to the store fenced by them (store.DB.Fence) lands only while the
// monitor still holds its tenants.
func (m *Member) Fence() (key string, lease int64) {
	return m.monitorKey(m.opts.ID), int64(m.lease)
}

// Claimed receives when a claim round won a tenant, such as a dead
// monitor's: sweep then, rather than at the next interval, so that its
// users wait one lease TTL and not a sweep interval more.
func (m *Member) Claimed() <-chan struct{} { return m.claimed }

// Lost is closed when the session is lost: the monitor holds nothing.
func (m *Member) Lost() <-chan struct{} { return m.session.Done() }

// Close leaves the cluster: it revokes the lease, so the monitor's tenants
// are free at once rather than after a TTL.
func (m *Member) Close() error {
	m.stop()
	<-m.done
	return m.session.Close()
}

// claimLoop runs a claim round every TTL/3, and at once when an owner
// key goes (a monitor died or released a tenant) or a monitor comes or
// goes: a watch, so that a dead monitor's tenants wait only for its lease.
func (m *Member) claimLoop(ctx context.Context) {
	defer close(m.done)
	tick := time.NewTicker(max(m.opts.TTL/3, 100*time.Millisecond))
	defer tick.Stop()
	ctx = clientv3.WithRequireLeader(ctx)
	owners := m.client.Watch(ctx, m.opts.Prefix+"owners/", clientv3.WithPrefix(), clientv3.WithFilterPut())
	monitors := m.client.Watch(ctx, m.opts.Prefix+"monitors/", clientv3.WithPrefix())
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.session.Done():
			m.opts.Logger.Error("etcd session lost: sweeping nothing until restarted", "monitor", m.opts.ID)
			return
		case <-tick.C:
		case _, ok := <-owners:
			if !ok {
				owners = nil // the ticker goes on
			}
		case _, ok := <-monitors:
			if !ok {
				monitors = nil
			}
		}
		if err := m.Claim(ctx); err != nil && ctx.Err() == nil {
			m.opts.Logger.Warn("claim round failed", "err", err)
		}
	}
}

// Hold reports whether the monitor owns tenant now: the owner key exists
// with this monitor's lease, checked in one linearizable read. While it
// does, the returned context ends when the session is lost, so a sweep
// started on it stops at once, and no claim round gives the tenant up to
// rebalance until release is called, when the sweep ends.
func (m *Member) Hold(ctx context.Context, tenant string) (held context.Context, release context.CancelFunc, ok bool, err error) {
	select {
	case <-m.session.Done():
		return ctx, func() {}, false, nil
	default:
	}
	m.releasing.RLock()
	defer m.releasing.RUnlock()
	// A Get, not a Txn comparing the lease: the client retries a read on
	// another member when the one it talks to dies mid-call, and never a
	// Txn, which it cannot tell from a write.
	resp, err := m.client.Get(ctx, m.ownerKey(tenant))
	if err != nil {
		return ctx, func() {}, false, fmt.Errorf("check the owner of tenant %s in etcd: %w", tenant, err)
	}
	if len(resp.Kvs) == 0 || clientv3.LeaseID(resp.Kvs[0].Lease) != m.lease {
		return ctx, func() {}, false, nil
	}
	m.setBusy(tenant, +1)
	held, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-m.session.Done(): // the lease expired or was revoked
			cancel()
		case <-held.Done():
		}
	}()
	var once sync.Once
	release = func() {
		cancel()
		once.Do(func() { m.setBusy(tenant, -1) })
	}
	return held, release, true, nil
}

// setBusy counts a sweep of tenant starting (+1) or ending (-1).
func (m *Member) setBusy(tenant string, d int) {
	m.busyMu.Lock()
	defer m.busyMu.Unlock()
	if m.busy[tenant] += d; m.busy[tenant] <= 0 {
		delete(m.busy, tenant)
	}
}

// isBusy reports whether a sweep of tenant is under way here.
func (m *Member) isBusy(tenant string) bool {
	m.busyMu.Lock()
	defer m.busyMu.Unlock()
	return m.busy[tenant] > 0
}

func (m *Member) monitorKey(id string) string { return m.opts.Prefix + "monitors/" + id }
func (m *Member) ownerKey(tenant string) string {
	return m.opts.Prefix + "owners/" + tenant
}
