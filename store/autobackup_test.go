package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testclock"
)

func TestAutoBackupEveryAndKeep(t *testing.T) {
	t0 := testclock.Start(t)
	db, path := testDB(t, Options{})
	seed(t, db)
	var made []string
	for h := 0; h <= 10*24; h += 6 { // every six hours for ten days
		dst, err := db.AutoBackup(t0.Add(time.Duration(h)*time.Hour), 24*time.Hour, 7)
		must(t, err)
		if dst != "" {
			made = append(made, filepath.Base(dst))
		}
	}
	name := func(at time.Time) string { return "modauth-" + at.UTC().Format("20060102T150405Z") + ".db" }
	if len(made) != 11 || made[0] != name(t0) || made[1] != name(t0.Add(24*time.Hour)) {
		t.Errorf("made %v, want one a day from %s", made, name(t0))
	}
	backups, err := Backups(path)
	must(t, err)
	if len(backups) != 7 || !backups[0].At.Equal(t0.Add(10*24*time.Hour)) || !backups[6].At.Equal(t0.Add(4*24*time.Hour)) {
		t.Fatalf("kept %v, want the newest seven", backups)
	}
	entries, err := os.ReadDir(BackupDir(path))
	must(t, err)
	if len(entries) != 7 {
		t.Errorf("%d files in the backup directory, want 7", len(entries))
	}
	b := mustOpen(t, backups[0].Path, Options{KeyFile: keyPath(path), MustExist: true})
	if _, err := b.User("acme", "u2"); err != nil {
		t.Errorf("the backup does not hold the users: %v", err)
	}
}

// TestRestorePicksNewestHealthyBackup damages the database and its newest
// backup: Restore takes the one before, and keeps the damaged file.
func TestRestorePicksNewestHealthyBackup(t *testing.T) {
	t0 := testclock.Start(t)
	db, path := testDB(t, Options{})
	seed(t, db)
	_, err := db.AutoBackup(t0, time.Hour, 7)
	must(t, err)
	must(t, db.PutUsers("acme", User{Key: "u3", Account: "cy@acme.example"}))
	newest, err := db.AutoBackup(t0.Add(2*time.Hour), time.Hour, 7)
	must(t, err)
	must(t, db.Close())
	must(t, os.Truncate(newest, 8192))
	must(t, os.Truncate(path, 8192))
	damaged, err := os.ReadFile(path)
	must(t, err)

	at := t0.Add(3 * time.Hour)
	r, err := Restore(path, at, Options{})
	must(t, err)
	if filepath.Base(r.From) != "modauth-"+t0.UTC().Format("20060102T150405Z")+".db" || len(r.Skipped) != 1 || !strings.Contains(r.Skipped[0], "truncated") {
		t.Errorf("restored %+v, want the older backup, skipping the truncated one", r)
	}
	if r.Kept != path+".damaged-"+at.UTC().Format("20060102T150405Z") {
		t.Errorf("kept the damaged file as %q", r.Kept)
	}
	if kept, err := os.ReadFile(r.Kept); err != nil || string(kept) != string(damaged) {
		t.Errorf("the damaged file was not kept as it was: %v", err)
	}
	restored := mustOpen(t, path, Options{MustExist: true})
	users, err := restored.Users("acme")
	must(t, err)
	if len(users) != 2 {
		t.Errorf("restored %d users, want the 2 of the older backup", len(users))
	}
	if _, err := os.Stat(path + ".restore"); !os.IsNotExist(err) {
		t.Errorf("temporary copy left behind: %v", err)
	}
}

func TestRestoreWithoutHealthyBackup(t *testing.T) {
	t0 := testclock.Start(t)
	db, path := testDB(t, Options{})
	must(t, db.Close())
	_, err := Restore(path, t0, Options{})
	if err == nil || !strings.Contains(err.Error(), "no healthy backup in "+BackupDir(path)) {
		t.Errorf("got %v, want no healthy backup named", err)
	}
}

func TestRestoreRefusedWhileOpen(t *testing.T) {
	t0 := testclock.Start(t)
	db, path := testDB(t, Options{})
	_, err := db.AutoBackup(t0, time.Hour, 7)
	must(t, err)
	_, err = Restore(path, t0, Options{})
	wantErr(t, err, ErrLocked, path)
}
