package store

// The etcd backend's write path: the write lock every monitor shares, the
// session it is held with, and the commit of a transaction's writes in
// one Txn (see etcdStore).

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// locked runs fn in a write transaction under the write lock and commits
// what it wrote; the caller holds s.mu.
func (s *etcdStore) locked(fn func(*etcdTx) error) (err error) {
	if s.session != nil {
		select {
		case <-s.session.Done(): // its lease expired: the lock it held is gone
			s.session = nil
		default:
		}
	}
	if s.session == nil {
		if s.session, err = s.newSession(); err != nil {
			return fmt.Errorf("etcd: start a session: %w", err)
		}
	}
	m, err := s.lock()
	if err != nil {
		return fmt.Errorf("etcd: take the write lock: %w", err)
	}
	defer func() {
		ctx, cancel := s.ctx()
		defer cancel()
		if uerr := m.Unlock(ctx); uerr != nil && err == nil {
			err = fmt.Errorf("etcd: release the write lock: %w", uerr)
		}
	}()

	t := &etcdTx{s: s, rev: m.Header().Revision, writable: true, writes: map[string]etcdWrite{}}
	err = fn(t)
	if t.err != nil {
		return t.err
	}
	if err != nil {
		return err
	}
	return t.commit(m)
}

// lock takes the write lock, trying again once when the member it asked
// died before answering (etcd answers "request timed out" after its
// election, some seconds): taking it again with the same session is safe,
// since the session's key is the lock request. Without this the first
// write after etcd lost its leader failed.
func (s *etcdStore) lock() (*concurrency.Mutex, error) {
	var err error
	for try := 0; try < 2; try++ {
		m := concurrency.NewMutex(s.session, s.prefix+"lock/")
		ctx, cancel := context.WithTimeout(context.Background(), etcdLockWait)
		err = m.Lock(ctx)
		cancel()
		if err == nil {
			return m, nil
		}
		if !etcdMemberLost(err) {
			break
		}
	}
	return nil, err
}

// etcdMemberLost tells the errors of a request whose member died or lost
// its leader on the way: another member may answer it.
func etcdMemberLost(err error) bool {
	if status.Code(err) == codes.Unavailable { // the connection to it broke
		return true
	}
	for _, lost := range []error{rpctypes.ErrTimeout, rpctypes.ErrTimeoutDueToLeaderFail, rpctypes.ErrTimeoutDueToConnectionLost,
		rpctypes.ErrLeaderChanged, rpctypes.ErrNoLeader} {
		if errors.Is(err, lost) {
			return true
		}
	}
	return false
}

// newSession grants the session's lease within the store's timeout:
// concurrency.NewSession would grant it on the client's context, which has
// none, and retry for ever while etcd has no quorum. Its keep-alive must
// not run on a context with a timeout, so the lease comes first.
func (s *etcdStore) newSession() (*concurrency.Session, error) {
	const ttl = 10 // seconds: how long another monitor waits for a dead one's lock
	ctx, cancel := s.ctx()
	defer cancel()
	lease, err := s.client.Grant(ctx, ttl)
	if err != nil {
		return nil, err
	}
	return concurrency.NewSession(s.client, concurrency.WithTTL(ttl), concurrency.WithLease(lease.ID))
}

// commit writes everything in one Txn, only while m is still held. A
// cleared range becomes one range delete unless a later write falls in it
// (etcd refuses a Txn whose puts overlap its deletes): then its keys are
// read and deleted one by one.
func (t *etcdTx) commit(m *concurrency.Mutex) error {
	var ops []clientv3.Op
	var ranges []keyRange
	for _, r := range t.cleared {
		rewritten := false
		for k, w := range t.writes {
			if r.has(k) && !w.deleted {
				rewritten = true
				break
			}
		}
		if !rewritten {
			ops = append(ops, clientv3.OpDelete(r.start, clientv3.WithRange(r.end)))
			ranges = append(ranges, r)
			continue
		}
		keys := t.keysUnder(r.start)
		if t.err != nil {
			return t.err
		}
		for _, k := range keys {
			if _, ok := t.writes[k]; !ok && r.has(k) {
				t.writes[k] = etcdWrite{deleted: true}
			}
		}
	}
	for k, w := range t.writes {
		switch {
		case !w.deleted:
			ops = append(ops, clientv3.OpPut(k, string(w.value)))
		case !covered(ranges, k):
			ops = append(ops, clientv3.OpDelete(k))
		}
	}
	if len(ops) == 0 {
		return nil
	}
	ctx, cancel := t.s.ctx()
	defer cancel()
	conds := []clientv3.Cmp{m.IsOwner()}
	if f := t.s.fence.Load(); f != nil {
		conds = append(conds, *f)
	}
	resp, err := t.s.client.Txn(ctx).If(conds...).Then(ops...).Commit()
	switch {
	case errors.Is(err, rpctypes.ErrTooManyOps), errors.Is(err, rpctypes.ErrRequestTooLarge):
		// etcd's defaults (128 operations, 1.5 MiB) are far below one
		// sweep's commit of a chunk of users.
		return fmt.Errorf("etcd: commit %d writes: %w: start etcd with --max-txn-ops 100000 --max-request-bytes 33554432", len(ops), err)
	case err != nil:
		return fmt.Errorf("etcd: commit %d writes: %w", len(ops), err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("etcd: commit refused: this process's write lock expired, or its monitor's lease did and its tenants are other monitors' now: nothing was written")
	}
	return nil
}

func covered(ranges []keyRange, k string) bool {
	for _, r := range ranges {
		if r.has(k) {
			return true
		}
	}
	return false
}
