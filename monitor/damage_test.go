package monitor_test

import (
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
	bolt "go.etcd.io/bbolt"
)

// damageRecord closes the store, writes garbage over one record of the
// profile with bbolt itself, as a failing disk would, and reopens.
func (f *fixture) damageRecord(bucket, key string) {
	f.t.Helper()
	path := f.db.Path()
	if err := f.db.Close(); err != nil {
		f.t.Fatal(err)
	}
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("profiles")).Bucket([]byte(pid)).Bucket([]byte(bucket))
		return b.Put([]byte(key), []byte("\x07\x00garbage{"))
	})
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		f.t.Fatal(err)
	}
	if f.db, err = store.Open(path, store.Options{Now: f.sim.Clock.Now}); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { f.db.Close() })
	f.eng = monitor.New(f.db, monitor.Options{HTTPClient: f.sim.HTTPClient(), Now: f.sim.Clock.Now, Sleep: testkit.Sleep(f.sim), Concurrency: 8})
}

// TestDamagedRecordFailsOnlyThatUser: a user record and another user's job
// that do not decode fail those two users, with the damaged state and an
// event; the third user syncs. The damaged job is written anew, so that
// user syncs again on the next sweep.
func TestDamagedRecordFailsOnlyThatUser(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.delegatedProfile()
	for key, upn := range map[string]string{"AV": anna, "BJ": bram, "CD": claire} {
		f.user(key, upn, store.MappingOK)
		f.signIn(key, upn)
	}
	if sum := f.sweep(); sum.States[store.StateOK] != 3 {
		t.Fatalf("first sweep: %v", sum.States)
	}
	f.damageRecord("users", "BJ")
	f.damageRecord("jobs", "CD")
	seen, err := f.db.LastSeq()
	if err != nil {
		t.Fatal(err)
	}

	f.next()
	start := f.sim.Clock.Now()
	sum := f.sweep()
	if sum.States[store.StateOK] != 1 || sum.States[store.StateDamaged] != 2 {
		t.Errorf("states %v, want AV ok and BJ, CD damaged", sum.States)
	}
	if j := f.job("AV"); j.State != store.StateOK || j.LastRun.Before(start) {
		t.Errorf("AV: %s, last run %v: the undamaged user did not sync", j.State, j.LastRun)
	}
	for _, key := range []string{"BJ", "CD"} {
		j := f.job(key)
		if j.State != store.StateDamaged || j.LastError == nil || !strings.Contains(j.LastError.Message, "modauth doctor") {
			t.Errorf("%s: job %+v, want damaged with the way out", key, j)
		}
		var got []store.Event
		evs, err := f.db.Events(pid, seen, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.User == key {
				got = append(got, e)
			}
		}
		if len(got) != 1 || got[0].State != store.StateDamaged {
			t.Errorf("%s: events %+v, want one change to damaged", key, got)
		}
	}
	if !strings.Contains(f.job("BJ").LastError.Message, `user "BJ"`) {
		t.Errorf("BJ's error does not name the record: %s", f.job("BJ").LastError.Message)
	}

	f.next()
	f.sweep()
	if j := f.job("CD"); j.State != store.StateOK {
		t.Errorf("CD after its job was written anew: %s %v", j.State, j.LastError)
	}
	if j := f.job("BJ"); j.State != store.StateDamaged {
		t.Errorf("BJ: %s, want still damaged until imported again or restored", j.State)
	}
}

// TestSweepsBackUpDailyAndKeepAWeek: sweeps every six hours for ten days
// on the simulated clock leave the newest seven daily backups.
func TestSweepsBackUpDailyAndKeepAWeek(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.delegatedProfile()
	f.user("AV", anna, store.MappingOK)
	for range 10*4 + 1 {
		f.sweep()
		f.sim.Clock.Advance(6 * time.Hour)
	}
	backups, err := store.Backups(f.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(backups) != 7 {
		t.Fatalf("%d backups, want 7", len(backups))
	}
	// The simulated clock also creeps on with the real one, by moments.
	for i := range backups[1:] {
		if gap := backups[i].At.Sub(backups[i+1].At); gap < 24*time.Hour-time.Second || gap > 24*time.Hour+time.Minute {
			t.Errorf("backups %d and %d are %v apart, want a day", i, i+1, gap)
		}
	}
}
