package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testetcd"
)

// signIn writes, through the store's normal operations, what a tenant's
// onboarding does: its profile, then its users and their refresh tokens in
// one batch. The names carry tag, so that later writes are told apart.
func signIn(db *DB, tag string) error {
	id := "tenant-" + tag
	if err := db.PutProfile(Profile{ID: id, Customer: "Customer " + tag, Environment: "production", Model: Delegated}); err != nil {
		return err
	}
	batch := Batch{Profile: id, Tokens: map[string]Token{}}
	for i := range 3 {
		key := fmt.Sprintf("%s-u%d", tag, i)
		batch.Users = append(batch.Users, User{Key: key, Account: key + "@example.test"})
		batch.Tokens[key] = Token{RefreshToken: Secret("rt-" + key), Scopes: []string{"offline_access"}}
	}
	return db.Apply(batch)
}

// checkSignedIn reads back what signIn(tag) wrote.
func checkSignedIn(t *testing.T, db *DB, tag string) {
	t.Helper()
	id := "tenant-" + tag
	p, err := db.Profile(id)
	if err != nil || p.Customer != "Customer "+tag {
		t.Fatalf("profile %s: %+v, %v", id, p, err)
	}
	users, err := db.Users(id)
	must(t, err)
	if len(users) != 3 {
		t.Fatalf("profile %s holds %d users, want 3", id, len(users))
	}
	for _, u := range users {
		tok, err := db.Token(id, u.Key)
		must(t, err)
		if tok.RefreshToken.Reveal() != "rt-"+u.Key {
			t.Errorf("profile %s user %s: token did not come back whole", id, u.Key)
		}
	}
}

// Issue 15's acceptance: a 3-node etcd cluster with one node stopped keeps
// working. The store, given all three endpoints, writes; the leader is
// killed (SIGKILL: no leadership handed over); writes go on through the
// two left and everything written before and after reads back, also
// through a store that knows only the survivors.
func TestEtcdClusterKeepsWorkingWithoutItsLeader(t *testing.T) {
	c := testetcd.StartCluster(t, 3)
	db := openEtcdDB(t, c.Endpoints, Options{})
	storeCanaries(t, db)
	must(t, signIn(db, "before"))

	leader := c.Leader()
	c.Kill(leader)
	// Real time: the election runs on etcd's clock. A deadline and a
	// measurement, never a date the test asserts.
	killed := time.Now()
	const within = 15 * time.Second
	var failures []error
	for {
		err := signIn(db, "after")
		if err == nil {
			break
		}
		failures = append(failures, err)
		if time.Since(killed) > within {
			t.Fatalf("no write succeeded within %s of killing the leader n%d: %v", within, leader+1, failures)
		}
		time.Sleep(100 * time.Millisecond)
	}
	recovered := time.Since(killed)
	t.Logf("leader n%d killed: the first write after it landed %s later, after %d failed tries %v",
		leader+1, recovered.Round(10*time.Millisecond), len(failures), failures)
	if len(failures) > 0 {
		t.Errorf("a write failed after the leader died, rather than waiting for the next one: %v", failures)
	}
	must(t, signIn(db, "later"))

	var survivors []string
	for i, endpoint := range c.Endpoints {
		if i != leader {
			survivors = append(survivors, endpoint)
		}
	}
	other := openEtcdDB(t, survivors, Options{KeyFile: db.keyFile})
	for _, read := range []*DB{db, other} {
		for _, tag := range []string{"before", "after", "later"} {
			checkSignedIn(t, read, tag)
		}
		tok, err := read.Token("acme", "u1")
		must(t, err)
		if tok.RefreshToken.Reveal() != canaryRT {
			t.Error("the token written before the kill did not come back whole")
		}
	}
}

// With two of three members killed there is no quorum: a write must fail
// with an error within the store's etcd timeout rather than hang. The
// store writing here has no session yet, as after a restart or once its
// session's lease has expired, so the write starts by granting a lease.
func TestEtcdClusterWithoutQuorumFailsWrites(t *testing.T) {
	c := testetcd.StartCluster(t, 3)
	first := openEtcdDB(t, c.Endpoints, Options{})
	must(t, signIn(first, "before"))
	must(t, first.Close()) // while it is quick: revoking a lease needs a quorum
	db := openEtcdDB(t, c.Endpoints, Options{KeyFile: first.keyFile})

	c.Kill(0)
	c.Kill(1)
	start := time.Now() // real time: a deadline, see above
	done := make(chan error, 1)
	go func() { done <- signIn(db, "after") }()
	limit := etcdOpTimeout + 3*time.Second
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a write succeeded on one member of three")
		}
		t.Logf("write without quorum failed after %s: %v", time.Since(start).Round(10*time.Millisecond), err)
	case <-time.After(limit):
		t.Fatalf("a write without quorum still hangs after %s", limit)
	}
}
