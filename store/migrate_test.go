package store

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// fillStore stores real data of every kind: storeCanaries' profile with
// its secrets, a refresh token, jobs and events, plus items in nested
// buckets, a second profile, and more events than the log keeps, so the
// log's sequence is ahead of its count.
func fillStore(t *testing.T, db *DB) {
	t.Helper()
	storeCanaries(t, db)
	must(t, db.PutItems("acme", "u1", "inbox", Item{ID: "AAMk1", ChangeKey: "ck1"}, Item{ID: "AAMk2", ChangeKey: "ck2"}))
	must(t, db.PutItems("acme", "u2", "sent\x00items", Item{ID: "AAMk3"}))
	must(t, db.PutProfile(Profile{ID: "globex", Customer: "Globex", Environment: "test", Model: AppOnly}))
	must(t, db.PutUsers("globex", User{Key: "g1", Name: "Gil"}, User{Key: "g2", Name: "Gus"}))
	for i := range 4 {
		_, err := db.Append(Event{Profile: "globex", Kind: "sync", Message: fmt.Sprintf("sweep %d", i)})
		must(t, err)
	}
}

func dumpOf(t *testing.T, db *DB) string {
	t.Helper()
	var b bytes.Buffer
	must(t, db.Dump(&b))
	return b.String()
}

// TestMigrateRoundTrip moves a filled bbolt store into etcd and back into
// a new bbolt file: every bucket, key, value and sequence arrives as it
// was, the secrets still open, and the log numbers on where it left off.
func TestMigrateRoundTrip(t *testing.T) {
	key := filepath.Join(t.TempDir(), "shared.key")
	first, _ := testDB(t, Options{KeyFile: key, MaxEvents: 3})
	fillStore(t, first)
	want := dumpOf(t, first)
	if !strings.Contains(want, "events/ sequence=7") {
		t.Fatalf("the filled store's log is not ahead of its count:\n%s", want)
	}
	wantCount := Migrated{Profiles: 2, Users: 4, Events: 3, Keys: strings.Count(want, " = ")}

	inEtcd, _ := etcdDB(t, Options{KeyFile: key})
	got, err := Migrate(inEtcd, first)
	must(t, err)
	if got != wantCount {
		t.Errorf("bbolt to etcd: Migrate = %+v, want %+v", got, wantCount)
	}
	if d := dumpOf(t, inEtcd); d != want {
		t.Errorf("etcd holds\n%s\nwant\n%s", d, want)
	}

	last, _ := testDB(t, Options{KeyFile: key})
	opened := last.WriteTransactions()
	got, err = Migrate(last, inEtcd)
	must(t, err)
	if got != wantCount {
		t.Errorf("etcd to bbolt: Migrate = %+v, want %+v", got, wantCount)
	}
	if n := last.WriteTransactions() - opened; n != 1 {
		t.Errorf("the bbolt destination took %d write transactions, want 1: all or nothing", n)
	}
	if d := dumpOf(t, last); d != want {
		t.Errorf("the final bbolt holds\n%s\nwant\n%s", d, want)
	}

	tok, err := last.Token("acme", "u1")
	must(t, err)
	cs, err := last.ClientSecret("acme")
	must(t, err)
	cert, err := last.ClientCertificate("acme")
	must(t, err)
	if tok.RefreshToken.Reveal() != canaryRT || cs.Value.Reveal() != canarySecret || cert.KeyPKCS8.Reveal() != canaryCertKey {
		t.Error("the sealed secrets do not open whole after the round trip")
	}
	items, err := last.Items("acme", "u2", "sent\x00items")
	must(t, err)
	if !reflect.DeepEqual(items, []Item{{ID: "AAMk3"}}) {
		t.Errorf("items after the round trip = %+v", items)
	}
	seqs, err := last.Append(Event{Kind: "sync", Message: "after"})
	must(t, err)
	if seqs[0] != 8 {
		t.Errorf("the next event after the round trip got sequence %d, want 8", seqs[0])
	}
}

// TestMigrateRefusesNonEmptyDestination: a destination that holds a
// profile, or only events, is refused and left as it was.
func TestMigrateRefusesNonEmptyDestination(t *testing.T) {
	key := filepath.Join(t.TempDir(), "shared.key")
	src, _ := testDB(t, Options{KeyFile: key})
	fillStore(t, src)
	for name, c := range map[string]struct {
		fill func(t *testing.T, db *DB)
		says string
	}{
		"profile": {func(t *testing.T, db *DB) { seed(t, db) }, `profile "acme"`},
		"events": {func(t *testing.T, db *DB) {
			_, err := db.Append(Event{Kind: "sync", Message: "already here"})
			must(t, err)
		}, "events"},
	} {
		t.Run(name, func(t *testing.T) {
			backends(t, Options{KeyFile: key}, func(t *testing.T, dst *DB) {
				c.fill(t, dst)
				before := dumpOf(t, dst)
				_, err := Migrate(dst, src)
				wantErr(t, err, ErrNotEmpty, c.says, "already holds", "new data directory", "delete")
				if after := dumpOf(t, dst); after != before {
					t.Errorf("a refused migration changed the destination:\n%s\nwas\n%s", after, before)
				}
			})
		})
	}
}

