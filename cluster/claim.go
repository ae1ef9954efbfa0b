package cluster

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Claim runs one claim round: it counts the live monitors and who holds
// what, releases what this monitor holds beyond its fair share, and claims
// free tenants up to it. Each claim is a create-if-absent transaction, so
// two monitors claiming one tenant cannot both win.
//
// Fair shares: with T tenants and n live monitors, each holds at least
// floor(T/n) and at most ceil(T/n). A monitor above the ceiling releases
// the surplus; one above the floor releases one tenant while another
// monitor is below the floor (a monitor just joined); and a monitor claims
// up to the floor first, up to the ceiling only when no monitor is left
// below the floor, so a joining monitor is not outrun by the others.
func (m *Member) Claim(ctx context.Context) error {
	select {
	case <-m.session.Done():
		return nil // the session is lost: nothing to claim with
	default:
	}
	tenants, err := m.opts.Tenants()
	if err != nil {
		return fmt.Errorf("claim round: list the tenants: %w", err)
	}
	monitors, err := m.client.Get(ctx, m.opts.Prefix+"monitors/", clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("claim round: list the monitors: %w", err)
	}
	// Read the owners at the monitors' revision: one picture.
	owners, err := m.client.Get(ctx, m.opts.Prefix+"owners/", clientv3.WithPrefix(), clientv3.WithRev(monitors.Header.Revision))
	if err != nil {
		return fmt.Errorf("claim round: list the owners: %w", err)
	}
	held := map[clientv3.LeaseID]int{}
	for _, kv := range monitors.Kvs {
		held[clientv3.LeaseID(kv.Lease)] = 0
	}
	held[m.lease] = 0 // counted even before its announcement is read
	owner := map[string]clientv3.LeaseID{}
	for _, kv := range owners.Kvs {
		tenant := strings.TrimPrefix(string(kv.Key), m.opts.Prefix+"owners/")
		owner[tenant] = clientv3.LeaseID(kv.Lease)
	}
	var mine, free []string
	for _, t := range tenants {
		switch l, ok := owner[t]; {
		case !ok:
			free = append(free, t)
		case l == m.lease:
			mine = append(mine, t)
		}
		if l, ok := owner[t]; ok {
			if _, live := held[l]; live {
				held[l]++
			}
		}
	}
	n := len(held)
	floor, ceil := len(tenants)/n, (len(tenants)+n-1)/n
	starved := false
	for _, c := range held {
		starved = starved || c < floor
	}

	var release []string
	for t, l := range owner { // tenants gone from the store
		if l == m.lease && !slices.Contains(tenants, t) {
			release = append(release, t)
		}
	}
	switch {
	case len(mine) > ceil:
		release = append(release, mine[ceil:]...)
	case len(mine) > floor && starved:
		release = append(release, mine[len(mine)-1])
	}
	if err := m.release(ctx, release); err != nil {
		return err
	}

	target := ceil
	if starved {
		target = floor
	}
	// Monitors start at different free tenants, so that they rarely race
	// for the same key.
	slices.SortFunc(free, func(a, b string) int { return cmp.Compare(spread(m.opts.ID, a), spread(m.opts.ID, b)) })
	for have := len(mine); have < target && len(free) > 0; free = free[1:] {
		key := m.ownerKey(free[0])
		resp, err := m.client.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, m.opts.ID, clientv3.WithLease(m.lease))).Commit()
		if err != nil {
			return fmt.Errorf("claim round: claim tenant %s: %w", free[0], err)
		}
		if resp.Succeeded {
			have++
			m.opts.Logger.Info("claimed tenant", "monitor", m.opts.ID, "tenant", free[0])
			select {
			case m.claimed <- struct{}{}:
			default: // a sweep is asked for already
			}
		}
	}
	return nil
}

// release gives tenants up, but for those being swept here: they are
// given up at a later round, once their sweep ended, so that the monitor
// taking one over never sweeps it alongside.
func (m *Member) release(ctx context.Context, tenants []string) error {
	m.releasing.Lock()
	defer m.releasing.Unlock()
	for _, t := range tenants {
		if m.isBusy(t) {
			continue
		}
		key := m.ownerKey(t)
		if _, err := m.client.Txn(ctx).If(clientv3.Compare(clientv3.LeaseValue(key), "=", m.lease)).
			Then(clientv3.OpDelete(key)).Commit(); err != nil {
			return fmt.Errorf("claim round: release tenant %s: %w", t, err)
		}
		m.opts.Logger.Info("released tenant", "monitor", m.opts.ID, "tenant", t)
	}
	return nil
}

// spread orders tenants differently for each monitor.
func spread(id, tenant string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id + "\x00" + tenant))
	return h.Sum64()
}
