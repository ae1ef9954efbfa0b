package monitor_test

import (
	"maps"
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// TestChangeCarriesTheRecordedRow: what a subscriber gets with each state
// event is the row the sweep stored (job, token metadata, item counts),
// never a refresh token, and a token the sweep did not need is read
// without unsealing it.
func TestChangeCarriesTheRecordedRow(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.delegatedProfile()
	f.user("AV", anna, store.MappingOK)
	f.signIn("AV", anna)
	f.user("CD", claire, store.MappingOK) // never signed in
	// An account gone from Entra ID after its sign-in was stored: its job
	// fails without the token being read.
	f.user("GH", "ghost@contoso.com", store.MappingNotFound)
	issued := f.sim.Clock.Now().Add(-40 * 24 * time.Hour)
	if err := f.db.PutToken(pid, "GH", store.Token{RefreshToken: "rt-ghost", Issued: issued, Scopes: graphScopes}); err != nil {
		t.Fatal(err)
	}
	ch, stop := f.eng.Subscribe()
	t.Cleanup(stop)
	unseals := f.db.Unseals()

	f.sweep()
	got := map[string]monitor.Change{}
	for len(ch) > 0 {
		c := <-ch
		if _, dup := got[c.Event.User]; dup {
			t.Errorf("two changes for %s", c.Event.User)
		}
		got[c.Event.User] = c
	}
	if len(got) != 3 {
		t.Fatalf("changes for %d users, want 3: %v", len(got), got)
	}
	for key, c := range got {
		if !c.Token.RefreshToken.IsZero() {
			t.Errorf("%s: the change carries the refresh token", key)
		}
		j := f.job(key)
		if c.Event.Kind != "state" || c.Event.State != j.State || c.Job.State != j.State || !c.Job.LastRun.Equal(j.LastRun) ||
			!c.Job.NextRun.Equal(j.NextRun) || c.Job.Failures != j.Failures || !maps.Equal(c.Job.Checkpoints, j.Checkpoints) {
			t.Errorf("%s: change %+v, stored job %+v", key, c, j)
		}
		counts, err := f.db.CountItems(pid, key)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(c.Counts, counts) && (len(c.Counts) > 0 || len(counts) > 0) {
			t.Errorf("%s: counts %v, stored %v", key, c.Counts, counts)
		}
	}
	if av := got["AV"]; av.Event.State != store.StateOK || av.Counts["contacts"] == 0 {
		t.Errorf("AV: %s with counts %v", av.Event.State, av.Counts)
	}

	meta, err := f.db.TokenMeta(pid)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]bool{"AV": true, "CD": false, "GH": true} {
		c := got[key]
		if c.HasToken != want {
			t.Errorf("%s: HasToken %v, want %v", key, c.HasToken, want)
			continue
		}
		m := meta[key]
		if !c.Token.Issued.Equal(m.Issued) || !c.Token.Refreshed.Equal(m.Refreshed) || !c.Token.AccessExpiry.Equal(m.AccessExpiry) {
			t.Errorf("%s: token %+v, stored %+v", key, c.Token, m)
		}
	}
	if !got["GH"].Token.Issued.Equal(issued) {
		t.Errorf("GH: token issued %v, want %v", got["GH"].Token.Issued, issued)
	}
	// AV's refresh token is unsealed to renew her access token; GH's is
	// read for the change without being unsealed.
	if n := f.db.Unseals() - unseals; n != 1 {
		t.Errorf("the sweep unsealed %d values, want 1 (AV's refresh token)", n)
	}
}
