package store

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolterrors "go.etcd.io/bbolt/errors"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// etcdStore keeps the store's buckets in etcd under a prefix, for several
// monitors sharing tenants (issue 15).
//
// Key encoding. An entry (a key or a nested bucket) named n in the bucket
// at path p1/…/pd is stored at
//
//	prefix | byte(d) | enc(p1) … enc(pd) | kind | enc(n)
//
// where kind is 'b' for a bucket (its value: its sequence, 8 bytes big
// endian) or 'v' for a key (its value as the store wrote it, sealed where
// bbolt's is), and enc escapes 0x00 as 0x00 0xFF and ends with 0x00 0x01.
// enc keeps byte order and no encoded name is a prefix of another, so a
// bucket's keys are one etcd range in bbolt's order, its nested buckets
// another, and no key can collide with a bucket or with another path. The
// depth byte keeps deeper entries out of those ranges: listing a profile's
// users does not read their items.
//
// Transactions. A View reads at one revision, the first it reads. An Update
// holds an etcd mutex (under prefix+"lock/") for its whole run, plus a
// mutex in the process, reads at the revision at which it got the lock,
// keeps its writes in memory (reads see them) and commits them in one etcd
// Txn guarded by still owning the lock. Updates are thus serializable across
// monitors, and all of one commit or none lands. The cost: updates anywhere
// under the prefix run one at a time, and each takes about four round trips
// (lock, commit, unlock, plus one per distinct read) where bbolt takes an
// fsync; a commit is bounded by the server's --max-txn-ops (one op per
// written key) and --max-request-bytes.
type etcdStore struct {
	client *clientv3.Client
	prefix string

	mu      sync.Mutex // one transaction at a time in this process; guards session
	session *concurrency.Session
	queue   updateQueue                  // updates waiting for the next transaction
	reads   atomic.Int64                 // read requests sent, for the tests of round trips
	fence   atomic.Pointer[clientv3.Cmp] // see DB.Fence
}

const (
	etcdOpTimeout = 10 * time.Second
	// etcdLockWait bounds the wait for the write lock. The monitors queue
	// for it in turn, and while the holders live the queue moves: at
	// 100,000 users on three monitors sharing two cores with etcd a turn
	// came after more than two minutes. A holder that died frees it
	// within its session's TTL, so a long wait is a busy etcd, not a hang.
	etcdLockWait = 10 * time.Minute
	// etcdMaxDepth bounds bucket nesting (the store uses 5 levels), so that
	// deleting a bucket is a fixed number of range deletes.
	etcdMaxDepth = 8
	kindBucket   = 'b'
	kindValue    = 'v'
)

func (s *etcdStore) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), etcdOpTimeout)
}

func (s *etcdStore) View(fn func(kvTx) error) error {
	t := &etcdTx{s: s}
	err := fn(t)
	if t.err != nil {
		return t.err
	}
	return err
}

func (s *etcdStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.session != nil {
		_ = s.session.Close() // revokes its lease; the client goes next anyway
	}
	return s.client.Close()
}

// etcdWrite is a pending write: a value, or a deletion.
type etcdWrite struct {
	value   []byte
	deleted bool
}

// keyRange is [start, end).
type keyRange struct{ start, end string }

func (r keyRange) has(k string) bool { return k >= r.start && k < r.end }

type etcdTx struct {
	s        *etcdStore
	rev      int64 // 0 until a View's first read fixes it
	writable bool
	err      error // the first failed read: Get has no error to return it with

	writes  map[string]etcdWrite
	cleared []keyRange // deleted ranges, under later writes
	cache   map[string][]byte
	lists   map[string]map[string][]byte
	reads   map[string]int // single reads per bucket prefix: see getIn
	undo    []undoEntry    // how to take back the current update's writes
	wide    []string       // prefixes read whole ahead: see prefetch
}

func (t *etcdTx) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

// readOpts fixes every read of the transaction at one revision.
func (t *etcdTx) readOpts(opts ...clientv3.OpOption) []clientv3.OpOption {
	if t.rev != 0 {
		opts = append(opts, clientv3.WithRev(t.rev))
	}
	return opts
}

func (t *etcdTx) serverGet(key string, opts ...clientv3.OpOption) *clientv3.GetResponse {
	if t.err != nil {
		return nil
	}
	ctx, cancel := t.s.ctx()
	defer cancel()
	resp, err := t.s.client.Get(ctx, key, t.readOpts(opts...)...)
	t.s.reads.Add(1)
	if err != nil {
		t.fail(fmt.Errorf("etcd: read: %w", err))
		return nil
	}
	if t.rev == 0 {
		t.rev = resp.Header.Revision
	}
	return resp
}

