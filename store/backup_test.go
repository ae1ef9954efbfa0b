package store

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestBackupFileOpensWithTheSameKey(t *testing.T) {
	db, path := testDB(t, Options{})
	seed(t, db)
	must(t, db.SetClientSecret("acme", ClientSecret{Value: "secret-for-backup"}))
	must(t, db.PutToken("acme", "u1", Token{RefreshToken: "rt-for-backup"}))

	dst := filepath.Join(t.TempDir(), "backup.db")
	must(t, os.WriteFile(dst, []byte("an older backup"), 0o644))
	must(t, db.BackupFile(dst))
	fi, err := os.Stat(dst)
	must(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %#o, want 0600", fi.Mode().Perm())
	}
	if _, err := os.Stat(dst + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temp file left behind: %v", err)
	}

	// The backup holds sealed data only: without the key file it is refused.
	_, err = Open(dst, Options{})
	wantErr(t, err, ErrWrongKey, "missing")

	b := mustOpen(t, dst, Options{KeyFile: keyPath(path)})
	users, err := b.Users("acme")
	must(t, err)
	if len(users) != 2 {
		t.Errorf("backup has %d users, want 2", len(users))
	}
	cs, err := b.ClientSecret("acme")
	must(t, err)
	tok, err := b.Token("acme", "u1")
	must(t, err)
	if cs.Value.Reveal() != "secret-for-backup" || tok.RefreshToken.Reveal() != "rt-for-backup" {
		t.Error("backup secrets did not survive")
	}

	if err := db.BackupFile(path); err == nil {
		t.Error("BackupFile over the database itself was allowed")
	}
}

func TestBackupToWriter(t *testing.T) {
	db, path := testDB(t, Options{})
	seed(t, db)
	var buf bytes.Buffer
	n, err := db.Backup(&buf)
	must(t, err)
	if n == 0 || n != int64(buf.Len()) {
		t.Errorf("Backup reported %d bytes, wrote %d", n, buf.Len())
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	must(t, os.WriteFile(dst, buf.Bytes(), 0o600))
	b := mustOpen(t, dst, Options{KeyFile: keyPath(path)})
	if _, err := b.User("acme", "u2"); err != nil {
		t.Error(err)
	}
}
