package dashboard

import (
	"slices"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/modauth/modauth/internal/testclock"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// The view kept by small steps (the first search character narrowing the
// whole list, a reverse flipping the sorted view) is the view a rebuild
// makes, with the cursor on the same user.
func TestViewStepsEqualRebuild(t *testing.T) {
	now := testclock.Start(t)
	c := &common.Context{Width: 120, Height: 40, Dark: true, Styles: common.NewStyles(true)}
	c.Now = func() time.Time { return now }
	d := newDashboardRows(c, dashBenchRows(1000, now))
	d.SetSize(c)
	press := func(r rune) { d.Update(c, tea.KeyPressMsg{Code: r, Text: string(r)}) }
	under := func() string { return d.rows[d.view[d.win.Cursor]].user.Key }
	check := func(step, before string) {
		t.Helper()
		got := slices.Clone(d.view)
		if k := under(); before != "" && k != before {
			t.Fatalf("%s: cursor moved from %s to %s", step, before, k)
		}
		d.markDirty()
		d.sorted.valid, d.countsStale = false, true // a rebuild from nothing
		d.ensureView()
		if !slices.Equal(got, d.view) {
			t.Fatalf("%s: the view differs from a rebuild's", step)
		}
	}
	d.win.Cursor = 400
	for _, step := range []struct {
		name string
		keys string
	}{{"reverse by name", "S"}, {"sort by the next column", "s"}, {"reverse with ties", "S"}, {"reverse back", "S"}, {"first search character", "/1"}, {"second", "2"}} {
		before := under()
		if d.searching || step.keys[0] == '/' {
			before = "" // a search may take the user away
		}
		for _, r := range step.keys {
			press(r)
		}
		check(step.name, before)
	}
}

// TestViewCachesFollowTheRows: the counts and the sorted order kept
// between keys follow a row that changes, on the clean path and the dirty
// one: what a filter shows and counts is what counting afresh gives.
func TestViewCachesFollowTheRows(t *testing.T) {
	now := testclock.Start(t)
	c := &common.Context{Width: 120, Height: 40, Dark: true, Styles: common.NewStyles(true)}
	c.Now = func() time.Time { return now }
	d := newDashboardRows(c, dashBenchRows(1000, now))
	d.SetSize(c)
	press := func(r rune) { d.Update(c, tea.KeyPressMsg{Code: r, Text: string(r)}) }
	afresh := func(f dashFilter) (view []int, count int) {
		for i := range d.rows {
			if d.match(f, &d.rows[i], now) {
				view = append(view, i)
			}
		}
		slices.SortFunc(view, d.cmpRows)
		return view, len(view)
	}
	check := func(step string, f dashFilter) {
		t.Helper()
		d.ensureView()
		view, n := afresh(f)
		if !slices.Equal(d.view, view) || d.counts[f] != n {
			t.Fatalf("%s: %d shown and %d counted, want %d", step, len(d.view), d.counts[f], n)
		}
	}
	press('2')
	check("failing", filterFailing)
	failing := d.view[0]
	ok := d.rows[failing]
	ok.job.State = store.StateOK
	d.replaceRow(failing, ok) // clean: moved out of the view by itself
	press('1')
	press('2')
	check("after a row got well", filterFailing)

	d.markDirty()
	for i := range d.rows {
		if d.rows[i].job.State == store.StateOK {
			sick := d.rows[i]
			sick.job.State = store.StateSignInNeeded
			d.replaceRow(i, sick) // dirty: counted again at the next rebuild
			break
		}
	}
	press('4')
	check("after a row fell ill while dirty", filterSignIn)
	press('s')
	press('2')
	check("another sort", filterFailing)
}
