package monitor_test

import (
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// TestStateTransitions walks one delegated user through the state model
// (monitor/state.go): a state changes only when a job runs, each change
// is one event, and a sweep with nothing due runs nothing and changes
// nothing.
func TestStateTransitions(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.delegatedProfile()
	f.user("AV", anna, store.MappingOK)
	f.user("CD", claire, store.MappingOK) // skips the sign-in for good

	steps := []struct {
		name   string
		before func()
		want   store.JobState
		ran    bool // AV's job ran
	}{
		{"no sign-in yet", nil, store.StateSignInNeeded, true},
		{"nothing due", func() {}, store.StateSignInNeeded, false},
		{"signed in", func() { f.next(); f.signIn("AV", anna) }, store.StateOK, true},
		{"nothing due after ok", func() {}, store.StateOK, false},
		{"sessions revoked", func() {
			f.sim.RevokeSessions(f.sim.Tenant.User(anna))
			f.sim.Clock.Advance(2 * time.Hour) // the access token is spent: a refresh is due
		}, store.StateSignInNeeded, true},
		{"signed in again", func() { f.next(); f.signIn("AV", anna) }, store.StateOK, true},
		{"Microsoft down", func() { f.next(); f.sim.FailNext("/", 1000, 503) }, store.StateUnreachable, true},
	}
	for i, s := range steps {
		if s.before != nil {
			s.before()
		}
		if i == 0 {
			if _, err := f.db.Job(pid, "AV"); err == nil {
				t.Fatal("a job before any sweep")
			}
		}
		var lastRun time.Time
		if j, err := f.db.Job(pid, "AV"); err == nil {
			lastRun = j.LastRun
		}
		sum := f.sweep()
		if got := f.job("AV").State; got != s.want {
			t.Fatalf("%s: AV is %s, want %s (%v)", s.name, got, s.want, f.job("AV").LastError)
		}
		if ran := f.job("AV").LastRun.After(lastRun); ran != s.ran || (sum.Jobs() > 0) != s.ran || sum.Users != 2 || sum.States[s.want] == 0 {
			t.Fatalf("%s: AV ran %v, summary %+v; want ran %v of 2 users", s.name, ran, sum, s.ran)
		}
		if cd := f.job("CD").State; cd != store.StateSignInNeeded && cd != store.StateUnreachable {
			t.Fatalf("%s: CD, who never signed in, is %s", s.name, cd)
		}
	}
	// The event log holds one state event per change, in order.
	logged, err := f.db.Events(pid, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var states []store.JobState
	for _, ev := range logged {
		if ev.User == "AV" && ev.Kind == "state" {
			states = append(states, ev.State)
		}
	}
	want := []store.JobState{store.StateSignInNeeded, store.StateOK, store.StateSignInNeeded, store.StateOK, store.StateUnreachable}
	if len(states) != len(want) {
		t.Fatalf("state events %v, want %v", states, want)
	}
	for i := range want {
		if states[i] != want[i] {
			t.Fatalf("state events %v, want %v", states, want)
		}
	}
}

func TestFailingMeansNeitherOKNorNeverSynced(t *testing.T) {
	for st, want := range map[store.JobState]bool{
		store.StateOK: false, store.StateNeverSynced: false, "": false,
		store.StateSignInNeeded: true, store.StateConsentNeeded: true, store.StateSecretExpired: true, store.StateUPNInvalid: true,
		store.StateNoMailbox: true, store.StateThrottled: true, store.StateUnreachable: true, store.StateDamaged: true,
	} {
		if monitor.Failing(st) != want {
			t.Errorf("Failing(%q) = %v", st, !want)
		}
		if _, ok := monitor.Fixes[st]; !ok && st != "" {
			t.Errorf("no fix for %s", st)
		}
	}
}
