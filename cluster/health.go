package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Health is the cluster as etcd sees it at one revision: for `check`.
type Health struct {
	Monitors []string          // the live monitors, by ID
	Owners   map[string]string // tenant → the monitor holding it
}

// ReadHealth reads the live monitors and the tenants' owners under prefix.
func ReadHealth(ctx context.Context, client *clientv3.Client, prefix string) (Health, error) {
	monitors, err := client.Get(ctx, prefix+"monitors/", clientv3.WithPrefix())
	if err != nil {
		return Health{}, fmt.Errorf("read the cluster's monitors from etcd: %w", err)
	}
	owners, err := client.Get(ctx, prefix+"owners/", clientv3.WithPrefix(), clientv3.WithRev(monitors.Header.Revision))
	if err != nil {
		return Health{}, fmt.Errorf("read the tenants' owners from etcd: %w", err)
	}
	h := Health{Owners: map[string]string{}}
	for _, kv := range monitors.Kvs {
		h.Monitors = append(h.Monitors, strings.TrimPrefix(string(kv.Key), prefix+"monitors/"))
	}
	slices.Sort(h.Monitors)
	for _, kv := range owners.Kvs {
		h.Owners[strings.TrimPrefix(string(kv.Key), prefix+"owners/")] = string(kv.Value)
	}
	return h, nil
}

// Unowned lists the tenants no monitor holds: nobody sweeps them.
func (h Health) Unowned(tenants []string) []string {
	var out []string
	for _, t := range tenants {
		if _, ok := h.Owners[t]; !ok {
			out = append(out, t)
		}
	}
	return out
}
