package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// OpenEtcd opens the store kept in etcd under prefix, for monitors that
// share tenants: the same operations as on a bbolt file, with values sealed
// the same way under the key file the monitors share (Options.KeyFile,
// required: a key made up by each monitor would lock the others out). See
// etcdStore for how buckets and transactions map onto etcd.
//
// What only a bbolt file has is not available: Backup and BackupFile (use
// etcdctl snapshot save), Check and the doctor's page check (the records
// are still checked), and the file lock.
func OpenEtcd(endpoints []string, prefix string, opts Options) (*DB, error) {
	if opts.KeyFile == "" {
		return nil, errors.New("open etcd store: no key file given: pass the key file the monitors share")
	}
	if len(endpoints) == 0 {
		return nil, errors.New("open etcd store: no endpoints given: pass at least one etcd client URL")
	}
	opts = opts.withDefaults("")
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		// A commit is one request: let the server's --max-request-bytes,
		// not the client's 2 MiB default, bound it.
		MaxCallSendMsgSize: 64 << 20,
		Logger:             zap.NewNop(), // failures come back as errors
	})
	if err != nil {
		return nil, fmt.Errorf("open etcd store at %s: %w", strings.Join(endpoints, ","), err)
	}
	db := &DB{
		kv:      &etcdStore{client: client, prefix: prefix, queue: updateQueue{turn: make(chan struct{}, 1)}},
		path:    fmt.Sprintf("etcd %s prefix %q", strings.Join(endpoints, ","), prefix),
		keyFile: opts.KeyFile, now: opts.Now, maxEvents: opts.MaxEvents,
	}
	if err := db.mustExist(opts.MustExist, opts.KeyFile); err != nil {
		_ = client.Close()
		return nil, err
	}
	if err := db.init(); err != nil {
		_ = client.Close()
		return nil, err
	}
	return db, nil
}

// mustExist refuses, with ErrNoDatabase, a prefix that holds no store yet
// when must is set: a mistyped --etcd-prefix is an error, not a new store.
// Nor is a missing key file a new key: the store is the first monitor's,
// and so is its key.
func (db *DB) mustExist(must bool, keyFile string) error {
	if !must {
		return nil
	}
	var schema uint32
	if err := db.view(func(tx kvTx) (err error) {
		schema, err = readSchema(tx)
		return err
	}); err != nil {
		return fmt.Errorf("open %s: %w", db.path, err)
	}
	if schema == 0 {
		return errorf(ErrNoDatabase, "no store in %s", db.path)
	}
	if _, err := os.Stat(keyFile); errors.Is(err, fs.ErrNotExist) {
		return errorf(ErrWrongKey, "no key file %s for the store in %s: copy modauth.key there from the data directory of the monitor that made the store", keyFile, db.path)
	}
	return nil
}

// Fence makes every later commit to the store in etcd land only while the
// etcd key holds lease: a monitor fences its writes with its cluster
// lease, so that once the lease expired, and its tenants went to other
// monitors, nothing it still had in flight overwrites theirs (a refresh
// token, a job's state). It does nothing on a bbolt file, which has one
// writer.
func (db *DB) Fence(key string, lease int64) {
	if s, ok := db.kv.(*etcdStore); ok {
		c := clientv3.Compare(clientv3.LeaseValue(key), "=", lease)
		s.fence.Store(&c)
	}
}
