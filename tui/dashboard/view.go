// The view over the rows: filtered, searched and sorted, kept so by
// small steps as rows change, and rebuilt only when it must be.

package dashboard

import (
	"slices"
	"strings"
	"time"
)

func (d *Model) markDirty() {
	if !d.dirty {
		if i := d.selectedRowFast(); i >= 0 {
			d.selKey = d.rows[i].user.Key
		}
	}
	d.dirty = true
}

// selectedRowFast is selectedRow without rebuilding a dirty view.
func (d *Model) selectedRowFast() int {
	if d.dirty || d.win.Cursor < 0 || d.win.Cursor >= len(d.view) {
		return -1
	}
	return d.view[d.win.Cursor]
}

// clock reads the injected clock (Options.Now).
func (d *Model) clock() time.Time { return d.nowFn() }

// ensureView rebuilds the view when it is dirty, and the expiring filter
// once a minute, since it depends on the time.
func (d *Model) ensureView() {
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
func (d *Model) rebuild(now time.Time) {
	sel := -1
	if i, ok := d.byKey[d.selKey]; ok && d.selKey != "" {
		sel = i
	}
	// The counts change with the rows (and, for the expiring filter, the
	// time), not with the filter, search or sort: a key that only changes
	// those does not count 100,000 rows six times again.
	recount := d.countsStale || now.Sub(d.countsAt) >= time.Minute
	if recount {
		d.counts, d.countsStale, d.countsAt = [dashFilters]int{}, false, now
	}
	if recount {
		for i := range d.rows {
			for f := range dashFilters {
				if d.match(f, &d.rows[i], now) {
					d.counts[f]++
				}
			}
		}
	}
	// Every row in the sort's order is kept while the rows and the sort
	// stay: a filter or a search then only picks from it, in order.
	if !d.sorted.valid || d.sorted.col != d.sortCol || d.sorted.desc != d.desc {
		d.sorted.rows = d.sorted.rows[:0]
		for i := range d.rows {
			d.sorted.rows = append(d.sorted.rows, i)
		}
		slices.SortFunc(d.sorted.rows, d.cmpRows)
		d.sorted.valid, d.sorted.col, d.sorted.desc = true, d.sortCol, d.desc
	}
	d.view = d.view[:0]
	for _, i := range d.sorted.rows {
		if d.inView(&d.rows[i], now) {
			d.view = append(d.view, i)
		}
	}
	d.dirty, d.viewAt, d.selKey = false, now, ""
	if sel >= 0 {
		if p := slices.Index(d.view, sel); p >= 0 {
			d.win.Cursor = p
		}
	}
	d.win.Cursor = max(min(d.win.Cursor, len(d.view)-1), 0)
}

// replaceRow puts a re-read row in place of row i. While the view is clean
// it is kept so: the filter counts change by one, and the row leaves or
// enters the view, or moves, by binary search, only when its membership or
// its sort key changed.
func (d *Model) replaceRow(i int, r dashRow) {
	d.sorted.valid = false // its sort key may have changed
	if d.dirty {
		d.rows[i] = r
		d.countsStale = true
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
			if p < d.win.Cursor {
				d.win.Cursor--
			}
		}
	}
	d.rows[i] = r
	if isIn {
		q, _ := slices.BinarySearchFunc(d.view, i, d.cmpRows)
		d.view = slices.Insert(d.view, q, i)
		switch {
		case sel == i:
			d.win.Cursor = q
		case q <= d.win.Cursor && sel >= 0:
			d.win.Cursor++
		}
	}
	d.win.Cursor = max(min(d.win.Cursor, len(d.view)-1), 0)
}

// setQuery applies a search. A query that contains the last one (every
// query contains none) can only narrow the view, so it filters the view
// in place, keeping its order: the first character typed sorts nothing.
func (d *Model) setQuery(q string) {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == d.query {
		return
	}
	if d.dirty || !strings.Contains(q, d.query) {
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
				d.win.Cursor = len(keep)
			}
			keep = append(keep, i)
		}
	}
	d.view = keep
	d.win.Cursor = max(min(d.win.Cursor, len(d.view)-1), 0)
}

// reverse flips the sort. The order is total (ties fall to the name, then
// the row's place) and descending is its exact negation, so a built view
// is reversed in place, the cursor on the same user, not sorted again.
func (d *Model) reverse() {
	d.desc = !d.desc
	if d.sorted.valid && d.sorted.col == d.sortCol {
		slices.Reverse(d.sorted.rows)
		d.sorted.desc = d.desc
	}
	if d.dirty {
		return
	}
	slices.Reverse(d.view)
	d.win.Cursor = max(len(d.view)-1-d.win.Cursor, 0)
}

func (d *Model) setFilter(f dashFilter) {
	if f != d.filter {
		d.filter = f
		d.markDirty()
	}
}

// cycleSort moves the sort to the next column on screen.
func (d *Model) cycleSort() {
	cols := dashLayout(max(d.width, 1), d.productColumns())
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
