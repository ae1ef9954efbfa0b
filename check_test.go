package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/store"
)

// seedStore writes a profile whose secret expires in `left`, with users in
// the given states, into a fresh data directory.
func seedStore(t *testing.T, left time.Duration, states ...store.JobState) string {
	t.Helper()
	dir, now := t.TempDir(), testClock(t)
	db, err := store.Open(filepath.Join(dir, "modauth.db"), store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PutProfile(store.Profile{ID: "acme-production", Customer: "Acme", ClientID: "c"}); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		if err := db.SetClientSecret("acme-production", store.ClientSecret{Value: "s3cret-value-x", KeyID: "k", Expiry: now().Add(left), ExpirySource: store.ExpiryGraph}); err != nil {
			t.Fatal(err)
		}
	}
	jobs := map[string]store.Job{}
	for i, st := range states {
		key := string(rune('a' + i))
		if err := db.PutUsers("acme-production", store.User{Key: key, Account: key + "@contoso.com"}); err != nil {
			t.Fatal(err)
		}
		jobs[key] = store.Job{State: st}
	}
	if err := db.PutJobs("acme-production", jobs); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCheckExitCodes(t *testing.T) {
	day := 24 * time.Hour
	cases := []struct {
		name   string
		dir    func(t *testing.T) string
		code   int
		prefix string
	}{
		{"ok", func(t *testing.T) string { return seedStore(t, 90*day, store.StateOK, store.StateOK) }, 0, "MODAUTH OK - 1 profile(s), 2 user(s) ok, secret acme-production expires in 90 days |"},
		{"secret within warn", func(t *testing.T) string { return seedStore(t, 20*day, store.StateOK) }, 1, "MODAUTH WARNING"},
		{"users need a sign-in", func(t *testing.T) string { return seedStore(t, 90*day, store.StateOK, store.StateSignInNeeded) }, 1, "MODAUTH WARNING"},
		{"a user's data is damaged", func(t *testing.T) string { return seedStore(t, 90*day, store.StateOK, store.StateDamaged) }, 1, "MODAUTH WARNING"},
		{"secret within crit", func(t *testing.T) string { return seedStore(t, 3*day, store.StateOK) }, 2, "MODAUTH CRITICAL"},
		{"secret expired", func(t *testing.T) string { return seedStore(t, -day, store.StateSecretExpired) }, 2, "MODAUTH CRITICAL"},
		{"no store", func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing", "deeper\x00") }, 3, "MODAUTH UNKNOWN"},
		{"no profiles", emptyStore, 3, "MODAUTH UNKNOWN - no profiles yet in "},
		{"no database", func(t *testing.T) string { return t.TempDir() }, 3, "MODAUTH UNKNOWN - no database at "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _, done := run(t, context.Background(), "check", "--data-dir", c.dir(t))
			err := <-done
			if got := exitCode(err); got != c.code {
				t.Errorf("exit %d, want %d (%v)\n%s", got, c.code, err, out)
			}
			if !strings.HasPrefix(out.String(), c.prefix) {
				t.Errorf("output %q, want prefix %q", out.String(), c.prefix)
			}
			if strings.Contains(out.String(), "s3cret-value-x") {
				t.Error("the secret is in the output")
			}
		})
	}
}

func TestCheckPerfdataAndJSON(t *testing.T) {
	dir := seedStore(t, 45*24*time.Hour, store.StateOK, store.StateNeverSynced)
	out, _, done := run(t, context.Background(), "check", "--data-dir", dir, "--warn", "60d", "--crit", "10d")
	if code := exitCode(<-done); code != 1 {
		t.Errorf("exit %d: 45 days left is within --warn 60d", code)
	}
	if !strings.Contains(out.String(), "'secret_days_acme-production'=45;60;10") || !strings.Contains(out.String(), "'users_never_synced'=1") {
		t.Errorf("perfdata: %s", out)
	}
	out, _, done = run(t, context.Background(), "check", "--data-dir", dir, "--json")
	<-done
	var res checkResult
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil || res.State != "OK" || res.Status != 0 {
		t.Errorf("json %q: %+v %v", out, res, err)
	}
	_, _, done = run(t, context.Background(), "check", "--data-dir", dir, "--warn", "soon")
	if code := exitCode(<-done); code != 3 {
		t.Errorf("bad --warn: exit %d, want 3 (UNKNOWN)", code)
	}
}
