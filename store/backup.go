package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the database to w while writers keep
// working, and returns the bytes written.
//
// The copy holds secrets only in sealed form. The key file is not part of
// it: back the key file up separately and keep it apart, or the backup
// cannot be opened; together they are as sensitive as the secrets.
func (db *DB) Backup(w io.Writer) (int64, error) {
	n, err := db.writeTo(w)
	if err != nil {
		return n, fmt.Errorf("back up %s: %w", db.path, err)
	}
	return n, nil
}

func (db *DB) writeTo(w io.Writer) (n int64, err error) {
	err = db.boltView("a hot copy", func(tx *bolt.Tx) error {
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// BackupFile writes a consistent copy of the database to dst with mode
// 0600. It writes dst+".tmp", syncs it and renames it over dst, so dst is
// never a half-written file. Like Backup, the copy does not include the key
// file: open it with Options.KeyFile set to this database's key file.
func (db *DB) BackupFile(dst string) error {
	if same, _ := samePath(dst, db.path); same {
		return fmt.Errorf("back up %s: destination is the database itself", db.path)
	}
	tmp := dst + ".tmp"
	// A stale temp file may have a looser mode; O_CREATE would keep it.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("back up %s: %w", db.path, err)
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("back up %s: %w", db.path, err)
	}
	// tx.CopyFile would do this but does not fsync before the rename.
	_, werr := db.writeTo(f)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("back up %s to %s: %w", db.path, dst, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("back up %s: %w", db.path, err)
	}
	syncDir(filepath.Dir(dst))
	return nil
}

func samePath(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}
