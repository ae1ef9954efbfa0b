package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	bolterrors "go.etcd.io/bbolt/errors"
)

// backupStamp is when a backup was made, in its file name: UTC, so that
// names sort by time.
const backupStamp = "20060102T150405Z"

// BackupDir is where AutoBackup keeps the backups of the database at
// path: backups/ beside it, with the key file one level up, so the
// backups open with the same key.
func BackupDir(path string) string { return filepath.Join(filepath.Dir(path), "backups") }

// BackupInfo is one automatic backup.
type BackupInfo struct {
	Path string
	At   time.Time
}

// backupPrefix is the start of the name of every backup of path.
func backupPrefix(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)) + "-"
}

// Backups lists the automatic backups of the database at path, newest
// first.
func Backups(path string) ([]BackupInfo, error) {
	dir := BackupDir(path)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	var out []BackupInfo
	for _, e := range entries {
		stamp, ok := strings.CutPrefix(e.Name(), backupPrefix(path))
		stamp, isDB := strings.CutSuffix(stamp, ".db")
		at, err := time.Parse(backupStamp, stamp)
		if ok && isDB && err == nil && e.Type().IsRegular() {
			out = append(out, BackupInfo{Path: filepath.Join(dir, e.Name()), At: at})
		}
	}
	slices.SortFunc(out, func(a, b BackupInfo) int { return b.At.Compare(a.At) })
	return out, nil
}

// AutoBackup backs the database up into BackupDir when the newest backup
// there is every or more older than now, then deletes all but the newest
// keep (at least one). It returns the new backup's path, or "" when none
// was due. now is the caller's clock. A store in etcd is never backed up
// here: it has no file, its path names no directory, and etcd keeps its
// own snapshots (etcdctl snapshot save).
func (db *DB) AutoBackup(now time.Time, every time.Duration, keep int) (string, error) {
	if db.bolt == nil {
		return "", nil
	}
	backups, err := Backups(db.path)
	if err != nil {
		return "", err
	}
	if len(backups) > 0 && now.Sub(backups[0].At) < every {
		return "", nil
	}
	dir := BackupDir(db.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("back up %s: %w", db.path, err)
	}
	dst := filepath.Join(dir, backupPrefix(db.path)+now.UTC().Format(backupStamp)+".db")
	if err := db.BackupFile(dst); err != nil {
		return "", err
	}
	if backups, err = Backups(db.path); err != nil {
		return dst, err
	}
	for _, old := range backups[min(max(keep, 1), len(backups)):] {
		if err := os.Remove(old.Path); err != nil {
			return dst, fmt.Errorf("remove old backup: %w", err)
		}
	}
	return dst, nil
}

// Restored is what Restore did.
type Restored struct {
	From    string   // the backup now in place
	Kept    string   // where the replaced file is kept; "" if there was none
	Skipped []string // newer backups that were damaged too, with why
}

// Restore replaces the database at path with the newest automatic backup
// that Diagnose finds healthy, and keeps the file it replaces as
// <name>.damaged-<now>. It holds the database's lock throughout, so it
// fails with ErrLocked while another process has the file open.
func Restore(path string, now time.Time, opts Options) (Restored, error) {
	var r Restored
	opts = opts.withDefaults(path)
	unlock, err := lockPath(path, opts.Timeout)
	if err != nil {
		return r, err
	}
	defer unlock()
	backups, err := Backups(path)
	if err != nil {
		return r, err
	}
	tmp := path + ".restore"
	for _, b := range backups {
		problem, err := checkCopy(b.Path, tmp, opts)
		if err != nil {
			return r, err
		}
		if problem != "" {
			r.Skipped = append(r.Skipped, fmt.Sprintf("%s: %s", b.Path, problem))
			continue
		}
		if _, err := os.Stat(path); err == nil {
			r.Kept = path + ".damaged-" + now.UTC().Format(backupStamp)
			if err := os.Rename(path, r.Kept); err != nil {
				return r, fmt.Errorf("restore %s: %w", path, err)
			}
		}
		if err := os.Rename(tmp, path); err != nil {
			return r, fmt.Errorf("restore %s: %w", path, err)
		}
		syncDir(filepath.Dir(path))
		r.From = b.Path
		return r, nil
	}
	return r, fmt.Errorf("restore %s: no healthy backup in %s: restore one made by other means, or move the database aside to start afresh", path, BackupDir(path))
}

// checkCopy copies a backup to tmp and diagnoses the copy, beside the
// database so that the same key file applies. It returns why the backup is unfit, or "" and
// leaves tmp in place.
func checkCopy(backup, tmp string, opts Options) (string, error) {
	if err := copyFile(backup, tmp); err != nil {
		return "", fmt.Errorf("restore from %s: %w", backup, err)
	}
	d, err := Diagnose(tmp, opts)
	switch {
	case err != nil:
		_ = os.Remove(tmp)
		return firstLine(err.Error()), nil
	case !d.Healthy():
		_ = os.Remove(tmp)
		return d.FirstProblem(), nil
	}
	return "", nil
}

// copyFile copies src to a new file dst, mode 0600, synced.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.Remove(dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, cerr := io.Copy(out, in)
	if err := errors.Join(cerr, out.Sync(), out.Close()); err != nil {
		_ = os.Remove(dst)
		return err
	}
	return nil
}

// lockPath takes the database's lock, as bbolt does, for work on the file
// while it is not open; nothing to lock when there is no file.
func lockPath(path string, timeout time.Duration) (unlock func(), err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := lockFile(f, timeout); err != nil {
		_ = f.Close()
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, errorf(ErrLocked, "restore %s: database is in use by another modauth process: stop it first", path)
		}
		return nil, err
	}
	return func() { _ = f.Close() }, nil
}
