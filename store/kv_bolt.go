package store

import bolt "go.etcd.io/bbolt"

// boltStore is the default kvStore: a thin wrapper over bbolt, which the
// interfaces mirror, so it adds a call and nothing else.
type boltStore struct{ db *bolt.DB }

func (s boltStore) View(fn func(kvTx) error) error {
	return s.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (s boltStore) Update(fn func(kvTx) error) error {
	return s.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (s boltStore) Close() error { return s.db.Close() }

type boltTx struct{ tx *bolt.Tx }

func (t boltTx) Bucket(name []byte) kvBucket { return wrapBucket(t.tx.Bucket(name)) }

func (t boltTx) CreateBucketIfNotExists(name []byte) (kvBucket, error) {
	b, err := t.tx.CreateBucketIfNotExists(name)
	return wrapBucket(b), err
}

func (t boltTx) ForEach(fn func(name []byte, b kvBucket) error) error {
	return t.tx.ForEach(func(name []byte, b *bolt.Bucket) error { return fn(name, boltBucket{b}) })
}

// wrapBucket keeps bbolt's nil a nil interface, so callers' nil checks hold.
func wrapBucket(b *bolt.Bucket) kvBucket {
	if b == nil {
		return nil
	}
	return boltBucket{b}
}

type boltBucket struct{ b *bolt.Bucket }

func (b boltBucket) Bucket(name []byte) kvBucket { return wrapBucket(b.b.Bucket(name)) }

func (b boltBucket) CreateBucketIfNotExists(name []byte) (kvBucket, error) {
	nb, err := b.b.CreateBucketIfNotExists(name)
	return wrapBucket(nb), err
}

func (b boltBucket) DeleteBucket(name []byte) error              { return b.b.DeleteBucket(name) }
func (b boltBucket) Get(key []byte) []byte                       { return b.b.Get(key) }
func (b boltBucket) Put(key, value []byte) error                 { return b.b.Put(key, value) }
func (b boltBucket) Delete(key []byte) error                     { return b.b.Delete(key) }
func (b boltBucket) ForEach(fn func(k, v []byte) error) error    { return b.b.ForEach(fn) }
func (b boltBucket) ForEachBucket(fn func(k []byte) error) error { return b.b.ForEachBucket(fn) }
func (b boltBucket) Cursor() kvCursor                            { return b.b.Cursor() }
func (b boltBucket) NextSequence() (uint64, error)               { return b.b.NextSequence() }
func (b boltBucket) Sequence() uint64                            { return b.b.Sequence() }
func (b boltBucket) SetSequence(v uint64) error                  { return b.b.SetSequence(v) }
func (b boltBucket) KeyN() int                                   { return b.b.Stats().KeyN }
