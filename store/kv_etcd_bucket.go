package store

// The etcd backend's buckets and cursors: the key encoding and the
// listing of one bucket's entries in bbolt's order (see etcdStore).

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	bolterrors "go.etcd.io/bbolt/errors"
)

// enc appends name escaped and terminated; see etcdStore.
func enc(dst, name []byte) []byte {
	for _, c := range name {
		if c == 0 {
			dst = append(dst, 0, 0xFF)
		} else {
			dst = append(dst, c)
		}
	}
	return append(dst, 0, 1)
}

// dec reverses enc on an entry's name, the last part of its key.
func dec(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != 0 {
			out = append(out, s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == 1 {
			break
		}
		out = append(out, 0)
		i++
	}
	return out
}

// etcdBucket is the bucket at path; the root (depth 0) holds the top-level
// buckets.
type etcdBucket struct {
	tx     *etcdTx
	depth  int
	path   []byte // enc of each name on the path
	parent *etcdBucket
	name   []byte
}

// children is the key prefix of this bucket's entries of one kind.
func (b *etcdBucket) children(kind byte) string {
	k := append([]byte(b.tx.s.prefix), byte(b.depth))
	k = append(k, b.path...)
	return string(append(k, kind))
}

func (b *etcdBucket) entry(kind byte, name []byte) string {
	return string(enc([]byte(b.children(kind)), name))
}

func (b *etcdBucket) child(name []byte) *etcdBucket {
	return &etcdBucket{tx: b.tx, depth: b.depth + 1, path: enc(bytes.Clone(b.path), name), parent: b, name: bytes.Clone(name)}
}

// marker is the key holding this bucket's existence and sequence.
func (b *etcdBucket) marker() string { return b.parent.entry(kindBucket, b.name) }

func (b *etcdBucket) Bucket(name []byte) kvBucket {
	if len(name) == 0 || b.tx.getIn(b.children(kindBucket), b.entry(kindBucket, name)) == nil {
		return nil
	}
	return b.child(name)
}

func (b *etcdBucket) CreateBucketIfNotExists(name []byte) (kvBucket, error) {
	if nb := b.Bucket(name); nb != nil {
		return nb, nil
	}
	switch {
	case len(name) == 0:
		return nil, bolterrors.ErrBucketNameRequired
	case b.depth >= etcdMaxDepth-1:
		return nil, fmt.Errorf("etcd: buckets nest at most %d deep", etcdMaxDepth-1)
	case b.depth > 0 && b.tx.get(b.entry(kindValue, name)) != nil:
		return nil, bolterrors.ErrIncompatibleValue
	}
	if err := b.tx.put(b.entry(kindBucket, name), make([]byte, 8)); err != nil {
		return nil, err
	}
	return b.child(name), b.tx.err
}

func (b *etcdBucket) DeleteBucket(name []byte) error {
	if !b.tx.writable {
		return bolterrors.ErrTxNotWritable
	}
	if b.Bucket(name) == nil {
		return bolterrors.ErrBucketNotFound
	}
	nb := b.child(name)
	for d := nb.depth; d < etcdMaxDepth; d++ {
		b.tx.clear(b.tx.s.prefix + string(byte(d)) + string(nb.path))
	}
	return b.tx.del(b.entry(kindBucket, name))
}

func (b *etcdBucket) Get(key []byte) []byte {
	if len(key) == 0 {
		return nil
	}
	return b.tx.getIn(b.children(kindValue), b.entry(kindValue, key))
}

func (b *etcdBucket) Put(key, value []byte) error {
	switch {
	case len(key) == 0:
		return bolterrors.ErrKeyRequired
	case b.depth == 0:
		return bolterrors.ErrIncompatibleValue
	case b.isBucket(key):
		return bolterrors.ErrIncompatibleValue
	}
	return b.tx.put(b.entry(kindValue, key), value)
}

// isBucket tells whether name is a nested bucket, from one listing of the
// nested buckets per bucket and transaction rather than a read per Put.
func (b *etcdBucket) isBucket(name []byte) bool {
	key := b.entry(kindBucket, name)
	if w, ok := b.tx.writes[key]; ok {
		return !w.deleted
	}
	if b.tx.isCleared(key) {
		return false
	}
	_, ok := b.tx.listed(b.children(kindBucket))[key]
	return ok
}

func (b *etcdBucket) Delete(key []byte) error {
	if b.isBucket(key) {
		return bolterrors.ErrIncompatibleValue
	}
	return b.tx.del(b.entry(kindValue, key))
}

func (b *etcdBucket) deleteBefore(key []byte) error {
	if !b.tx.writable {
		return bolterrors.ErrTxNotWritable
	}
	b.tx.clearRange(keyRange{b.children(kindValue), b.entry(kindValue, key)})
	return nil
}

func (b *etcdBucket) ForEach(fn func(k, v []byte) error) error {
	c := b.cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return b.tx.err
}

func (b *etcdBucket) ForEachBucket(fn func(k []byte) error) error {
	for _, e := range b.list(kindBucket) {
		if err := fn(e.k); err != nil {
			return err
		}
	}
	return b.tx.err
}

func (b *etcdBucket) Cursor() kvCursor { return b.cursor() }

func (b *etcdBucket) cursor() *etcdCursor {
	return &etcdCursor{entries: mergeEntries(b.list(kindBucket), b.list(kindValue)), i: -1, b: b}
}

func (b *etcdBucket) NextSequence() (uint64, error) {
	if !b.tx.writable {
		return 0, bolterrors.ErrTxNotWritable
	}
	seq := b.Sequence() + 1
	return seq, b.SetSequence(seq)
}

func (b *etcdBucket) SetSequence(v uint64) error {
	return b.tx.put(b.marker(), binary.BigEndian.AppendUint64(nil, v))
}

func (b *etcdBucket) Sequence() uint64 {
	if v := b.tx.get(b.marker()); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (b *etcdBucket) KeyN() int { return len(b.list(kindValue)) }

// etcdEntry is a bucket's entry; v is nil for a nested bucket.
type etcdEntry struct{ k, v []byte }

// list returns this bucket's entries of one kind in byte order, as the
// transaction sees them: the range read at its revision (once: a
// transaction's listings are cached), less what it cleared, with its writes.
func (b *etcdBucket) list(kind byte) []etcdEntry {
	pfx := b.children(kind)
	t := b.tx
	all := map[string][]byte{}
	for k, v := range t.listed(pfx) {
		if !t.isCleared(k) {
			all[k] = v
		}
	}
	for k, w := range t.writes {
		if len(k) > len(pfx) && k[:len(pfx)] == pfx {
			if w.deleted {
				delete(all, k)
			} else {
				all[k] = w.value
			}
		}
	}
	out := make([]etcdEntry, 0, len(all))
	for k, v := range all {
		e := etcdEntry{k: dec([]byte(k[len(pfx):]))}
		if kind == kindValue {
			e.v = v
			if e.v == nil {
				e.v = []byte{}
			}
		}
		out = append(out, e)
	}
	sortEntries(out)
	return out
}

// etcdCursor walks a bucket's entries as listed when it was made.
type etcdCursor struct {
	b       *etcdBucket
	entries []etcdEntry
	i       int
}

func (c *etcdCursor) at(i int) ([]byte, []byte) {
	c.i = i
	if i < 0 || i >= len(c.entries) {
		c.i = len(c.entries)
		return nil, nil
	}
	e := c.entries[i]
	return e.k, e.v
}

func (c *etcdCursor) First() ([]byte, []byte) { return c.at(0) }
func (c *etcdCursor) Last() ([]byte, []byte)  { return c.at(len(c.entries) - 1) }
func (c *etcdCursor) Next() ([]byte, []byte)  { return c.at(c.i + 1) }

func (c *etcdCursor) Seek(seek []byte) ([]byte, []byte) {
	for i, e := range c.entries {
		if bytes.Compare(e.k, seek) >= 0 {
			return c.at(i)
		}
	}
	return c.at(len(c.entries))
}

func (c *etcdCursor) Delete() error {
	if c.i < 0 || c.i >= len(c.entries) {
		return nil
	}
	e := c.entries[c.i]
	if e.v == nil {
		return bolterrors.ErrIncompatibleValue
	}
	if err := c.b.Delete(e.k); err != nil {
		return err
	}
	c.entries = append(c.entries[:c.i:c.i], c.entries[c.i+1:]...)
	c.i--
	return nil
}

func sortEntries(es []etcdEntry) {
	slices.SortFunc(es, func(a, b etcdEntry) int { return bytes.Compare(a.k, b.k) })
}

// mergeEntries merges a bucket's nested buckets and keys, each sorted, into
// bbolt's one order: the two never share a name.
func mergeEntries(a, b []etcdEntry) []etcdEntry {
	out := make([]etcdEntry, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if bytes.Compare(a[0].k, b[0].k) < 0 {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}
