package monitor_test

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/internal/testclock"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// TestCrashDuringSweep kills a process in the middle of sweeping, again and
// again at random moments, and after each kill finds the database sound,
// every stored refresh token still good, and every sync-id once.
func TestCrashDuringSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts processes for a few seconds; skipped with -short")
	}
	f := newFixture(t, m365sim.Options{Users: 30})
	f.delegatedProfile()
	keys := f.signedInUsers(12)
	path := f.db.Path()
	f.db.Close()

	sweeps := 0 // sweeps the children finished: the kills must land mid-work
	// The kills come at random real-time moments.
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("seed %d", seed)
	for round := range 8 {
		child := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
		child.Env = append(os.Environ(), "MODAUTH_CRASH_DB="+path, "MODAUTH_CRASH_SIM="+f.sim.URL, "MODAUTH_CRASH_TENANT="+f.sim.Tenant.ID)
		out := &strings.Builder{}
		child.Stdout, child.Stderr = out, out
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		wait := time.Duration(50+rng.IntN(700)) * time.Millisecond
		time.Sleep(wait)
		child.Process.Kill()
		child.Wait()
		sweeps += strings.Count(out.String(), "sweep done")

		db, err := store.Open(path, store.Options{Now: f.sim.Clock.Now})
		if err != nil {
			t.Fatalf("round %d (killed after %v): reopen: %v\n%s", round, wait, err, out)
		}
		if err := db.Check(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		c, err := flows.New(testkit.Ctx(t), flows.Config{Authority: f.sim.URL, Tenant: f.sim.Tenant.ID, ClientID: f.app.ClientID, HTTPClient: f.sim.HTTPClient(), Now: f.sim.Clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range keys {
			tok, err := db.Token(pid, key)
			if err != nil {
				t.Fatalf("round %d: %s: %v", round, key, err)
			}
			fresh, err := c.Refresh(testkit.Ctx(t), tok, "https://graph.microsoft.com/Calendars.ReadWrite")
			if err != nil {
				t.Fatalf("round %d (killed after %v): %s's stored refresh token is lost: %v", round, wait, key, err)
			}
			st := fresh.Stored()
			st.Scopes = tok.Scopes
			if err := db.PutToken(pid, key, st); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
	}

	if sweeps == 0 {
		t.Fatal("no child finished a sweep before it was killed: the test proved nothing")
	}
	t.Logf("children finished %d sweeps in all before being killed", sweeps)

	// A last, undisturbed sweep: every folder holds each mailbox item once.
	db, err := store.Open(path, store.Options{Now: f.sim.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f.db = db
	f.eng = monitor.New(db, monitor.Options{HTTPClient: f.sim.HTTPClient(), Now: f.sim.Clock.Now, Sleep: testkit.Sleep(f.sim)})
	f.sim.Clock.Advance(2 * time.Hour)
	f.sweep()
	for _, key := range keys {
		if j := f.job(key); j.State != store.StateOK {
			t.Errorf("%s: %s %v", key, j.State, j.LastError)
		}
		upn := f.userUPN(key)
		for _, fo := range []m365sim.Folder{m365sim.FolderContacts, m365sim.FolderTasks} {
			f.synced(key, upn, fo)
		}
		j := f.job(key)
		for folder, n := range j.Counts {
			items, _ := db.Items(pid, key, folder)
			if len(items) != n {
				t.Errorf("%s %s: job counts %d, store holds %d", key, folder, n, len(items))
			}
		}
	}
}

// signedInUsers stores n of the tenant's users with a mailbox, each
// signed in, keyed by their UPN's local part, and returns their keys.
func (f *fixture) signedInUsers(n int) []string {
	f.t.Helper()
	var keys []string
	for _, u := range f.sim.Tenant.Users {
		if u.HasMailbox && u.Enabled && len(keys) < n {
			key := strings.Split(u.UPN, "@")[0]
			f.user(key, u.UPN, store.MappingOK)
			f.signIn(key, u.UPN)
			keys = append(keys, key)
		}
	}
	return keys
}

func (f *fixture) userUPN(key string) string {
	u, err := f.db.User(pid, key)
	if err != nil {
		f.t.Fatal(err)
	}
	return u.UPN
}

// TestCrashChild is the process TestCrashDuringSweep kills: it sweeps
// without end, its clock (from the tests' start instant, which the child
// inherits through the environment) running 16 minutes ahead per sweep so
// every job is due and access tokens keep expiring (so refresh tokens
// rotate).
func TestCrashChild(t *testing.T) {
	path := os.Getenv("MODAUTH_CRASH_DB")
	if path == "" {
		t.Skip("runs only as the process TestCrashDuringSweep kills")
	}
	start, offset := testclock.Start(t), time.Duration(0)
	now := func() time.Time { return start.Add(offset) }
	db, err := store.Open(path, store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	eng := monitor.New(db, monitor.Options{Now: now, Concurrency: 4, ChunkSize: 3})
	for i := 0; ; i++ {
		if _, err := eng.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		offset += 16 * time.Minute
		t.Log("sweep done " + strconv.Itoa(i))
	}
}
