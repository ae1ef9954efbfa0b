// The table's filters and columns: what a row matches, how wide a
// column is at a width, and how rows sort.

package dashboard

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
	filterProductFailing
	dashFilters
)

var dashFilterNames = [dashFilters]string{"all", "failing", "no sync-id", "sign-in needed", "expiring", "product failing"}

const (
	// dashRTLimit is Entra ID's inactivity limit of a refresh token.
	dashRTLimit = 90 * 24 * time.Hour
	// dashRTExpiring puts a refresh token in the expiring filter.
	dashRTExpiring = 80 * 24 * time.Hour
	// dashRTWarn colours a refresh token's age.
	dashRTWarn = 60 * 24 * time.Hour
)

// match reports whether r belongs in filter f at now.
func (d *Model) match(f dashFilter, r *dashRow, now time.Time) bool {
	switch f {
	case filterFailing:
		return monitor.Failing(r.state())
	case filterNoSyncID:
		return r.items == 0 && d.keepsSyncIDs()
	case filterSignIn:
		return r.state() == store.StateSignInNeeded
	case filterProductFailing:
		return r.product.Failing()
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

func (d *Model) appOnly() bool { return d.profile.Model == store.AppOnly }

// keepsSyncIDs reports whether the profile syncs items (Graph, EWS): a
// profile of mail protocols only proves sign-ins and keeps no sync-ids.
func (d *Model) keepsSyncIDs() bool {
	ps := d.profile.Protocols
	return len(ps) == 0 || slices.Contains(ps, store.Graph) || slices.Contains(ps, store.EWS)
}

// inView reports whether r passes the filter and the search.
func (d *Model) inView(r *dashRow, now time.Time) bool {
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
	colProduct // the product's own sign-ins, when its monitoring app reads them: in one cell
	colProdOK  // or, where there is room, in two
	colProdFail
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
	// The product's own sign-ins, when its monitoring app reads them.
	colProduct:  {title: "Prod.", width: 6},
	colProdOK:   {title: "Prod ok", width: 8},
	colProdFail: {title: "Prod fail", width: 11},
}

// dashOptional are the columns added, in this order, as the width allows:
// name, UPN, state, last success and sync-id are always there.
var dashOptional = []dashCol{colItems, colAccess, colRTAge, colError}

// dashProductOptional come first when the product's sign-ins are read:
// its failures are the truest answer to whose sync is broken. Narrow
// screens get them in one cell, wide ones in two.
var (
	dashProductOptional     = []dashCol{colProduct, colItems, colAccess, colRTAge, colError}
	dashProductOptionalWide = []dashCol{colProdOK, colProdFail, colItems, colAccess, colRTAge, colError}
)

// dashProductWide is the width from which the product gets two columns.
const dashProductWide = 100

type dashColumn struct {
	col   dashCol
	width int
}

const dashGap = 2 // cells between columns; the cursor marker takes 2 too

// dashLayout picks the columns that fit in width and shares out the rest
// between name, UPN and last error. With product set (the product's
// sign-ins are read) its columns come first, and name and UPN give up a
// few of their least cells for them.
func dashLayout(width int, product bool) []dashColumn {
	cols := []dashCol{colName, colUPN, colState, colLastOK, colSyncID}
	optional, squeeze := dashOptional, 0
	switch {
	case product && width >= dashProductWide:
		optional = dashProductOptionalWide
	case product:
		optional, squeeze = dashProductOptional, 6
	}
	used := func(cs []dashCol) int {
		n := 2 + dashGap*(len(cs)-1) - squeeze
		for _, c := range cs {
			n += dashColSpecs[c].width
		}
		return n
	}
	for _, c := range optional {
		if used(append(cols[:len(cols):len(cols)], c)) <= width {
			cols = append(cols, c)
		}
	}
	slices.Sort(cols)
	hasErr := slices.Contains(cols, colError)
	flex := width - used(cols) - squeeze + dashColSpecs[colName].width + dashColSpecs[colUPN].width
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
		name = min(max(flex*35/100, min(12, flex/2), 6), 28) // a first and last name, where it can
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
func (d *Model) cmpCol(a, b *dashRow, c dashCol) int {
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
	case colProdOK:
		return a.product.LastOK.Compare(b.product.LastOK)
	case colProdFail, colProduct:
		return cmp.Compare(boolInt(a.product.Failing()), boolInt(b.product.Failing()))
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
func (d *Model) cmpRows(a, b int) int {
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

// stateRank ranks each state from well to worst, the reverse of
// monitor.States, which orders every summary and sort.
var stateRank = func() map[store.JobState]int {
	r := make(map[store.JobState]int, len(monitor.States))
	for i, s := range monitor.States {
		r[s] = len(monitor.States) - 1 - i
	}
	return r
}()

// dashStateRank sorts states from well to worst; a state monitor.States
// does not know (a newer program's) sorts as the worst.
func dashStateRank(s store.JobState) int {
	if r, ok := stateRank[s]; ok {
		return r
	}
	return len(monitor.States)
}
