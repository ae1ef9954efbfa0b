package store

import (
	"fmt"
	"path/filepath"
	"regexp"
	"testing"
)

// sweepChunks are two sweeps' results for n users, as the engine commits
// them: the first sync (users, tokens, jobs, three folders of items), then
// the next (rotated tokens, a folder reset, items changed and deleted).
func sweepChunks(n int) []Batch {
	first := Batch{Profile: "acme", Tokens: map[string]Token{}, Jobs: map[string]Job{}}
	next := Batch{Profile: "acme", Tokens: map[string]Token{}, Jobs: map[string]Job{}}
	for i := range n {
		k := fmt.Sprintf("u%03d", i)
		first.Users = append(first.Users, User{Key: k, Name: "User " + k, UPN: k + "@contoso.com", Mapping: MappingOK})
		first.Tokens[k] = Token{RefreshToken: Secret("rt-1-" + k)}
		next.Tokens[k] = Token{RefreshToken: Secret("rt-2-" + k)}
		first.Jobs[k] = Job{State: StateOK}
		next.Jobs[k] = Job{State: StateSignInNeeded}
		for _, folder := range []string{"calendar", "contacts", "tasks"} {
			var items []Item
			for j := range 5 {
				items = append(items, Item{ID: fmt.Sprintf("%s-%s-%d", k, folder, j), ChangeKey: "ck1"})
			}
			first.Folders = append(first.Folders, FolderChange{User: k, Folder: folder, Put: items})
		}
		next.Folders = append(next.Folders,
			FolderChange{User: k, Folder: "calendar", Reset: true, Put: []Item{{ID: k + "-calendar-9", ChangeKey: "ck2"}}},
			FolderChange{User: k, Folder: "contacts", Put: []Item{{ID: k + "-contacts-0", ChangeKey: "ck2"}}, Delete: []string{k + "-contacts-1"}})
		next.Events = append(next.Events, Event{Profile: "acme", User: k, Kind: "sync", Message: "synced"})
	}
	return []Batch{first, next}
}

// TestEtcdApplyReadsAhead: a sweep's chunk of users lands in etcd exactly
// as in bbolt, and in a handful of read requests rather than a dozen per
// user, each a round trip under the write lock that every monitor shares.
func TestEtcdApplyReadsAhead(t *testing.T) {
	const users = 30
	key := filepath.Join(t.TempDir(), "shared.key")
	file, _ := testDB(t, Options{KeyFile: key})
	etcd, _ := etcdDB(t, Options{KeyFile: key})
	reads := &etcd.kv.(*etcdStore).reads
	for _, db := range []*DB{file, etcd} {
		must(t, db.PutProfile(Profile{ID: "acme", Customer: "Acme", Environment: "production", Model: Delegated}))
		for i, b := range sweepChunks(users) {
			before := reads.Load()
			must(t, db.Apply(b))
			if n := reads.Load() - before; db == etcd && n > 12 {
				t.Errorf("sweep %d of %d users: %d read requests to etcd", i+1, users, n)
			}
		}
	}
	// Sealed values differ by their nonces only.
	sealed := regexp.MustCompile(`"rt":"[^"]*"|keycheck = .*`)
	if f, e := sealed.ReplaceAllString(dumpOf(t, file), "sealed"), sealed.ReplaceAllString(dumpOf(t, etcd), "sealed"); f != e {
		t.Errorf("etcd holds other than bbolt after the same sweeps:\n--- bbolt\n%s\n--- etcd\n%s", f, e)
	}
}
