package store

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Migrated counts what Migrate copied.
type Migrated struct {
	Profiles int // profiles, each with its users, tokens, jobs and items
	Users    int // users, over all profiles
	Events   int // events in the log
	Keys     int // every key copied, records and sealed values alike
}

// Per commit to etcd, Migrate writes at most this many keys and about this
// many bytes: an etcd Txn is bounded by the server's --max-txn-ops and
// --max-request-bytes (default 1.5 MiB), and one Txn for a whole store
// would pass either. A bbolt destination takes the copy in one
// transaction, all or nothing.
const (
	migrateChunkOps   = 2000
	migrateChunkBytes = 1 << 20
)

// Migrate copies everything src holds into dst, a store just opened on
// another backend or place (the `store migrate` command: a bbolt data
// directory into etcd, or back). It copies at the level of buckets and
// keys: every bucket, every key and value byte for byte, and the bucket
// sequences the event log numbers with. Sealed values stay sealed; none is
// opened.
//
// Both stores must have been opened with the same key file, or what src
// sealed would not open in dst: Migrate proves it with src's key check and
// otherwise fails with ErrWrongKey. It refuses, with ErrNotEmpty, a dst
// that already holds a profile or an event.
//
// src is read in one read transaction, so the copy is of one consistent
// state. A bbolt dst is written in one transaction; an etcd dst in several
// commits small enough for one etcd Txn each, so a failure part way leaves
// part of the copy there, and the error says so.
func Migrate(dst, src *DB) (Migrated, error) {
	if dst.kv == src.kv || dst.path == src.path {
		return Migrated{}, fmt.Errorf("migrate %s: the source and the destination are the same store: name another destination", src.path)
	}
	c := &copier{dst: dst, src: src}
	if dst.bolt == nil {
		c.maxOps, c.maxBytes = migrateChunkOps, migrateChunkBytes
	}
	err := src.view(func(tx kvTx) error {
		if err := c.checkKey(tx); err != nil {
			return err
		}
		err := tx.ForEach(func(name []byte, b kvBucket) error {
			return c.bucket([][]byte{bytes.Clone(name)}, b)
		})
		if err != nil {
			return err
		}
		return c.flush()
	})
	switch {
	case err == nil:
		return c.done, nil
	case c.flushed:
		return Migrated{}, fmt.Errorf("migrate %s to %s: %w: %d keys were already copied: %s and migrate again",
			src.path, dst.path, err, c.done.Keys, emptyHint(dst))
	default:
		return Migrated{}, fmt.Errorf("migrate %s to %s: %w", src.path, dst.path, err)
	}
}

// copier buffers src's buckets and keys in the order it reads them, and
// writes them to dst a chunk at a time.
type copier struct {
	dst, src *DB
	// maxOps and maxBytes bound a chunk; 0 leaves it unbounded.
	maxOps, maxBytes int

	ops     []copyOp
	bytes   int
	pending Migrated // counts of the buffered ops
	done    Migrated // counts of the committed ones
	flushed bool     // a chunk was committed: dst is no longer empty
}

// copyOp creates the bucket at path with its sequence when key is nil, and
// otherwise puts key and value in it.
type copyOp struct {
	path       [][]byte
	key, value []byte
	seq        uint64
}

// checkKey opens src's key check with dst's key: it opens only if both
// stores seal under the same key.
func (c *copier) checkKey(tx kvTx) error {
	meta, err := root(tx, bktMeta)
	if err != nil {
		return err
	}
	plain, err := c.dst.seal.open(meta.Get(keyKeyCheck), "meta", "keycheck")
	if err != nil || string(plain) != keyCheckPlain {
		return errorf(ErrWrongKey,
			"the destination's key file %s is not the key file the source was sealed with (%s): open the destination with the source's key file",
			c.dst.keyFile, c.src.keyFile)
	}
	return nil
}

// bucket queues the bucket at path, then its keys and nested buckets.
func (c *copier) bucket(path [][]byte, b kvBucket) error {
	if err := c.add(copyOp{path: path, seq: b.Sequence()}); err != nil {
		return err
	}
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			if nb := b.Bucket(k); nb != nil {
				return c.bucket(append(path[:len(path):len(path)], bytes.Clone(k)), nb)
			}
		}
		return c.add(copyOp{path: path, key: k, value: v})
	})
}