// get reads one key as this transaction sees it.
func (t *etcdTx) get(key string) []byte {
	if w, ok := t.writes[key]; ok {
		return w.value
	}
	if t.isCleared(key) {
		return nil
	}
	if v, ok := t.cache[key]; ok {
		return v
	}
	if l, ok := t.covering(key); ok {
		v, found := l[key]
		if found && v == nil {
			v = []byte{}
		}
		return v
	}
	resp := t.serverGet(key)
	if resp == nil {
		return nil
	}
	var v []byte
	if len(resp.Kvs) > 0 {
		v = resp.Kvs[0].Value
		if v == nil {
			v = []byte{}
		}
	}
	if t.cache == nil {
		t.cache = map[string][]byte{}
	}
	t.cache[key] = v
	return v
}

// listAfter is how many keys of one bucket a transaction reads one by one
// before it reads the whole bucket in one request: a sweep's commit reads
// a dozen keys per user in the same few buckets, and a round trip per key,
// under the write lock, made three monitors on one etcd wait in turn.
const listAfter = 8

// getIn reads key, an entry of the bucket whose entries of its kind start
// with pfx: from the bucket's listing once it was read, or read whole
// after listAfter single reads.
func (t *etcdTx) getIn(pfx, key string) []byte {
	if _, ok := t.writes[key]; ok || t.isCleared(key) {
		return t.get(key)
	}
	if _, ok := t.cache[key]; ok {
		return t.get(key)
	}
	l, ok := t.lists[pfx]
	if !ok {
		if t.reads == nil {
			t.reads = map[string]int{}
		}
		if t.reads[pfx]++; t.reads[pfx] <= listAfter {
			return t.get(key)
		}
		l = t.listed(pfx)
	}
	v, found := l[key]
	if found && v == nil {
		v = []byte{}
	}
	return v
}

// listed returns the keys and values under pfx at the transaction's
// revision, read once per transaction.
func (t *etcdTx) listed(pfx string) map[string][]byte {
	if l, ok := t.lists[pfx]; ok {
		return l
	}
	if wide, ok := t.covering(pfx); ok {
		l := map[string][]byte{}
		for k, v := range wide {
			if strings.HasPrefix(k, pfx) {
				l[k] = v
			}
		}
		t.lists[pfx] = l
		return l
	}
	resp := t.serverGet(pfx, clientv3.WithPrefix())
	if resp == nil {
		return nil
	}
	l := make(map[string][]byte, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		l[string(kv.Key)] = kv.Value
	}
	if t.lists == nil {
		t.lists = map[string]map[string][]byte{}
	}
	t.lists[pfx] = l
	return l
}

func (t *etcdTx) isCleared(key string) bool {
	for _, r := range t.cleared {
		if r.has(key) {
			return true
		}
	}
	return false
}

func (t *etcdTx) put(key string, value []byte) error {
	if !t.writable {
		return bolterrors.ErrTxNotWritable
	}
	t.remember(key)
	t.writes[key] = etcdWrite{value: bytes.Clone(value)}
	return nil
}

func (t *etcdTx) del(key string) error {
	if !t.writable {
		return bolterrors.ErrTxNotWritable
	}
	t.remember(key)
	t.writes[key] = etcdWrite{deleted: true}
	return nil
}

// clear deletes every key with the given prefix.
func (t *etcdTx) clear(prefix string) {
	t.clearRange(keyRange{prefix, clientv3.GetPrefixRangeEnd(prefix)})
}

// clearRange deletes every key in r, whose start is the prefix of all
// its keys (see commit).
func (t *etcdTx) clearRange(r keyRange) {
	for k := range t.writes {
		if r.has(k) {
			t.remember(k)
			t.writes[k] = etcdWrite{deleted: true}
		}
	}
	t.cleared = append(t.cleared, r)
}

func (t *etcdTx) root() *etcdBucket { return &etcdBucket{tx: t} }

func (t *etcdTx) Bucket(name []byte) kvBucket { return t.root().Bucket(name) }

func (t *etcdTx) CreateBucketIfNotExists(name []byte) (kvBucket, error) {
	return t.root().CreateBucketIfNotExists(name)
}

func (t *etcdTx) ForEach(fn func(name []byte, b kvBucket) error) error {
	r := t.root()
	return r.ForEachBucket(func(name []byte) error { return fn(name, r.Bucket(name)) })
}
