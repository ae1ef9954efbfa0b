package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/store"
	bolt "go.etcd.io/bbolt"
)

// emptyStore is a data directory with a store and no profile.
func emptyStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "modauth.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	return dir
}

// runCode runs modauth to the end and returns its exit code and output.
func runCode(t *testing.T, args ...string) (code int, stdout, stderr string, err error) {
	t.Helper()
	out, errOut, done := run(t, context.Background(), args...)
	err = <-done
	return exitCode(err), out.String(), errOut.String(), err
}

// TestReadCommandsNeverCreateAStore: a mistyped --data-dir is an error
// naming the path, exit 2 (check: UNKNOWN, 3), and nothing is created.
func TestReadCommandsNeverCreateAStore(t *testing.T) {
	csv := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(csv, []byte("account\nann@contoso.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"check"},
		{"report", "no-sync-id"},
		{"users", "export", "--profile", "acme"},
		{"users", "resolve", "--profile", "acme"},
		{"users", "import", csv, "--profile", "acme"},
		{"monitor", "--once"},
		{"doctor"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "typo")
			code, out, _, err := runCode(t, append(args, "--data-dir", dir)...)
			msg, want := out, 3
			if args[0] != "check" {
				msg, want = fmt.Sprint(err), 2
			}
			if code != want {
				t.Errorf("exit %d, want %d (%v)", code, want, err)
			}
			path := filepath.Join(dir, "modauth.db")
			if !strings.Contains(msg, "no database at "+path) || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
				t.Errorf("message %q, want one line naming %s", msg, path)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s was created: %v", dir, err)
			}
		})
	}
}

// TestNoProfilesNamesTheDataDir: with a store and no profile, monitor
// --once, check and report fail, naming the data directory.
func TestNoProfilesNamesTheDataDir(t *testing.T) {
	dir := emptyStore(t)
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"monitor", "--once"}, 1},
		{[]string{"report", "no-sync-id"}, 1},
		{[]string{"check"}, 3},
	} {
		code, out, _, err := runCode(t, append(c.args, "--data-dir", dir)...)
		msg := out
		if c.code != 3 {
			msg = fmt.Sprint(err)
		}
		if code != c.code || !strings.Contains(msg, "no profiles yet in "+dir) {
			t.Errorf("%v: exit %d, message %q; want %d naming %s", c.args, code, msg, c.code, dir)
		}
	}
}

// damageUser writes garbage over one user record with bbolt itself.
func damageUser(t *testing.T, dir, key string) {
	t.Helper()
	bdb, err := bolt.Open(filepath.Join(dir, "modauth.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	err = bdb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("profiles")).Bucket([]byte("acme-production")).Bucket([]byte("users")).Put([]byte(key), []byte("{garbage"))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDoctorReportsDamagePerProfile(t *testing.T) {
	dir := seedStore(t, 90*24*time.Hour, store.StateOK, store.StateOK, store.StateOK)
	code, out, errOut, err := runCode(t, "doctor", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "acme-production  ok") || !strings.Contains(errOut, "is sound") {
		t.Fatalf("healthy store: exit %d (%v)\n%s%s", code, err, out, errOut)
	}

	damageUser(t, dir, "b")
	code, out, _, err = runCode(t, "doctor", "--data-dir", dir)
	if code != 1 || !strings.Contains(out, `acme-production  damaged  user "b": record does not decode`) {
		t.Errorf("damaged store: exit %d (%v)\n%s", code, err, out)
	}
	if err == nil || !strings.Contains(err.Error(), "modauth doctor --restore") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %v, want one line naming the way out", err)
	}
	if strings.Contains(out, "s3cret-value-x") {
		t.Error("the client secret is in the output")
	}

	code, out, _, _ = runCode(t, "doctor", "--json", "--data-dir", dir)
	var d store.Diagnosis
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != 1 || d.Healthy() || d.Profiles[0].Users != 2 {
		t.Errorf("--json: exit %d, %+v, %v\n%s", code, d, err, out)
	}
}

func TestDoctorRestoresTheLastSoundBackup(t *testing.T) {
	dir := seedStore(t, 90*24*time.Hour, store.StateOK, store.StateOK)
	path := filepath.Join(dir, "modauth.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AutoBackup(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), 24*time.Hour, 7); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.Truncate(path, 8192); err != nil {
		t.Fatal(err)
	}

	code, _, _, err := runCode(t, "check", "--data-dir", dir)
	if code != 3 {
		t.Errorf("check on a truncated store: exit %d (%v)", code, err)
	}
	code, _, errOut, err := runCode(t, "doctor", "--restore", "--data-dir", dir)
	if code != 0 || !strings.Contains(errOut, "restored "+path+" from "+filepath.Join(dir, "backups", "modauth-20260301T090000Z.db")) {
		t.Fatalf("restore: exit %d (%v)\n%s", code, err, errOut)
	}
	kept, _ := filepath.Glob(path + ".damaged-*")
	if len(kept) != 1 || !strings.Contains(errOut, kept[0]) {
		t.Errorf("damaged file kept as %v; stderr %s", kept, errOut)
	}
	if code, out, _, err := runCode(t, "check", "--data-dir", dir); code != 0 {
		t.Errorf("check after the restore: exit %d (%v) %s", code, err, out)
	}
}
