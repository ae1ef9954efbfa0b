package monitor_test

import (
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

const productScope = "https://graph.microsoft.com/Calendars.ReadWrite offline_access"

// TestProductSignInsPerUser plays the product beside modauth: it signs two
// users in with the same app, one of them is revoked; the sweep reads the
// log through the monitoring app and records per user the product's last
// success and failure, leaving modauth's own sign-ins out, and reads only
// what is new the next time.
func TestProductSignInsPerUser(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.delegatedProfile()
	f.monitorApp()
	f.user("AV", anna, store.MappingOK)
	f.user("BJ", bram, store.MappingOK)
	f.user("CD", claire, store.MappingOK)
	f.signIn("AV", anna) // modauth's own sign-in: its refreshes are not the product's

	product := testkit.Product{Sim: f.sim, ClientID: f.app.ClientID}
	rtA, err := product.SignInUser(anna, productScope)
	if err != nil {
		t.Fatal(err)
	}
	rtB, err := product.SignInUser(bram, productScope)
	if err != nil {
		t.Fatal(err)
	}
	f.sim.Clock.Advance(time.Minute)
	if rtA, err = product.Refresh(rtA, productScope); err != nil {
		t.Fatal(err)
	}
	f.sim.RevokeSessions(f.sim.Tenant.User(bram))
	if _, err := product.Refresh(rtB, productScope); err == nil {
		t.Fatal("a revoked refresh token still works")
	}
	f.sim.Clock.Advance(time.Minute)
	f.sweep()

	recs, err := f.db.ProductSignIns(pid)
	if err != nil {
		t.Fatal(err)
	}
	a, b := recs["AV"], recs["BJ"]
	if a.LastOK.IsZero() || a.Failing() {
		t.Errorf("anna: %+v, want the product's success", a)
	}
	if !b.Failing() || b.LastFailure.Code != 50173 || b.LastFailure.Meaning == "" || b.LastFailure.Fix == "" {
		t.Errorf("bram: %+v, want failing with AADSTS50173, its meaning and fix", b.LastFailure)
	}
	if _, ok := recs["CD"]; ok {
		t.Error("claire never signed in to the product, but has a record")
	}
	if want := annaSignIns(f.sim, false); len(a.Recent) != want {
		t.Errorf("anna has %d recent sign-ins, want the %d that are not modauth's own (%d are)", len(a.Recent), want, annaSignIns(f.sim, true))
	}
	log, err := f.db.SignInLog(pid)
	if err != nil || log.Unavailable != "" || log.ReadAt.IsZero() {
		t.Fatalf("sign-in log state %+v, %v", log, err)
	}

	// Incremental: the next read adds only the new sign-in.
	f.sim.Clock.Advance(6 * time.Minute)
	if _, err = product.Refresh(rtA, productScope); err != nil {
		t.Fatal(err)
	}
	before := len(a.Recent)
	f.sim.Clock.Advance(time.Minute)
	f.sweep()
	recs, _ = f.db.ProductSignIns(pid)
	if got := len(recs["AV"].Recent); got != min(before+1, 5) || !recs["AV"].LastOK.After(a.LastOK) {
		t.Errorf("after one more sign-in: %d recent (was %d), last ok %v (was %v)", got, before, recs["AV"].LastOK, a.LastOK)
	}
}

// annaSignIns counts anna's sign-ins in the simulator's log: modauth's
// own, or the others.
func annaSignIns(sim *m365sim.Sim, own bool) int {
	n := 0
	for _, s := range sim.SignIns() {
		if s.UPN == anna && flows.OwnRequest(s.CorrelationID) == own {
			n++
		}
	}
	return n
}

// Without Entra ID P1 the log cannot be read: one line says why, the
// records read before stay, and the sweep goes on.
func TestProductSignInsWithoutPremium(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.delegatedProfile()
	f.monitorApp()
	f.user("AV", anna, store.MappingOK)
	f.signIn("AV", anna)
	f.sim.SetPremium(f.sim.Tenant, false)
	sum := f.sweep()
	log, err := f.db.SignInLog(pid)
	if err != nil || !strings.Contains(log.Unavailable, "P1") {
		t.Fatalf("unavailable %q, %v: want the licence named", log.Unavailable, err)
	}
	if sum.States[store.StateOK] != 1 {
		t.Errorf("the sweep's own checks must go on: %+v", sum.States)
	}
}

// Without a monitoring app nothing is read or written: the screens say so
// from the profile.
func TestProductSignInsNeedTheMonitoringApp(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.delegatedProfile()
	f.user("AV", anna, store.MappingOK)
	f.signIn("AV", anna)
	f.sweep()
	if n := f.sim.Requests("/auditLogs/signIns"); n != 0 {
		t.Errorf("%d sign-in log requests without a monitoring app", n)
	}
}
