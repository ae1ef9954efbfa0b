package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Options tune Open. The zero value is ready to use.
type Options struct {
	// KeyFile is the sealing key's file. Default: modauth.key next to the
	// database.
	KeyFile string
	// Timeout is how long Open waits for another process to let go of the
	// file. Default 500ms: bbolt's own default is to wait forever, and a tool
	// that hangs on start looks broken.
	Timeout time.Duration
	// Now is the clock for Created, Updated and event times. Default time.Now.
	Now func() time.Time
	// MaxEvents bounds the event log; older events are dropped on Append.
	// Default 100000; negative keeps every event.
	MaxEvents int
	// MustExist refuses, with ErrNoDatabase, to create the database or its
	// directory: for commands that only read or watch, where a mistyped
	// path must not quietly give a new, empty store.
	MustExist bool
}

const (
	defaultTimeout   = 500 * time.Millisecond
	defaultMaxEvents = 100_000
	defaultKeyName   = "modauth.key"
)

func (o Options) withDefaults(dbPath string) Options {
	if o.KeyFile == "" {
		o.KeyFile = filepath.Join(filepath.Dir(dbPath), defaultKeyName)
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxEvents == 0 {
		o.MaxEvents = defaultMaxEvents
	}
	return o
}

// DB is an open modauth database.
type DB struct {
	kv        kvStore
	bolt      *bolt.DB // nil on etcd: for what only a bbolt file has
	path      string
	keyFile   string
	seal      *sealer
	now       func() time.Time
	maxEvents int
	writes    atomic.Int64          // committed write transactions, for benchmarks
	reads     atomic.Int64          // read transactions, for tests of screens
	broken    atomic.Pointer[error] // set once bbolt panicked: see guarded
	// lender is the DB a borrowed handle came from (see Borrow); nil for
	// the one that opened the file.
	lender *DB
}

// Open opens or creates the database at path and its key file.
//
// It refuses a database or key file that group or others can read, fails
// within Options.Timeout with ErrLocked when another process has the file
// open, migrates the schema, and proves the key file is the one the database
// was sealed with before returning.
//
// An existing file is checked page by page before bbolt maps it (see
// verifyFile): a damaged or truncated one, or an empty one, which bbolt
// would silently make a new database of, fails with ErrDamaged.
func Open(path string, opts Options) (*DB, error) {
	opts = opts.withDefaults(path)
	fi, err := os.Stat(path)
	exists := err == nil
	switch {
	case exists:
		if err := checkPrivate(path, fi.Mode(), ErrDBPermissions, "database file"); err != nil {
			return nil, err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("open %s: %w", path, err)
	case opts.MustExist:
		return nil, errorf(ErrNoDatabase, "no database at %s", path)
	default:
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}

	var bdb *bolt.DB
	err = guard(path, func() (err error) {
		bdb, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, OpenFile: verifiedOpener(exists, opts.Timeout)})
		return err
	})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, errorf(ErrLocked,
			"open %s: database is in use by another modauth process: stop the other process or use --data-dir", path)
	case errors.Is(err, ErrDamaged):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", path, err)
	}

	db := &DB{kv: boltStore{bdb}, bolt: bdb, path: path, keyFile: opts.KeyFile, now: opts.Now, maxEvents: opts.MaxEvents}
	if err := db.init(); err != nil {
		_ = bdb.Close()
		return nil, err
	}
	return db, nil
}

// init loads the key and brings the schema up to date. The order matters: a
// newer schema is refused before anything is written, and a database that
// was already sealed never gets a fresh key, which would orphan its secrets.
func (db *DB) init() error {
	var schema uint32
	var sealed bool
	err := db.view(func(tx kvTx) error {
		var err error
		schema, err = readSchema(tx)
		if meta := tx.Bucket(bktMeta); meta != nil {
			sealed = meta.Get(keyKeyCheck) != nil
		}
		return err
	})
	if errors.Is(err, ErrDamaged) {
		return err
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", db.path, err)
	}
	if err := checkSchema(db.path, schema); err != nil {
		return err
	}

	key, err := loadKey(db.keyFile)
	if errors.Is(err, fs.ErrNotExist) {
		if sealed {
			return errorf(ErrWrongKey,
				"key file %s is missing but database %s was sealed with a key: restore the key file that was created with this database",
				db.keyFile, db.path)
		}
		key, err = createKey(db.keyFile)
	}
	if err != nil {
		return err
	}
	db.seal, err = newSealer(key)
	clear(key)
	if err != nil {
		return err
	}

	if schema == currentSchema && sealed {
		// Nothing to write: a read-only command, or the doctor, leaves the
		// file as it found it.
		return db.view(db.checkKey)
	}
	return db.update(func(tx kvTx) error {
		if err := migrate(tx, db.path); err != nil {
			return err
		}
		return db.checkKey(tx)
	})
}

// Close releases the file and its lock. A borrowed handle's Close does
// nothing: the lender closes the file.
func (db *DB) Close() error {
	if db.lender != nil {
		return nil
	}
	return db.kv.Close()
}

// Borrow returns a handle on the same open database for code that closes
// what it is given, as every command does: the service lends its open
// database to the commands it runs for clients, since a second Open would
// fail on the lock. Its counters (WriteTransactions...) are its own.
func (db *DB) Borrow() *DB {
	lender := db
	if db.lender != nil {
		lender = db.lender
	}
	return &DB{kv: db.kv, bolt: db.bolt, path: db.path, keyFile: db.keyFile, seal: db.seal, now: db.now, maxEvents: db.maxEvents, lender: lender}
}

// Path is the database file's path as given to Open.
func (db *DB) Path() string { return db.path }

// InEtcd reports whether the store is in etcd rather than a file.
func (db *DB) InEtcd() bool { return db.bolt == nil }

// Dir is the directory the files kept with the store go in (the log, the
// exports): the database file's, or for a store in etcd the key file's,
// which is the data directory.
func (db *DB) Dir() string {
	if db.InEtcd() {
		return filepath.Dir(db.keyFile)
	}
	return filepath.Dir(db.path)
}

// WriteTransactions reports how many write transactions this DB committed
// since it was opened: the cost a sweep is measured by.
func (db *DB) WriteTransactions() int64 { return db.writes.Load() }

// ReadTransactions reports how many read transactions this DB ran since
// it was opened: what a live screen's update costs.
func (db *DB) ReadTransactions() int64 { return db.reads.Load() }

// Unseals reports how many sealed values (refresh tokens, client secrets,
// the key check) this DB opened since it was opened: a screen that shows
// only metadata opens none.
func (db *DB) Unseals() int64 { return db.seal.opens.Load() }

// Check verifies the database file's page structure (what `bbolt check`
// does): after a crash, it tells a damaged file from a sound one.
func (db *DB) Check() error {
	if db.bolt == nil {
		return fmt.Errorf("check %s: the page check is not available on etcd: run etcdctl check perf and etcdctl endpoint health", db.path)
	}
	problems, err := db.pageProblems()
	if err == nil && len(problems) > 0 {
		err = damagedf(db.path, "%s", problems[0])
	}
	return err
}
