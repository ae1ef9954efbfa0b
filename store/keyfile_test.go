package store

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

func keyPath(dbPath string) string { return filepath.Join(filepath.Dir(dbPath), "modauth.key") }

func TestKeyFileCreatedPrivate(t *testing.T) {
	_, path := testDB(t, Options{})
	kp := keyPath(path)
	fi, err := os.Stat(kp)
	must(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %#o, want 0600", fi.Mode().Perm())
	}
	data, err := os.ReadFile(kp)
	must(t, err)
	if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).Match(data) {
		t.Errorf("key file content is not 64 hex characters and a newline: %d bytes", len(data))
	}
	assertNoTempFiles(t, filepath.Dir(kp))
}

func TestKeyFileOption(t *testing.T) {
	dir := t.TempDir()
	kp := filepath.Join(dir, "secrets", "k")
	path := filepath.Join(dir, "db", "modauth.db")
	db := mustOpen(t, path, Options{KeyFile: kp})
	must(t, db.Close())
	if _, err := os.Stat(kp); err != nil {
		t.Fatalf("key file not at Options.KeyFile: %v", err)
	}
	if _, err := os.Stat(keyPath(path)); !os.IsNotExist(err) {
		t.Errorf("a key file was also written next to the database: %v", err)
	}
	mustOpen(t, path, Options{KeyFile: kp})
}

func TestKeyFileOpenToOthersRefused(t *testing.T) {
	db, path := testDB(t, Options{})
	must(t, db.Close())
	kp := keyPath(path)
	must(t, os.Chmod(kp, 0o644))
	_, err := Open(path, Options{})
	wantErr(t, err, ErrKeyPermissions, kp, "0644", "chmod 600 "+kp)
}

func TestKeyFileDamaged(t *testing.T) {
	db, path := testDB(t, Options{})
	must(t, db.Close())
	kp := keyPath(path)
	for _, content := range []string{"not hex at all\n", strings.Repeat("a", 63) + "\n", strings.Repeat("g", 64), ""} {
		must(t, os.WriteFile(kp, []byte(content), 0o600))
		_, err := Open(path, Options{})
		wantErr(t, err, ErrKeyDamaged, kp)
		got, _ := os.ReadFile(kp)
		if string(got) != content {
			t.Errorf("Open rewrote a damaged key file")
		}
	}
}

func TestKeyFileWrongKey(t *testing.T) {
	db, path := testDB(t, Options{})
	must(t, db.Close())
	kp := keyPath(path)
	must(t, os.WriteFile(kp, []byte(strings.Repeat("ab", 32)+"\n"), 0o600))
	_, err := Open(path, Options{})
	wantErr(t, err, ErrWrongKey, "key file "+kp+" does not match database "+path,
		"restore the key file that was created with this database")
}

func TestKeyFileMissingForSealedDatabase(t *testing.T) {
	db, path := testDB(t, Options{})
	must(t, db.Close())
	kp := keyPath(path)
	must(t, os.Remove(kp))
	_, err := Open(path, Options{})
	wantErr(t, err, ErrWrongKey, kp, path, "missing")
	if _, err := os.Stat(kp); !os.IsNotExist(err) {
		t.Errorf("Open wrote a new key file for a sealed database: %v", err)
	}
	assertNoTempFiles(t, filepath.Dir(kp))
}

// TestCreateKeyNeverClobbers races creators on one path: all must end up
// with the same key, the one in the file.
func TestCreateKeyNeverClobbers(t *testing.T) {
	kp := filepath.Join(t.TempDir(), "modauth.key")
	const n = 8
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = createKey(kp) })
	}
	wg.Wait()
	onDisk, err := loadKey(kp)
	must(t, err)
	for i := range n {
		must(t, errs[i])
		if !bytes.Equal(keys[i], onDisk) {
			t.Errorf("creator %d got a key that is not the one in the file", i)
		}
	}
	assertNoTempFiles(t, filepath.Dir(kp))
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".modauth-key-") {
			t.Errorf("temp file %s left behind", e.Name())
		}
	}
}
