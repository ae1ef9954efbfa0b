package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sampleStore writes a real store with a profile, its secret, users,
// tokens, jobs, items and events, and returns its path and its bytes as
// bbolt writes them to a backup: the pages in use, without the file's
// preallocated tail.
func sampleStore(t testing.TB) (string, []byte) {
	t.Helper()
	db, path := testDB(t, Options{})
	seed(t, db)
	must(t, db.SetClientSecret("acme", ClientSecret{Value: "secret-value", KeyID: "k1"}))
	users := make([]User, 40)
	for i := range users {
		users[i] = User{Key: fmt.Sprintf("user-%02d", i), Name: fmt.Sprintf("User %d", i), Account: fmt.Sprintf("user%d@acme.example", i)}
	}
	must(t, db.PutUsers("acme", users...))
	b := Batch{Profile: "acme", Tokens: map[string]Token{}, Jobs: map[string]Job{}}
	for i, u := range users {
		b.Tokens[u.Key] = Token{RefreshToken: Secret(fmt.Sprintf("rt-%d", i)), Scopes: []string{"offline_access"}}
		b.Jobs[u.Key] = Job{State: StateOK, Checkpoints: map[string]string{"calendar": strings.Repeat("d", 200)}}
		b.Folders = append(b.Folders, FolderChange{User: u.Key, Folder: "calendar", Put: []Item{{ID: "item-" + u.Key, ChangeKey: "ck"}}})
		b.Events = append(b.Events, Event{Profile: "acme", User: u.Key, Kind: "state", State: StateOK, Message: "synced"})
	}
	must(t, db.Apply(b))
	var buf bytes.Buffer
	_, err := db.Backup(&buf)
	must(t, err)
	must(t, db.Close())
	return path, buf.Bytes()
}

// damage is one way to damage a database: a truncation or a bit flip.
type damage struct {
	name     string
	truncate int // bytes left; -1 for none
	bit      int // bit to flip; -1 for none
}

// apply writes orig, so damaged, to path.
func (d damage) apply(orig []byte, path string) error {
	data := orig
	if d.truncate >= 0 {
		data = orig[:d.truncate]
	}
	if d.bit >= 0 {
		data = slices.Clone(orig)
		data[d.bit/8] ^= 1 << (d.bit % 8)
	}
	return os.WriteFile(path, data, 0o600)
}

// damages truncates the file at every page boundary and flips bits: every
// bit of the page header of the first pages, every bit of both meta
// pages' fields, and random bits across the file, from a fixed seed.
func damages(size, pageSize int) []damage {
	var out []damage
	for n := 0; n < size; n += pageSize {
		out = append(out, damage{fmt.Sprintf("truncated to %d bytes", n), n, -1})
	}
	flip := func(name string, bit int) { out = append(out, damage{name, -1, bit}) }
	for page := range 8 {
		width := pageHeaderSize
		if page < 2 {
			width += metaSize
		}
		for bit := range width * 8 {
			flip(fmt.Sprintf("page %d, header bit %d", page, bit), page*pageSize*8+bit)
		}
	}
	r := rand.New(rand.NewPCG(9, 8))
	for range 400 {
		bit := r.IntN(size * 8)
		flip(fmt.Sprintf("bit %d", bit), bit)
	}
	return out
}

// TestDamagedFilesNeverPanic opens and diagnoses every damaged copy in
// this process: a panic fails the test, a SIGBUS kills it. Every error is
// one line naming the file.
func TestDamagedFilesNeverPanic(t *testing.T) {
	src, orig := sampleStore(t)
	key := keyPath(src)
	path := filepath.Join(t.TempDir(), "modauth.db")
	opts := Options{KeyFile: key, MustExist: true}

	copies := damages(len(orig), os.Getpagesize())
	if testing.Short() { // every seventh, for a quick run
		var some []damage
		for i := 0; i < len(copies); i += 7 {
			some = append(some, copies[i])
		}
		copies = some
	}
	var panics, opened, refused, diagnosedDamaged int
	for _, c := range copies {
		must(t, c.apply(orig, path))
		if p := catchPanic(func() {
			db, err := Open(path, opts)
			if err != nil {
				refused++
				checkDamageError(t, c.name, err, path)
				return
			}
			opened++
			readEverything(t, c.name, db, path)
			must(t, db.Close())
		}); p != nil {
			panics++
			t.Errorf("%s: Open panicked: %v", c.name, p)
		}
		if p := catchPanic(func() {
			d, err := Diagnose(path, opts)
			if err != nil {
				checkDamageError(t, c.name, err, path)
			} else if !d.Healthy() {
				diagnosedDamaged++
			}
		}); p != nil {
			panics++
			t.Errorf("%s: Diagnose panicked: %v", c.name, p)
		}
	}
	t.Logf("%d damaged copies: %d refused by Open, %d opened, %d found damaged by Diagnose, %d panics", len(copies), refused, opened, diagnosedDamaged, panics)
	if panics > 0 {
		t.Errorf("%d panics in %d damaged copies", panics, len(copies))
	}
}

func catchPanic(fn func()) (p any) {
	defer func() { p = recover() }()
	fn()
	return nil
}

// checkDamageError wants ErrDamaged (or a wrong key, when the damage is in
// the key check), in one line naming the file.
func checkDamageError(t *testing.T, name string, err error, path string) {
	t.Helper()
	msg := err.Error()
	if !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrWrongKey) {
		t.Errorf("%s: error is not ErrDamaged: %v", name, err)
	}
	if strings.Contains(msg, "\n") || !strings.Contains(msg, path) {
		t.Errorf("%s: error is not one line naming the file: %q", name, msg)
	}
}

// readEverything reads every record through the API; errors must be
// damage errors.
func readEverything(t *testing.T, name string, db *DB, path string) {
	t.Helper()
	check := func(err error) {
		if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrUnseal) {
			checkDamageError(t, name, err, path)
		}
	}
	ps, err := db.Profiles()
	check(err)
	for _, p := range ps {
		users, err := db.Users(p.ID)
		check(err)
		_, err = db.Jobs(p.ID)
		check(err)
		_, err = db.ClientSecret(p.ID)
		check(err)
		for _, u := range users {
			_, err = db.Token(p.ID, u.Key)
			check(err)
			_, err = db.Items(p.ID, u.Key, "calendar")
			check(err)
		}
	}
	_, err = db.Events("", 0, 0)
	check(err)
	check(db.Check())
}

func TestOpenMustExistCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "typo")
	path := filepath.Join(dir, "modauth.db")
	_, err := Open(path, Options{MustExist: true})
	wantErr(t, err, ErrNoDatabase, path)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Open created %s: %v", dir, err)
	}
}

// TestOpenRefusesEmptyFile: bbolt makes a new database of an empty file;
// an empty file that was there before is a database that lost its data.
func TestOpenRefusesEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "modauth.db")
	must(t, os.WriteFile(path, nil, 0o600))
	_, err := Open(path, Options{})
	wantErr(t, err, ErrDamaged, path, "empty", "modauth doctor")
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Errorf("the empty file was changed: %v %v", fi.Size(), err)
	}
}

// TestOpenRefusesTruncatedFile: a file cut short at 8 KiB made bbolt die
// of SIGBUS reading past its end.
func TestOpenRefusesTruncatedFile(t *testing.T) {
	src, _ := sampleStore(t)
	must(t, os.Truncate(src, 8192))
	_, err := Open(src, Options{})
	wantErr(t, err, ErrDamaged, src, "truncated", "modauth doctor")
}