// add queues op, counts it, and writes the queue out when it is full.
func (c *copier) add(op copyOp) error {
	c.ops = append(c.ops, op)
	c.bytes += len(op.key) + len(op.value) + 32 // 32: the prefix, encoding and framing, about
	for _, name := range op.path {
		c.bytes += len(name) + 2
	}
	c.count(op)
	if (c.maxOps > 0 && len(c.ops) >= c.maxOps) || (c.maxBytes > 0 && c.bytes >= c.maxBytes) {
		return c.flush()
	}
	return nil
}

func (c *copier) count(op copyOp) {
	n := &c.pending
	top := string(op.path[0])
	switch {
	case op.key == nil:
		if len(op.path) == 2 && top == string(bktProfiles) {
			n.Profiles++
		}
		return
	case len(op.path) == 3 && top == string(bktProfiles) && bytes.Equal(op.path[2], bktUsers):
		n.Users++
	case len(op.path) == 1 && top == string(bktEvents):
		n.Events++
	}
	n.Keys++
}

// flush writes the queued ops in one transaction. The first also checks,
// in that transaction, that dst holds nothing yet.
func (c *copier) flush() error {
	if len(c.ops) == 0 {
		return nil
	}
	err := c.dst.update(func(tx kvTx) error {
		if !c.flushed {
			if err := c.checkEmpty(tx); err != nil {
				return err
			}
		}
		var at [][]byte
		var b kvBucket
		for _, op := range c.ops {
			if b == nil || !slices.EqualFunc(at, op.path, bytes.Equal) {
				var err error
				if b, err = bucketAt(tx, op.path); err != nil {
					return err
				}
				at = op.path
			}
			if err := apply(b, op); err != nil {
				return fmt.Errorf("write %s: %w", pathName(op.path, op.key), err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.done.Profiles += c.pending.Profiles
	c.done.Users += c.pending.Users
	c.done.Events += c.pending.Events
	c.done.Keys += c.pending.Keys
	c.flushed = true
	c.ops, c.bytes, c.pending = c.ops[:0], 0, Migrated{}
	return nil
}

func apply(b kvBucket, op copyOp) error {
	switch {
	case op.key != nil:
		return b.Put(op.key, op.value)
	case op.seq != 0:
		return b.SetSequence(op.seq)
	}
	return nil
}

// bucketAt returns the bucket at path, creating what is missing.
func bucketAt(tx kvTx, path [][]byte) (kvBucket, error) {
	b, err := tx.CreateBucketIfNotExists(path[0])
	for i := 1; err == nil && i < len(path); i++ {
		b, err = b.CreateBucketIfNotExists(path[i])
	}
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", pathName(path, nil), err)
	}
	return b, nil
}

// pathName writes a bucket path and key as Dump does.
func pathName(path [][]byte, key []byte) string {
	parts := make([]string, 0, len(path)+1)
	for _, name := range path {
		parts = append(parts, dumpKey(name))
	}
	if key != nil {
		parts = append(parts, dumpKey(key))
	}
	return strings.Join(parts, "/")
}

// checkEmpty refuses a store that holds anything but what Open writes
// into a new one: the top-level buckets, the schema and the key check.
func (c *copier) checkEmpty(tx kvTx) error {
	what := ""
	err := tx.ForEach(func(name []byte, b kvBucket) error {
		if what != "" {
			return nil
		}
		switch {
		case bytes.Equal(name, bktProfiles):
			if k, _ := b.Cursor().First(); k != nil {
				what = fmt.Sprintf("profile %q", k)
			}
		case bytes.Equal(name, bktEvents):
			if k, _ := b.Cursor().First(); k != nil || b.Sequence() != 0 {
				what = "events"
			}
		case bytes.Equal(name, bktMeta):
			return b.ForEach(func(k, v []byte) error {
				if what == "" && (v == nil || !bytes.Equal(k, keySchema) && !bytes.Equal(k, keyKeyCheck)) {
					what = "meta/" + dumpKey(k)
				}
				return nil
			})
		default:
			what = "bucket " + dumpKey(name)
		}
		return nil
	})
	if err != nil || what == "" {
		return err
	}
	return errorf(ErrNotEmpty,
		"the destination already holds %s: migrate into a new data directory or an unused etcd prefix, or %s", what, emptyHint(c.dst))
}

// emptyHint says how to empty dst.
func emptyHint(dst *DB) string {
	if s, ok := dst.kv.(*etcdStore); ok {
		return fmt.Sprintf("delete what it holds (etcdctl del --prefix %q)", s.prefix)
	}
	return "delete its database file " + dst.path
}
