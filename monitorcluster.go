package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/modauth/modauth/cluster"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// errSessionLost ends a monitor whose etcd session expired: its tenants
// are the others' by now, and a monitor that sweeps what it may not own
// would redeem refresh tokens twice. systemd's Restart=on-failure brings
// it back as a new member.
var errSessionLost = errors.New("lost the etcd session (etcd unreachable for a lease TTL): the other monitors have this one's tenants; restart to join again")

// clusterMember is a monitor's part in a cluster of monitors on etcd, or
// nothing for a monitor alone on its data directory: its methods work on
// a nil receiver.
type clusterMember struct {
	client *clientv3.Client
	member *cluster.Member
}

// joinCluster joins the monitors sharing the store's tenants when the
// store is in etcd (--etcd); alone, it returns nil.
func joinCluster(ctx context.Context, db *store.DB, opts *monitorOptions, logger *slog.Logger) (*clusterMember, error) {
	if len(opts.Data.etcd) == 0 {
		return nil, nil
	}
	client, err := opts.Data.etcdClient()
	if err != nil {
		return nil, err
	}
	member, err := cluster.Join(ctx, client, cluster.Options{Prefix: opts.Data.etcdPrefix, Logger: logger, TTL: opts.LeaseTTL,
		Tenants: func() ([]string, error) { return monitor.Tenants(db) }})
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	select {
	case <-member.Claimed(): // the first sweep, next, covers what Join claimed
	default:
	}
	db.Fence(member.Fence())
	logger.Info("joined the monitors on etcd", "monitor", member.ID(), "prefix", opts.Data.etcdPrefix)
	return &clusterMember{client: client, member: member}, nil
}

// owner is what limits the engine's sweeps to this monitor's tenants.
func (c *clusterMember) owner() monitor.Owner {
	if c == nil {
		return nil
	}
	return c.member
}

// claimed and lost are the member's signals; nil channels alone, which
// never receive.
func (c *clusterMember) claimed() <-chan struct{} {
	if c == nil {
		return nil
	}
	return c.member.Claimed()
}

func (c *clusterMember) lost() <-chan struct{} {
	if c == nil {
		return nil
	}
	return c.member.Lost()
}

// Close leaves the cluster: the monitor's tenants are free at once.
func (c *clusterMember) Close() {
	if c == nil {
		return
	}
	_ = c.member.Close()
	_ = c.client.Close()
}
