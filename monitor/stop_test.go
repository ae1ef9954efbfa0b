package monitor_test

import (
	"context"
	"errors"
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
	keys := f.signedInUsers(3)
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
