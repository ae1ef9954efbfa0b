package dashboard

import (
	"slices"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/modauth/modauth/internal/testclock"
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