// TestMigrateRefusesAnotherKey: what the source sealed would not open
// under the destination's key, so nothing is copied, and the error names
// the key files and no secret.
func TestMigrateRefusesAnotherKey(t *testing.T) {
	src, _ := testDB(t, Options{})
	fillStore(t, src)
	backends(t, Options{}, func(t *testing.T, dst *DB) {
		before := dumpOf(t, dst)
		_, err := Migrate(dst, src)
		wantErr(t, err, ErrWrongKey, dst.keyFile, src.keyFile, "open the destination with the source's key file")
		for _, canary := range canaries {
			if strings.Contains(err.Error(), canary) {
				t.Errorf("the error shows %s", canary)
			}
		}
		if after := dumpOf(t, dst); after != before {
			t.Errorf("a refused migration changed the destination:\n%s\nwas\n%s", after, before)
		}
	})
}

// TestMigrateBigStoreInChunks moves a store of a few thousand users into
// etcd: it arrives whole, in several commits of at most migrateChunkOps
// keys and about migrateChunkBytes each (keys written by one etcd Txn share
// its revision). The users' sync-ids are long enough that the bytes bound
// cuts some commits short of the keys bound.
func TestMigrateBigStoreInChunks(t *testing.T) {
	key := filepath.Join(t.TempDir(), "shared.key")
	src, _ := testDB(t, Options{KeyFile: key})
	seed(t, src)
	const users = 3000
	b := Batch{Profile: "acme", Tokens: map[string]Token{}, Jobs: map[string]Job{}}
	for i := range users {
		k := fmt.Sprintf("user%04d", i)
		b.Users = append(b.Users, User{Key: k, Name: "User " + k, Account: k + "@acme.example", ProductSyncID: strings.Repeat("s", 700)})
		b.Tokens[k] = Token{RefreshToken: Secret("rt-" + k), Scopes: []string{"offline_access"}}
		b.Jobs[k] = Job{State: StateOK, Counts: map[string]int{"inbox": i}}
	}
	must(t, src.Apply(b))
	want := dumpOf(t, src)

	dst, endpoint := etcdDB(t, Options{KeyFile: key})
	got, err := Migrate(dst, src)
	must(t, err)
	if got.Users != users+2 || got.Keys != strings.Count(want, " = ") {
		t.Errorf("Migrate = %+v, want %d users and %d keys", got, users+2, strings.Count(want, " = "))
	}
	if d := dumpOf(t, dst); d != want {
		t.Errorf("etcd does not hold the whole store: %d bytes of dump, want %d", len(d), len(want))
	}
	tok, err := dst.Token("acme", "user2999")
	must(t, err)
	if tok.RefreshToken.Reveal() != "rt-user2999" {
		t.Error("the last user's refresh token does not open")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := rawEtcd(t, endpoint).Get(ctx, testPrefix, clientv3.WithPrefix())
	must(t, err)
	perCommit, bytesPerCommit := map[int64]int{}, map[int64]int{}
	for _, kv := range resp.Kvs {
		perCommit[kv.ModRevision]++
		bytesPerCommit[kv.ModRevision] += len(kv.Key) + len(kv.Value)
	}
	if len(perCommit) < 3*users/migrateChunkOps {
		t.Errorf("the copy took %d commits, want at least %d", len(perCommit), 3*users/migrateChunkOps)
	}
	for rev, n := range perCommit {
		if n > migrateChunkOps {
			t.Errorf("commit at revision %d wrote %d keys, more than %d", rev, n, migrateChunkOps)
		}
		if n := bytesPerCommit[rev]; n > migrateChunkBytes+4<<10 {
			t.Errorf("commit at revision %d wrote %d bytes, more than %d and one key", rev, n, migrateChunkBytes)
		}
	}
}

// TestMigrateRefusesItself: a store copied onto itself, even an empty
// one, is refused before anything is read or written (on bbolt the copy
// would wait forever: its write needs the read it runs in to end).
func TestMigrateRefusesItself(t *testing.T) {
	db, _ := testDB(t, Options{})
	opened := db.WriteTransactions()
	_, err := Migrate(db, db.Borrow())
	if err == nil || !strings.Contains(err.Error(), "the same store") {
		t.Fatalf("Migrate onto itself: %v", err)
	}
	if n := db.WriteTransactions() - opened; n != 0 {
		t.Errorf("a refused migration wrote %d transactions", n)
	}
}
