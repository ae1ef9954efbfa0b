package store

import (
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Prefetching. A sweep commits a chunk of users' results in one
// transaction, and each user's records sit in buckets of their own (a
// token, a job, the sync-ids of each folder): read one key at a time, that
// is a dozen round trips per user under the write lock. So Apply names the
// users it is about to write, and the transaction reads their keys and
// whole item subtrees in a few requests; the reads after are answered from
// what came back.

// prefetcher is a transaction that can read a batch's keys ahead: etcd's.
// bbolt's reads are memory reads and need none.
type prefetcher interface {
	prefetchUsers(profileID string, userKeys []string)
}

// prefetchOps bounds the reads in one request: etcd's default
// --max-txn-ops is 128, and reads count.
const prefetchOps = 100

// prefetchUsers reads, for profileID's users userKeys, their records in
// each of the profile's buckets and everything under their items bucket.
func (t *etcdTx) prefetchUsers(profileID string, userKeys []string) {
	if t.rev == 0 || t.err != nil {
		return // a View reads at a revision only its first read fixes
	}
	root := t.root()
	profiles := root.child(bktProfiles)
	pb := profiles.child([]byte(profileID))
	keys := []string{root.entry(kindBucket, bktProfiles), profiles.entry(kindBucket, []byte(profileID))}
	for _, name := range append([][]byte{keyProfile}, profileSubBuckets...) {
		keys = append(keys, pb.entry(kindBucket, name), pb.entry(kindValue, name))
	}
	var prefixes []string
	items := pb.child(bktItems)
	for _, k := range userKeys {
		for _, name := range profileSubBuckets {
			b := pb.child(name)
			keys = append(keys, b.entry(kindValue, []byte(k)), b.entry(kindBucket, []byte(k)))
		}
		ub := items.child([]byte(k))
		for d := ub.depth; d < etcdMaxDepth; d++ {
			prefixes = append(prefixes, t.s.prefix+string(byte(d))+string(ub.path))
		}
	}
	t.prefetch(keys, prefixes)
}

// prefetch reads keys, and every key under prefixes, at the transaction's
// revision, prefetchOps reads a request.
func (t *etcdTx) prefetch(keys, prefixes []string) {
	var ops []clientv3.Op
	var wide []bool
	for _, k := range keys {
		if _, ok := t.cache[k]; !ok && !t.isCleared(k) {
			ops, wide = append(ops, clientv3.OpGet(k, t.readOpts()...)), append(wide, false)
		}
	}
	for _, p := range prefixes {
		if _, ok := t.lists[p]; !ok {
			ops, wide = append(ops, clientv3.OpGet(p, t.readOpts(clientv3.WithPrefix())...)), append(wide, true)
		}
	}
	if t.cache == nil {
		t.cache = map[string][]byte{}
	}
	if t.lists == nil {
		t.lists = map[string]map[string][]byte{}
	}
	for len(ops) > 0 {
		n := min(len(ops), prefetchOps)
		ctx, cancel := t.s.ctx()
		resp, err := t.s.client.Txn(ctx).Then(ops[:n]...).Commit()
		cancel()
		t.s.reads.Add(1)
		if err != nil {
			t.fail(fmt.Errorf("etcd: read ahead: %w", err))
			return
		}
		for i, r := range resp.Responses {
			rr := r.GetResponseRange()
			if wide[i] {
				l := make(map[string][]byte, len(rr.Kvs))
				for _, kv := range rr.Kvs {
					l[string(kv.Key)] = kv.Value
				}
				p := string(ops[i].KeyBytes())
				t.lists[p] = l
				t.wide = append(t.wide, p)
				continue
			}
			var v []byte
			if len(rr.Kvs) > 0 {
				v = rr.Kvs[0].Value
				if v == nil {
					v = []byte{}
				}
			}
			t.cache[string(ops[i].KeyBytes())] = v
		}
		ops, wide = ops[n:], wide[n:]
	}
}

// keysUnder lists the keys with prefix pfx at the transaction's revision:
// from a listing read ahead when one holds them, else read (keys only).
func (t *etcdTx) keysUnder(pfx string) []string {
	var out []string
	if l, ok := t.covering(pfx); ok {
		for k := range l {
			if strings.HasPrefix(k, pfx) {
				out = append(out, k)
			}
		}
		return out
	}
	resp := t.serverGet(pfx, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if resp == nil {
		return nil
	}
	for _, kv := range resp.Kvs {
		out = append(out, string(kv.Key))
	}
	return out
}

// covering returns the listing read ahead that holds every key with
// prefix pfx, if there is one.
func (t *etcdTx) covering(pfx string) (map[string][]byte, bool) {
	for _, w := range t.wide {
		if strings.HasPrefix(pfx, w) {
			return t.lists[w], true
		}
	}
	return nil, false
}
