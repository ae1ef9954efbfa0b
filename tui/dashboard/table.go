package tui

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// dashFilter is one of the views a key away: 1 all … 5 expiring.
type dashFilter int

const (
	filterAll dashFilter = iota
	filterFailing
	filterNoSyncID
	filterSignIn
	filterExpiring
	dashFilters
)

var dashFilterNames = [dashFilters]string{"all", "failing", "no sync-id", "sign-in needed", "expiring"}

const (
	// dashRTLimit is Entra ID's inactivity limit of a refresh token.
	dashRTLimit = 90 * 24 * time.Hour
	// dashRTExpiring puts a refresh token in the expiring filter.
	dashRTExpiring = 80 * 24 * time.Hour
	// dashRTWarn colours a refresh token's age.
	dashRTWarn = 60 * 24 * time.Hour
)

// match reports whether r belongs in filter f at now.
func (d *dashboard) match(f dashFilter, r *dashRow, now time.Time) bool {
	switch f {
	case filterFailing:
		return monitor.Failing(r.state())
	case filterNoSyncID:
		return r.items == 0
	case filterSignIn:
		return r.state() == store.StateSignInNeeded
	case filterExpiring:
		if !r.hasToken || d.appOnly() {
			return false
		}
		if t := r.rtSince(); !t.IsZero() && now.Sub(t) > dashRTExpiring {
			return true
		}
		return !r.token.AccessExpiry.IsZero() && !now.Before(r.token.AccessExpiry)
	}
	return true
}

func (d *dashboard) appOnly() bool { return d.profile.Model == store.AppOnly }

// inView reports whether r passes the filter and the search.
func (d *dashboard) inView(r *dashRow, now time.Time) bool {
	if !d.match(d.filter, r, now) {
		return false
	}
	return d.query == "" || strings.Contains(r.nameKey, d.query) || strings.Contains(r.upnKey, d.query)
}

// dashCol is a column of the table, in the order shown.
type dashCol int

const (
	colName dashCol = iota
	colUPN
	colState
	colLastOK
	colSyncID
	colItems
	colAccess
	colRTAge
	colError
	dashCols
)

type dashColSpec struct {
	title string
	width int // the least; name, UPN and last error grow
	right bool
}

var dashColSpecs = [dashCols]dashColSpec{
	colName:   {title: "Name", width: 12}, // name, UPN: the least for
	colUPN:    {title: "UPN", width: 22},  // adding columns; they grow
	colState:  {title: "State", width: 14},
	colLastOK: {title: "Last ok", width: 8},
	colSyncID: {title: "Sync-id", width: 8},
	colItems:  {title: "Items", width: 6, right: true},
	colAccess: {title: "Access", width: 7},
	colRTAge:  {title: "RT age", width: 7, right: true},
	colError:  {title: "Last error", width: 14},
}

// dashOptional are the columns added, in this order, as the width allows:
// name, UPN, state, last success and sync-id are always there.
var dashOptional = []dashCol{colItems, colAccess, colRTAge, colError}

type dashColumn struct {
	col   dashCol
	width int
}

const dashGap = 2 // cells between columns; the cursor marker takes 2 too

// dashLayout picks the columns that fit in width and shares out the rest
// between name, UPN and last error.
func dashLayout(width int) []dashColumn {
	cols := []dashCol{colName, colUPN, colState, colLastOK, colSyncID}
	used := func(cs []dashCol) int {
		n := 2 + dashGap*(len(cs)-1)
		for _, c := range cs {
			n += dashColSpecs[c].width
		}
		return n
	}
	for _, c := range dashOptional {
		if used(append(cols[:len(cols):len(cols)], c)) <= width {
			cols = append(cols, c)
		}
	}
	slices.Sort(cols)
	hasErr := cols[len(cols)-1] == colError
	flex := width - used(cols) + dashColSpecs[colName].width + dashColSpecs[colUPN].width
	name, upn, errw := 0, 0, 0
	if hasErr {
		flex += dashColSpecs[colError].width
		errw = max(flex*30/100, dashColSpecs[colError].width)
		name = min(max(flex*25/100, 10), 28)
		upn = flex - errw - name
		if upn > 44 {
			errw += upn - 44
			upn = 44
		}
	} else {
		name = min(max(flex*35/100, 6), 28)
		upn = max(min(flex-name, 44), 6)
	}
	out := make([]dashColumn, len(cols))
	for i, c := range cols {
		w := dashColSpecs[c].width
		switch c {
		case colName:
			w = name
		case colUPN:
			w = upn
		case colError:
			w = errw
		}
		out[i] = dashColumn{c, w}
	}
	return out
}

