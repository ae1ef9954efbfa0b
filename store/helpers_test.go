package store

import (
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testclock"
)

// clock returns a Now that starts at the tests' instant and advances one
// second per call, so Created and Updated differ and tests can tell them
// apart.
func clock(t testing.TB) func() time.Time {
	t0 := testclock.Start(t)
	var n atomic.Int64
	return func() time.Time { return t0.Add(time.Duration(n.Add(1)) * time.Second) }
}

// testDB opens a fresh database in a temp dir and closes it at cleanup.
func testDB(t testing.TB, opts Options) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "modauth.db")
	return mustOpen(t, path, opts), path
}

// mustOpen opens path, on the tests' clock unless opts name one.
func mustOpen(t testing.TB, path string, opts Options) *DB {
	t.Helper()
	if opts.Now == nil {
		opts.Now = clock(t)
	}
	db, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open %s: %v", path, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr fails unless err matches sentinel and its message contains every
// part.
func wantErr(t testing.TB, err, sentinel error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("got %v, want an error wrapping %v", err, sentinel)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

// seed puts a profile "acme" with two users.
func seed(t testing.TB, db *DB) {
	t.Helper()
	must(t, db.PutProfile(Profile{ID: "acme", Customer: "Acme", Environment: "production", Model: Delegated}))
	must(t, db.PutUsers("acme",
		User{Key: "u1", Name: "Ann", Account: "ann@acme.example"},
		User{Key: "u2", Name: "Bob", Account: "bob@acme.example"},
	))
}
