package store

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// rawDB lets a test write a file the way another version of modauth would.
func rawDB(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	defer b.Close()
	must(t, b.Update(fn))
}

func rawSchema(t *testing.T, path string) uint32 {
	t.Helper()
	var v uint32
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	must(t, err)
	defer b.Close()
	must(t, b.View(func(tx *bolt.Tx) error { var err error; v, err = readSchema(boltTx{tx}); return err }))
	return v
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "modauth.db")
	rawDB(t, path, func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bktMeta)
		if err != nil {
			return err
		}
		return meta.Put(keySchema, binary.BigEndian.AppendUint32(nil, 99))
	})
	_, err := Open(path, Options{})
	wantErr(t, err, ErrNewerSchema, path,
		"database schema v99 is newer than this modauth understands (v1); upgrade modauth")
	if _, err := os.Stat(filepath.Join(dir, "modauth.key")); !os.IsNotExist(err) {
		t.Errorf("a refused database got a key file: %v", err)
	}
	if v := rawSchema(t, path); v != 99 {
		t.Errorf("refused database now has schema v%d", v)
	}
}

func TestDamagedSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "modauth.db")
	rawDB(t, path, func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bktMeta)
		if err != nil {
			return err
		}
		return meta.Put(keySchema, []byte{1, 2, 3})
	})
	if _, err := Open(path, Options{}); err == nil {
		t.Fatal("Open accepted a 3-byte schema version")
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	db, path := testDB(t, Options{})
	seed(t, db)
	must(t, db.Close())
	if v := rawSchema(t, path); v != currentSchema {
		t.Fatalf("schema after Open = v%d, want v%d", v, currentSchema)
	}
	for range 2 {
		db = mustOpen(t, path, Options{})
		if users, err := db.Users("acme"); err != nil || len(users) != 2 {
			t.Fatalf("after reopen: %d users, %v", len(users), err)
		}
		must(t, db.Close())
	}

	// Every migration runs twice without harm, as it would after a crash
	// between running it and recording the new version.
	rawDB(t, path, func(tx *bolt.Tx) error {
		for v, m := range migrations {
			if err := m(boltTx{tx}); err != nil {
				t.Errorf("migration from v%d rerun: %v", v, err)
			}
		}
		return tx.Bucket(bktMeta).Delete(keySchema) // back to "v0"
	})
	db = mustOpen(t, path, Options{})
	if users, err := db.Users("acme"); err != nil || len(users) != 2 {
		t.Errorf("migrating a v0 file that has data: %d users, %v", len(users), err)
	}
	must(t, db.Close())
	if v := rawSchema(t, path); v != currentSchema {
		t.Errorf("schema after migrating = v%d, want v%d", v, currentSchema)
	}
}
