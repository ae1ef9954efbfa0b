package monitor_test

import (
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// ewsBlockFixture is an app-only EWS profile of the preset on a clock
// standing at 30 September 2026, noon, in a tenant Microsoft's EWS
// disablement has reached.
func ewsBlockFixture(t *testing.T, preset string) *fixture {
	f := newFixture(t, m365sim.Options{Clock: m365sim.NewClockAt(time.Date(2026, 9, 30, 12, 0, 0, 0, time.UTC))})
	f.appOnlyEWS()
	p, err := f.db.Profile(pid)
	if err != nil {
		t.Fatal(err)
	}
	p.Preset = preset
	if err := f.db.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	f.sim.EWSDisablementReached(f.sim.Tenant, true)
	f.user("AV", anna, store.MappingOK)
	return f
}

// at moves the clock to t and sweeps.
func (f *fixture) sweepAt(t time.Time) store.Job {
	f.t.Helper()
	f.sim.Clock.Advance(t.Sub(f.sim.Clock.Now()))
	f.sweep()
	return f.job("AV")
}

// TestEWSBlockedAcrossTheDates: an app left out of EwsAllowedAppIDs is ok
// until 1 October 2026, then ews-blocked with the allow list's PowerShell,
// the date EWS ends anyway and the product's Graph way out; from 1 April
// 2027 the text says EWS is gone and only Graph remains. An allow-listed
// app stays ok until 1 April 2027.
func TestEWSBlockedAcrossTheDates(t *testing.T) {
	block := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	retired := time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)

	f := ewsBlockFixture(t, "allsolutions-online")
	if j := f.sweepAt(f.sim.Clock.Now()); j.State != store.StateOK {
		t.Fatalf("30 September 2026: %s %v", j.State, j.LastError)
	}
	j := f.sweepAt(block.Add(time.Minute))
	if j.State != store.StateEWSBlocked || j.LastError == nil || j.LastError.HTTPStatus != 403 {
		t.Fatalf("1 October 2026: %s %+v", j.State, j.LastError)
	}
	fix, ps := monitor.FixFor(j), strings.Join(j.LastError.PowerShell, "\n")
	for _, want := range []string{f.app.ClientID, "EwsAllowedAppIDs", "1 April 2027", "182 days left", "AllSolutions", "vendor"} {
		if !strings.Contains(fix, want) {
			t.Errorf("fix on 1 October 2026 lacks %q: %s", want, fix)
		}
	}
	if j.LastError.Meaning != "EWS blocked for this app in Exchange Online" {
		t.Errorf("meaning: %q", j.LastError.Meaning)
	}
	for _, want := range []string{"Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy | Format-List EwsEnabled, EwsAllowedAppIDs", "Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs"} {
		if !strings.Contains(ps, want) {
			t.Errorf("PowerShell lacks %q:\n%s", want, ps)
		}
	}
	j = f.sweepAt(retired.Add(24 * time.Hour))
	fix = monitor.FixFor(j)
	if j.State != store.StateEWSBlocked || !strings.Contains(j.LastError.Meaning, "switched off for good") ||
		!strings.Contains(fix, "no allow list") || strings.Contains(fix, "Set-OrganizationConfig") || len(j.LastError.PowerShell) != 0 {
		t.Errorf("2 April 2027: %s %q %q %v", j.State, j.LastError.Meaning, fix, j.LastError.PowerShell)
	}

	// Allow-listed in time: ok on the last day, blocked on 1 April 2027;
	// without a preset the Graph way is the profile's own protocol.
	f = ewsBlockFixture(t, "")
	f.sim.AllowEWS(f.sim.Tenant, f.app.ClientID)
	for _, at := range []time.Time{block.Add(time.Minute), retired.Add(-time.Hour)} {
		if j := f.sweepAt(at); j.State != store.StateOK {
			t.Fatalf("allow-listed on %s: %s %v", at, j.State, j.LastError)
		}
	}
	j = f.sweepAt(retired.Add(time.Minute))
	if fix := monitor.FixFor(j); j.State != store.StateEWSBlocked || !strings.Contains(fix, "protocol to Graph") || strings.Contains(fix, "EwsAllowedAppIDs") {
		t.Errorf("allow-listed on 1 April 2027: %s %q", j.State, fix)
	}
}
