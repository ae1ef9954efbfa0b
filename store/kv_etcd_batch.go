package store

import (
	"errors"
	"sync"
)

// Group commit. A sweep stores each user's rotated refresh token the
// moment it comes, from as many goroutines as it has requests in flight;
// on etcd each transaction costs a lock, a commit and an unlock, each a
// round trip and a disk sync of etcd's, and the lock is shared by every
// monitor. So updates that arrive while a transaction is under way run
// together in the next one, in arrival order: one lock and one commit for
// all. Each still sees the writes of those before it, as if they ran one
// after another; one that fails is taken back alone (undo), and a commit
// that fails fails them all, nothing written. A caller's Update returns
// once its own writes are committed, as on bbolt.

// maxGroup bounds the updates committed together, and maxGroupWrites the
// writes: no update joins a group that already writes that many, so that
// a group's Txn stays within the operations and bytes etcd takes (see the
// README's flags) whenever its updates alone would.
const (
	maxGroup       = 16
	maxGroupWrites = 10000
)

// pendingUpdate is an Update waiting for its transaction.
type pendingUpdate struct {
	fn   func(kvTx) error
	done chan error
}

// updateQueue holds the updates waiting, in arrival order, and the turn
// to commit them: one caller at a time commits.
type updateQueue struct {
	mu      sync.Mutex
	pending []*pendingUpdate
	turn    chan struct{} // holds a value while a caller commits
}

func (q *updateQueue) push(p *pendingUpdate) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, p)
}

// putBack returns updates not run to the front of the queue.
func (q *updateQueue) putBack(ps []*pendingUpdate) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(append([]*pendingUpdate(nil), ps...), q.pending...)
}

// take removes and returns the first updates waiting, at most maxGroup.
func (q *updateQueue) take() []*pendingUpdate {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(len(q.pending), maxGroup)
	group := append([]*pendingUpdate(nil), q.pending[:n]...)
	q.pending = append(q.pending[:0], q.pending[n:]...)
	return group
}

// Update runs fn in a write transaction, with the updates waiting beside
// it (see Group commit above). The caller whose turn it is commits
// groups, oldest first, until its own update is done; the others return
// as soon as theirs is, not when the turn comes to them.
func (s *etcdStore) Update(fn func(kvTx) error) error {
	p := &pendingUpdate{fn: fn, done: make(chan error, 1)}
	s.queue.push(p)
	for {
		select {
		case err := <-p.done:
			return err
		case s.queue.turn <- struct{}{}:
			s.commitTurn(p)
		}
	}
}

// commitTurn commits groups until p's is committed, and ends the turn.
func (s *etcdStore) commitTurn(p *pendingUpdate) {
	defer func() { <-s.queue.turn }()
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(p.done) == 0 {
		s.commitGroup(s.queue.take())
	}
}

// errGroupPanicked is what the other updates of a group get when one of
// them panicked: the panic goes on in the goroutine that ran the group.
var errGroupPanicked = errors.New("etcd: another update in the same transaction panicked: nothing was written")

// commitGroup runs a group of updates in one transaction and tells each
// how it ended; those left out for the group's size go back to the queue.
func (s *etcdStore) commitGroup(group []*pendingUpdate) {
	errs := make([]error, len(group))
	told := false
	defer func() {
		if told {
			return
		}
		r := recover()
		for _, p := range group {
			p.done <- errGroupPanicked
		}
		panic(r)
	}()
	err := s.locked(func(t *etcdTx) error {
		for i, p := range group {
			if i > 0 && len(t.writes) >= maxGroupWrites {
				s.queue.putBack(group[i:])
				group = group[:i]
				break
			}
			t.undo = t.undo[:0]
			cleared := len(t.cleared)
			errs[i] = p.fn(t)
			if t.err != nil {
				return t.err // a failed read: what the others read is in doubt
			}
			if errs[i] != nil {
				t.rollback(cleared)
			}
		}
		return nil
	})
	for i, p := range group {
		if err != nil {
			p.done <- err
		} else {
			p.done <- errs[i]
		}
	}
	told = true
}

// undoEntry is a key's pending write as it was before the current update
// changed it.
type undoEntry struct {
	key  string
	prev etcdWrite
	had  bool
}

// remember notes key's pending write before the current update changes it.
func (t *etcdTx) remember(key string) {
	prev, had := t.writes[key]
	t.undo = append(t.undo, undoEntry{key, prev, had})
}

// rollback takes back the current update's writes and the ranges it
// cleared (those after the first cleared).
func (t *etcdTx) rollback(cleared int) {
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		if u.had {
			t.writes[u.key] = u.prev
		} else {
			delete(t.writes, u.key)
		}
	}
	t.undo = t.undo[:0]
	t.cleared = t.cleared[:cleared]
}
