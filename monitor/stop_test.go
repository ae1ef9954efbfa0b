package monitor_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// TestStoppedSweepRecordsOnlyJobsThatRan: a sweep whose context ends (the
// service's SIGTERM) records no result for a job it did not run: such a
// user keeps its state and stays due, never "ok" without a sync.
func TestStoppedSweepRecordsOnlyJobsThatRan(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.delegatedProfile()
	var keys []string
	for _, u := range f.sim.Tenant.Users {
		if u.HasMailbox && u.Enabled && len(keys) < 3 {
			key := strings.Split(u.UPN, "@")[0]
			f.user(key, u.UPN, store.MappingOK)
			f.signIn(key, u.UPN)
			keys = append(keys, key)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.eng.Sweep(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("a stopped sweep says %v", err)
	}
	f.eng.SyncNow(ctx, pid, keys...) // past the sweep's first check: into the chunks
	jobs, err := f.db.Jobs(pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range keys {
		if j, ok := jobs[key]; ok {
			t.Errorf("%s after a sweep stopped before it ran: %s, last run %v", key, j.State, j.LastRun)
		}
	}
	f.sweep()
	for _, key := range keys {
		if j := f.job(key); j.State != store.StateOK {
			t.Errorf("%s after the next sweep: %s %v", key, j.State, j.LastError)
		}
	}
}
