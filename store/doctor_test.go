package store

import (
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// putRaw writes value under the bucket path and key into the closed
// database file at path, with bbolt itself: damage as a disk would do it.
func putRaw(t testing.TB, path string, value []byte, buckets ...string) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	defer bdb.Close()
	must(t, bdb.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(buckets[0]))
		for _, name := range buckets[1 : len(buckets)-1] {
			b = b.Bucket([]byte(name))
		}
		return b.Put([]byte(buckets[len(buckets)-1]), value)
	}))
}

// getRaw reads a value the same way.
func getRaw(t testing.TB, path string, buckets ...string) []byte {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	must(t, err)
	defer bdb.Close()
	var out []byte
	must(t, bdb.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(buckets[0]))
		for _, name := range buckets[1 : len(buckets)-1] {
			b = b.Bucket([]byte(name))
		}
		out = append(out, b.Get([]byte(buckets[len(buckets)-1]))...)
		return nil
	}))
	return out
}

func TestDiagnoseHealthy(t *testing.T) {
	path, _ := sampleStore(t)
	d, err := Diagnose(path, Options{})
	must(t, err)
	if !d.Healthy() || len(d.Profiles) != 1 {
		t.Fatalf("diagnosis %+v, want one healthy profile", d)
	}
	if p := d.Profiles[0]; p.Users != 42 || p.Tokens != 40 || p.Jobs != 40 || p.Items != 40 {
		t.Errorf("counted %+v, want 42 users, 40 tokens, jobs and items", p)
	}
}

func TestDiagnoseFindsDamagedRecords(t *testing.T) {
	path, _ := sampleStore(t)
	putRaw(t, path, []byte("\x00garbage"), "profiles", "acme", "users", "user-07")
	putRaw(t, path, []byte(`{"state":`), "profiles", "acme", "jobs", "user-08")
	// A token moved from another user's record does not unseal.
	putRaw(t, path, getRaw(t, path, "profiles", "acme", "tokens", "user-01"), "profiles", "acme", "tokens", "user-09")

	d, err := Diagnose(path, Options{})
	must(t, err)
	if d.Healthy() || len(d.File) != 0 {
		t.Fatalf("diagnosis %+v, want damaged records and a sound file", d)
	}
	p := d.Profiles[0]
	got := strings.Join(p.Damaged, "\n")
	for _, want := range []string{`user "user-07": record does not decode`, `job of user "user-08"`, `refresh token of user "user-09"`} {
		if !strings.Contains(got, want) {
			t.Errorf("damage list lacks %q:\n%s", want, got)
		}
	}
	if len(p.Damaged) != 3 || p.Users != 41 || p.Jobs != 39 || p.Tokens != 39 {
		t.Errorf("diagnosis %+v, want exactly the three damaged records", p)
	}
	if strings.Contains(got, "rt-1") {
		t.Error("a refresh token is in the diagnosis")
	}
}

func TestOneDamagedUserCostsThatUser(t *testing.T) {
	path, _ := sampleStore(t)
	putRaw(t, path, []byte("not json"), "profiles", "acme", "users", "user-03")
	putRaw(t, path, []byte(`{"key":"user-04"}`), "profiles", "acme", "users", "user-05")
	db := mustOpen(t, path, Options{})

	users, damaged, err := db.UsersAndDamaged("acme")
	must(t, err)
	if len(users) != 40 || len(damaged) != 2 {
		t.Fatalf("%d users and %d damaged, want 40 and 2", len(users), len(damaged))
	}
	wantErr(t, damaged["user-03"], ErrDamaged, path, `user "user-03" in profile "acme"`, "modauth doctor")
	wantErr(t, damaged["user-05"], ErrDamaged, `record names user "user-04"`)

	_, err = db.Users("acme")
	wantErr(t, err, ErrDamaged, path, `user "user-03"`, "modauth doctor")
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q is not one line", err)
	}
}
