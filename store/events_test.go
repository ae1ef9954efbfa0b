package store

import (
	"fmt"
	"testing"

	"github.com/modauth/modauth/internal/testclock"
)

func TestEventRetention(t *testing.T) {
	db, path := testDB(t, Options{MaxEvents: 10})
	for i := 1; i <= 25; i++ {
		_, err := db.Append(Event{Kind: "sync", Message: fmt.Sprint(i)})
		must(t, err)
	}
	// Which events are kept: TestEventRetentionBothBackends.
	if seq, err := db.LastSeq(); err != nil || seq != 25 {
		t.Errorf("LastSeq = %d, %v; want 25", seq, err)
	}

	// A batch larger than the limit, and a lower limit after reopening.
	must(t, db.Close())
	db = mustOpen(t, path, Options{MaxEvents: 3})
	batch := make([]Event, 7)
	for i := range batch {
		batch[i] = Event{Kind: "sync", Message: fmt.Sprint(26 + i)}
	}
	seqs, err := db.Append(batch...)
	must(t, err)
	if len(seqs) != 7 || seqs[0] != 26 || seqs[6] != 32 {
		t.Errorf("Append returned %v", seqs)
	}
	evs, err := db.Events("", 0, 0)
	must(t, err)
	if len(evs) != 3 || evs[0].Seq != 30 || evs[2].Seq != 32 {
		t.Errorf("after lowering MaxEvents: %+v", evs)
	}
}

func TestEventRetentionOff(t *testing.T) {
	backends(t, Options{MaxEvents: -1}, func(t *testing.T, db *DB) {
		for range 30 {
			_, err := db.Append(Event{Kind: "sync"})
			must(t, err)
		}
		if evs, _ := db.Events("", 0, 0); len(evs) != 30 {
			t.Errorf("MaxEvents -1 kept %d of 30", len(evs))
		}
	})
}

func TestEventsQuery(t *testing.T) {
	backends(t, Options{}, func(t *testing.T, db *DB) {
		for i := range 6 {
			p := "acme"
			if i%2 == 1 {
				p = "zeta"
			}
			_, err := db.Append(Event{Seq: 999, Profile: p, Kind: "sync", Message: fmt.Sprint(i)})
			must(t, err)
		}
		if seq, _ := db.LastSeq(); seq != 6 {
			t.Errorf("LastSeq = %d; a caller's Seq must not be used", seq)
		}
		acme, err := db.Events("acme", 0, 0)
		must(t, err)
		if len(acme) != 3 || acme[0].Seq != 1 || acme[1].Seq != 3 || acme[2].Seq != 5 {
			t.Errorf("Events(acme) = %+v", acme)
		}
		for _, e := range acme {
			if e.At.IsZero() {
				t.Errorf("event %d has no time", e.Seq)
			}
		}
		page, err := db.Events("", 2, 2)
		must(t, err)
		if len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 4 {
			t.Errorf("Events after 2, limit 2 = %+v", page)
		}
		if tail, _ := db.Events("", 6, 0); len(tail) != 0 {
			t.Errorf("Events after the last = %+v", tail)
		}
		if none, _ := db.Events("", ^uint64(0), 0); len(none) != 0 {
			t.Errorf("Events after max uint64 = %+v", none)
		}
		given := testclock.Start(t).AddDate(0, 0, -1)
		_, err = db.Append(Event{At: given, Kind: "x"})
		must(t, err)
		last, _ := db.Events("", 6, 0)
		if len(last) != 1 || !last[0].At.Equal(given) {
			t.Errorf("Append replaced a given At: %+v", last)
		}
	})
}

// TestEventRetentionBothBackends: the log keeps the newest MaxEvents on
// bbolt and on etcd (where the oldest go in one range delete), also when
// one Append adds more than the log keeps.
func TestEventRetentionBothBackends(t *testing.T) {
	backends(t, Options{MaxEvents: 10}, func(t *testing.T, db *DB) {
		for i := 1; i <= 25; i++ {
			_, err := db.Append(Event{Kind: "sync", Message: fmt.Sprint(i)})
			must(t, err)
		}
		batch := make([]Event, 15)
		for i := range batch {
			batch[i] = Event{Kind: "sync", Message: fmt.Sprint(26 + i)}
		}
		_, err := db.Append(batch...)
		must(t, err)
		evs, err := db.Events("", 0, 0)
		must(t, err)
		if len(evs) != 10 {
			t.Fatalf("%d events kept, want 10", len(evs))
		}
		for i, e := range evs {
			if want := uint64(31 + i); e.Seq != want || e.Message != fmt.Sprint(want) {
				t.Errorf("event %d = seq %d %q, want seq %d", i, e.Seq, e.Message, want)
			}
		}
	})
}
