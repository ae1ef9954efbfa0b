package store

// The store reaches its storage engine only through these interfaces, so
// one set of operations (profiles, users, tokens, jobs, items, events) runs
// on bbolt (kv_bolt.go, the default) or on etcd (kv_etcd.go). They mirror
// exactly the bbolt methods the store uses, with bbolt's meaning: nested
// buckets, keys in byte order, a nil value in ForEach for a nested bucket,
// and a returned slice valid only until the transaction ends.

// kvStore runs transactions: View sees one consistent state; Update is
// serializable and commits all of fn's writes or none.
type kvStore interface {
	View(fn func(tx kvTx) error) error
	Update(fn func(tx kvTx) error) error
	Close() error
}

// kvTx is a transaction's view of the top-level buckets.
type kvTx interface {
	// Bucket returns nil when there is no such bucket.
	Bucket(name []byte) kvBucket
	CreateBucketIfNotExists(name []byte) (kvBucket, error)
	ForEach(fn func(name []byte, b kvBucket) error) error
}

// kvBucket is a bucket: keys and nested buckets sharing one name space.
type kvBucket interface {
	// Bucket returns nil when there is no such nested bucket.
	Bucket(name []byte) kvBucket
	CreateBucketIfNotExists(name []byte) (kvBucket, error)
	DeleteBucket(name []byte) error
	// Get returns nil for a missing key and for a nested bucket.
	Get(key []byte) []byte
	Put(key, value []byte) error
	Delete(key []byte) error
	// ForEach calls fn for every key in byte order, with a nil value for
	// a nested bucket.
	ForEach(fn func(k, v []byte) error) error
	ForEachBucket(fn func(k []byte) error) error
	Cursor() kvCursor
	NextSequence() (uint64, error)
	Sequence() uint64
	// SetSequence sets the bucket's sequence, for a copy of a store that
	// must go on numbering where the original left off.
	SetSequence(v uint64) error
	// KeyN counts the bucket's keys (bbolt's Stats().KeyN); the buckets
	// it is asked of hold no nested buckets.
	KeyN() int
}

// kvCursor walks a bucket in byte order; k is nil past either end.
type kvCursor interface {
	First() (k, v []byte)
	Last() (k, v []byte)
	Next() (k, v []byte)
	Seek(seek []byte) (k, v []byte)
	// Delete removes the key the cursor is on.
	Delete() error
}

// rangeDeleter is a bucket that deletes a range of keys without reading
// them (etcd's): every key before key, in byte order.
type rangeDeleter interface {
	deleteBefore(key []byte) error
}
