package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
)

// Append adds events to the log in one transaction and returns their
// sequence numbers. The log numbers events itself: any Seq passed in is
// ignored. At is set to now when zero. The caller's events are not modified.
//
// Retention runs in the same transaction: the oldest events beyond
// Options.MaxEvents are dropped.
func (db *DB) Append(events ...Event) ([]uint64, error) {
	if len(events) == 0 {
		return nil, nil
	}
	var seqs []uint64
	err := db.update(func(tx kvTx) (err error) {
		seqs, err = db.appendEvents(tx, events)
		return err
	})
	if err != nil {
		return nil, err
	}
	return seqs, nil
}

// appendEvents adds events and trims the log, inside tx.
func (db *DB) appendEvents(tx kvTx, events []Event) ([]uint64, error) {
	seqs := make([]uint64, 0, len(events))
	b, err := root(tx, bktEvents)
	if err != nil {
		return nil, err
	}
	now := db.now()
	for _, e := range events {
		seq, err := b.NextSequence()
		if err != nil {
			return nil, fmt.Errorf("append event: %w", err)
		}
		e.Seq = seq
		if e.At.IsZero() {
			e.At = now
		}
		data, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("append event: %w", err)
		}
		if err := b.Put(seqKey(seq), data); err != nil {
			return nil, fmt.Errorf("append event: %w", err)
		}
		seqs = append(seqs, seq)
	}
	return seqs, trimEvents(b, db.maxEvents)
}

// trimEvents deletes the oldest events until at most max are left.
//
// It counts without a scan: keys are consecutive sequence numbers, since
// only Append adds events and only this function removes them, always from
// the front. So the count is last-first+1, found in two cursor seeks.
func trimEvents(b kvBucket, max int) error {
	if max < 0 {
		return nil
	}
	if r, ok := b.(rangeDeleter); ok {
		// The last key is the sequence, and every key below the max-th
		// before it goes in one range delete, with no read at all: a
		// cursor on etcd would list the whole log at every commit.
		if last := b.Sequence(); last > uint64(max) {
			return r.deleteBefore(seqKey(last - uint64(max) + 1))
		}
		return nil
	}
	c := b.Cursor()
	first, _ := c.First()
	last, _ := c.Last()
	if len(first) != 8 || len(last) != 8 {
		return nil
	}
	n := binary.BigEndian.Uint64(last) - binary.BigEndian.Uint64(first) + 1
	for ; n > uint64(max); n-- {
		// Re-seek after each delete: a bbolt cursor's Next after Delete
		// can skip a key.
		if k, _ := c.First(); k == nil {
			break
		}
		if err := c.Delete(); err != nil {
			return fmt.Errorf("trim event log: %w", err)
		}
	}
	return nil
}

// Events returns up to limit events with a sequence number above after, in
// order, for one profile or, with profileID "", for all. limit <= 0 means no
// limit. Tail the log by passing the last Seq seen as after.
func (db *DB) Events(profileID string, after uint64, limit int) ([]Event, error) {
	var out []Event
	if after == math.MaxUint64 {
		return nil, nil
	}
	err := db.view(func(tx kvTx) error {
		b, err := root(tx, bktEvents)
		if err != nil {
			return err
		}
		c := b.Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil; k, v = c.Next() {
			var e Event
			if err := decode(v, &e); err != nil {
				return fmt.Errorf("event %x: %w", k, err)
			}
			if profileID != "" && e.Profile != profileID {
				continue
			}
			out = append(out, e)
			if limit > 0 && len(out) == limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// LastSeq returns the sequence number of the newest event ever appended,
// even if retention has dropped it; 0 if none.
func (db *DB) LastSeq() (uint64, error) {
	var seq uint64
	err := db.view(func(tx kvTx) error {
		b, err := root(tx, bktEvents)
		if err != nil {
			return err
		}
		seq = b.Sequence()
		return nil
	})
	return seq, err
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}