// cmpCol orders two rows by one column.
func (d *dashboard) cmpCol(a, b *dashRow, c dashCol) int {
	switch c {
	case colName:
		return strings.Compare(a.nameKey, b.nameKey)
	case colUPN:
		return strings.Compare(a.upnKey, b.upnKey)
	case colState:
		return cmp.Compare(dashStateRank(a.state()), dashStateRank(b.state()))
	case colLastOK:
		return a.job.LastSuccess.Compare(b.job.LastSuccess)
	case colSyncID, colItems:
		if c == colSyncID {
			return cmp.Compare(min(a.items, 1), min(b.items, 1))
		}
		return cmp.Compare(a.items, b.items)
	case colAccess:
		return a.token.AccessExpiry.Compare(b.token.AccessExpiry)
	case colRTAge:
		// Older first is "greater": ascending is youngest first, rows
		// without a refresh token first of all.
		ta, tb := a.rtSince(), b.rtSince()
		switch {
		case ta.IsZero() || tb.IsZero():
			return cmp.Compare(boolInt(!ta.IsZero()), boolInt(!tb.IsZero()))
		}
		return tb.Compare(ta)
	case colError:
		return strings.Compare(a.errLine, b.errLine)
	}
	return 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cmpRows is the view's total order: the sort column, then the name, then
// the load order, reversed as a whole by S.
func (d *dashboard) cmpRows(a, b int) int {
	ra, rb := &d.rows[a], &d.rows[b]
	c := d.cmpCol(ra, rb, d.sortCol)
	if c == 0 && d.sortCol != colName {
		c = strings.Compare(ra.nameKey, rb.nameKey)
	}
	if c == 0 {
		c = cmp.Compare(a, b)
	}
	if d.desc {
		return -c
	}
	return c
}

// dashStateRank sorts states from well to worst.
func dashStateRank(s store.JobState) int {
	switch s {
	case store.StateOK:
		return 0
	case store.StateNeverSynced:
		return 1
	case store.StateThrottled:
		return 2
	case store.StateUnreachable:
		return 3
	case store.StateConsentNeeded:
		return 4
	case store.StateSignInNeeded:
		return 5
	case store.StateSecretExpired:
		return 6
	case store.StateUPNInvalid:
		return 7
	case store.StateNoMailbox:
		return 8
	}
	return 9
}

func (d *dashboard) markDirty() {
	if !d.dirty {
		if i := d.selectedRowFast(); i >= 0 {
			d.selKey = d.rows[i].user.Key
		}
	}
	d.dirty = true
}

// selectedRowFast is selectedRow without rebuilding a dirty view.
func (d *dashboard) selectedRowFast() int {
	if d.dirty || d.cursor < 0 || d.cursor >= len(d.view) {
		return -1
	}
	return d.view[d.cursor]
}

// clock reads the injected clock (Options.Now).
func (d *dashboard) clock() time.Time { return d.nowFn() }

// ensureView rebuilds the view when it is dirty, and the expiring filter
// once a minute, since it depends on the time.
func (d *dashboard) ensureView() {
	now := d.clock()
	if !d.dirty && d.filter == filterExpiring && now.Sub(d.viewAt) >= time.Minute {
		d.markDirty()
	}
	if d.dirty {
		d.rebuild(now)
	}
}

// rebuild filters and sorts the rows into the view and counts each
// filter, keeping the cursor on the same user when it is still there.
func (d *dashboard) rebuild(now time.Time) {
	sel := -1
	if i, ok := d.byKey[d.selKey]; ok && d.selKey != "" {
		sel = i
	}
	d.counts = [dashFilters]int{}
	d.view = d.view[:0]
	for i := range d.rows {
		r := &d.rows[i]
		for f := range dashFilters {
			if d.match(f, r, now) {
				d.counts[f]++
			}
		}
		if d.inView(r, now) {
			d.view = append(d.view, i)
		}
	}
	slices.SortFunc(d.view, d.cmpRows)
	d.dirty, d.viewAt, d.selKey = false, now, ""
	if sel >= 0 {
		if p := slices.Index(d.view, sel); p >= 0 {
			d.cursor = p
		}
	}
	d.cursor = max(min(d.cursor, len(d.view)-1), 0)
}

// replaceRow puts a re-read row in place of row i. While the view is clean
// it is kept so: the filter counts change by one, and the row leaves or
// enters the view, or moves, by binary search, only when its membership or
// its sort key changed.
func (d *dashboard) replaceRow(i int, r dashRow) {
	if d.dirty {
		d.rows[i] = r
		return
	}
	old := &d.rows[i]
	now := d.viewAt
	for f := range dashFilters {
		if d.match(f, old, now) {
			d.counts[f]--
		}
		if d.match(f, &r, now) {
			d.counts[f]++
		}
	}
	wasIn, isIn := d.inView(old, now), d.inView(&r, now)
	same := d.cmpCol(old, &r, d.sortCol) == 0 && old.nameKey == r.nameKey
	if wasIn == isIn && (!wasIn || same) {
		d.rows[i] = r
		return
	}
	sel := d.selectedRowFast()
	if wasIn {
		p, found := slices.BinarySearchFunc(d.view, i, d.cmpRows)
		if !found || d.view[p] != i {
			p = slices.Index(d.view, i)
		}
		if p >= 0 {
			d.view = slices.Delete(d.view, p, p+1)
			if p < d.cursor {
				d.cursor--
			}
		}
	}
	d.rows[i] = r
	if isIn {
		q, _ := slices.BinarySearchFunc(d.view, i, d.cmpRows)
		d.view = slices.Insert(d.view, q, i)
		switch {
		case sel == i:
			d.cursor = q
		case q <= d.cursor && sel >= 0:
			d.cursor++
		}
	}
	d.cursor = max(min(d.cursor, len(d.view)-1), 0)
}

// setQuery applies a search. A query that contains the last one can only
// narrow the view, so it filters the view in place, keeping its order.
func (d *dashboard) setQuery(q string) {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == d.query {
		return
	}
	if d.dirty || d.query == "" || !strings.Contains(q, d.query) {
		d.markDirty()
		d.query = q
		return
	}
	sel := d.selectedRowFast()
	d.query = q
	keep := d.view[:0]
	for _, i := range d.view {
		r := &d.rows[i]
		if strings.Contains(r.nameKey, q) || strings.Contains(r.upnKey, q) {
			if i == sel {
				d.cursor = len(keep)
			}
			keep = append(keep, i)
		}
	}
	d.view = keep
	d.cursor = max(min(d.cursor, len(d.view)-1), 0)
}

func (d *dashboard) setFilter(f dashFilter) {
	if f != d.filter {
		d.filter = f
		d.markDirty()
	}
}

// cycleSort moves the sort to the next column on screen.
func (d *dashboard) cycleSort() {
	cols := dashLayout(max(d.width, 1))
	next := cols[0].col
	for i, c := range cols {
		if c.col == d.sortCol {
			next = cols[(i+1)%len(cols)].col
		}
	}
	if next == d.sortCol {
		return
	}
	d.sortCol, d.desc = next, false
	d.markDirty()
}

// dashPaint is a style's escape codes around a text, taken once per frame
// from lipgloss: rendering each cell through lipgloss costs more than the
// rest of a frame together.
type dashPaint struct{ open, close string }

// dashInk names the paints a cell can have.
type dashInk int

const (
	inkPlain dashInk = iota
	inkOK
	inkWarn
	inkError
	inkFaint
	inkBold // the cursor row's plain cells
	inkSelected
	dashInks
)

type dashPaints [dashInks]dashPaint
