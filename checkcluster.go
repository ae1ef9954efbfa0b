package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/modauth/modauth/cluster"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// clusterTimeout bounds the check's reading of the cluster: a check that
// hangs on an unreachable etcd is no check.
const clusterTimeout = 5 * time.Second

// checkCluster adds the health of the monitors sharing the store in etcd
// to res: CRITICAL when no monitor is alive, WARNING for each tenant no
// monitor holds (for up to a lease TTL after a monitor died, that is a
// failover under way).
func checkCluster(res *checkResult, data *dataDirFlag, db *store.DB, profiles []store.Profile) error {
	client, err := data.etcdClient()
	if err != nil {
		return err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	h, err := cluster.ReadHealth(ctx, client, data.etcdPrefix)
	if err != nil {
		return err
	}
	tenants, err := monitor.Tenants(db)
	if err != nil {
		return err
	}
	unowned := h.Unowned(tenants)
	res.Perfdata = append(res.Perfdata, fmt.Sprintf("'monitors'=%d;;1", len(h.Monitors)), fmt.Sprintf("'tenants_unowned'=%d;0", len(unowned)))
	res.Summary += fmt.Sprintf(", %d monitor(s) on etcd", len(h.Monitors))
	raise := res.raise
	if len(h.Monitors) == 0 {
		raise(nagiosCritical, "no monitor is running on etcd "+strings.Join(data.etcd, ",")+": nobody sweeps or watches the tenants; start `modauth monitor --etcd ...`")
		return nil
	}
	for _, t := range unowned {
		var names []string
		for _, p := range profiles {
			if monitor.TenantOf(p) == t {
				names = append(names, p.ID)
			}
		}
		if len(names) > 0 { // a check of one profile speaks of its tenant only
			raise(nagiosWarning, fmt.Sprintf("%s: no monitor holds its tenant (%d monitor(s) alive): a failover under way, or the monitors cannot reach etcd", strings.Join(names, ", "), len(h.Monitors)))
		}
	}
	return nil
}
