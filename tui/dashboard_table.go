package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

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

// View draws the body: the search box, the filter line, the table and the
// detail pane, in the frame's body height.
func (d *dashboard) View(c *Context) string {
	d.width = c.Width
	d.nowFn = c.Now
	d.ensureView()
	st, w, h := &c.Styles, c.Width, c.bodyHeight()
	now := d.clock()

	var top []string
	if d.searching {
		d.search.SetWidth(max(w-4, 10))
		top = append(top, d.search.View())
	}
	if d.sweepErr != nil {
		msg := "Microsoft could not be reached: " + firstLine(d.sweepErr)
		if !d.lastOK.IsZero() {
			msg += "; showing data from " + dashAgo(now, d.lastOK)
		}
		top = append(top, st.Warn.Render(ansi.Truncate(msg, w, "…")))
	}

	var sel *dashRow
	if i := d.selectedRowFast(); i >= 0 {
		sel = &d.rows[i]
	}
	if d.detail && sel != nil && h < 28 {
		// No room for both: the detail pane takes the table's place.
		lines := append(top, d.detailLines(c, sel, now, w)...)
		return strings.Join(dashClip(lines, h), "\n")
	}
	room := h - len(top)
	var detail []string
	if d.detail && sel != nil {
		// The table keeps half the room, less if it needs less.
		table := min(2+len(d.view), room/2)
		detail = dashClip(d.detailLines(c, sel, now, w), room-table-1)
		room -= len(detail) + 1
	}
	out := append(top, d.table(c, now, room)...)
	if len(detail) > 0 {
		out = append(append(out, ""), detail...)
	}
	return strings.Join(out, "\n")
}

// table draws the filter line, the column titles and the rows that fit in
// room lines. Only those rows are rendered.
func (d *dashboard) table(c *Context, now time.Time, room int) []string {
	st, w := &c.Styles, c.Width
	cols := dashLayout(w)
	rows := max(room-2, 1)
	d.pageRows = rows
	if d.cursor < d.offset {
		d.offset = d.cursor
	}
	if d.cursor >= d.offset+rows {
		d.offset = d.cursor - rows + 1
	}
	d.offset = max(min(d.offset, len(d.view)-rows), 0)

	out := make([]string, 0, rows+2)
	out = append(out, d.statusLine(st, w))
	if len(d.rows) == 0 {
		return append(out, "", st.Faint.Render("No users in this profile yet."))
	}
	var hb strings.Builder
	hb.WriteString("  ")
	for i, col := range cols {
		if i > 0 {
			hb.WriteString(strings.Repeat(" ", dashGap))
		}
		spec := dashColSpecs[col.col]
		title := spec.title
		style := st.Faint
		if col.col == d.sortCol {
			title += d.arrow()
			style = st.Bold
		}
		hb.WriteString(style.Render(dashCell(title, col.width, spec.right)))
	}
	out = append(out, hb.String())
	if len(d.view) == 0 {
		return append(out, st.Faint.Render("  No user matches."))
	}
	paints := newDashPaints(st)
	for p := d.offset; p < min(d.offset+rows, len(d.view)); p++ {
		out = append(out, d.rowLine(paints, &d.rows[d.view[p]], cols, now, p == d.cursor))
	}
	return out
}

func (d *dashboard) arrow() string {
	if d.desc {
		return "▼"
	}
	return "▲"
}

// statusLine names the filter with its count, the search and the sort,
// and which rows are on screen.
func (d *dashboard) statusLine(st *Styles, w int) string {
	left := st.Bold.Render(fmt.Sprintf("%s: %d of %d", dashFilterNames[d.filter], d.counts[d.filter], len(d.rows)))
	if d.query != "" {
		left += " · " + fmt.Sprintf("search %q: %d", d.query, len(d.view))
	}
	if !slices.ContainsFunc(dashLayout(w), func(c dashColumn) bool { return c.col == d.sortCol }) {
		// The sort column is not on screen at this width: say what it is.
		left += st.Faint.Render(" · sort " + strings.ToLower(dashColSpecs[d.sortCol].title) + " " + d.arrow())
	}
	right := ""
	if d.pageRows > 0 && len(d.view) > d.pageRows {
		right = st.Faint.Render(fmt.Sprintf("rows %d-%d of %d", d.offset+1, min(d.offset+d.pageRows, len(d.view)), len(d.view)))
	}
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right)
	if right == "" || gap < 2 {
		return ansi.Truncate(left, w, "…")
	}
	return left + strings.Repeat(" ", gap) + right
}

// dashPaint is a style's escape codes around a text, taken once per frame
// from lipgloss: rendering each cell through lipgloss costs more than the
// rest of a frame together.
type dashPaint struct{ open, close string }

func newDashPaint(s lipgloss.Style) dashPaint {
	out := s.Render("X")
	i := strings.IndexByte(out, 'X')
	if i < 0 {
		return dashPaint{}
	}
	return dashPaint{open: out[:i], close: out[i+1:]}
}

func (p dashPaint) write(b *strings.Builder, s string) {
	b.WriteString(p.open)
	b.WriteString(s)
	b.WriteString(p.close)
}

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

func newDashPaints(st *Styles) *dashPaints {
	return &dashPaints{
		inkOK: newDashPaint(st.OK), inkWarn: newDashPaint(st.Warn), inkError: newDashPaint(st.Error),
		inkFaint: newDashPaint(st.Faint), inkBold: newDashPaint(st.Bold), inkSelected: newDashPaint(st.Selected),
	}
}

// rowLine renders one user.
func (d *dashboard) rowLine(p *dashPaints, r *dashRow, cols []dashColumn, now time.Time, cursor bool) string {
	var b strings.Builder
	b.Grow(d.width + 96)
	plain := inkPlain
	if cursor {
		p[inkSelected].write(&b, "› ")
		plain = inkBold
	} else {
		b.WriteString("  ")
	}
	for i, col := range cols {
		if i > 0 {
			b.WriteString("  ")
		}
		text, ink := d.cellText(r, col.col, now)
		if ink == inkPlain {
			ink = plain
		}
		p[ink].write(&b, dashCell(text, col.width, dashColSpecs[col.col].right))
	}
	return b.String()
}

// cellText is one cell's text and its colour.
func (d *dashboard) cellText(r *dashRow, c dashCol, now time.Time) (string, dashInk) {
	switch c {
	case colName:
		return r.name(), inkPlain
	case colUPN:
		return r.upn(), inkPlain
	case colState:
		return dashStateLabel(r.state()), dashStateInk(r.state())
	case colLastOK:
		return dashAgo(now, r.job.LastSuccess), inkPlain
	case colSyncID:
		if r.items > 0 {
			return "✓", inkOK
		}
		return "✗", inkError
	case colItems:
		return strconv.Itoa(r.items), inkPlain
	case colAccess:
		if d.appOnly() || !r.hasToken || r.token.AccessExpiry.IsZero() {
			return "—", inkFaint
		}
		if !now.Before(r.token.AccessExpiry) {
			return "expired", inkWarn
		}
		return "in " + dashIn(now, r.token.AccessExpiry, 1), inkPlain
	case colRTAge:
		t := r.rtSince()
		if d.appOnly() || t.IsZero() {
			return "—", inkFaint
		}
		age := now.Sub(t)
		text := strconv.Itoa(int(age/(24*time.Hour))) + "d"
		switch {
		case age > dashRTExpiring:
			return text, inkError
		case age > dashRTWarn:
			return text, inkWarn
		}
		return text, inkPlain
	case colError:
		if r.errLine == "" {
			return "", inkPlain
		}
		return r.errLine, inkError
	}
	return "", inkPlain
}

// dashStateInk colours a state in the table, as dashStateStyle does.
func dashStateInk(s store.JobState) dashInk {
	switch s {
	case store.StateOK:
		return inkOK
	case store.StateNeverSynced, store.StateThrottled:
		return inkWarn
	}
	return inkError
}

// dashStateStyle colours a state: ok green, never synced and throttled
// amber, the rest red.
func dashStateStyle(st *Styles, s store.JobState) *lipgloss.Style {
	switch s {
	case store.StateOK:
		return &st.OK
	case store.StateNeverSynced, store.StateThrottled:
		return &st.Warn
	}
	return &st.Error
}

// dashStateLabel is the state as the table shows it, in 14 cells.
func dashStateLabel(s store.JobState) string {
	if s == store.StateNoMailbox {
		return "no-mailbox"
	}
	return string(s)
}

// dashCell fits v in n cells: cut with … or padded with spaces.
func dashCell(v string, n int, right bool) string {
	w := dashWidth(v)
	if w > n {
		if w == len(v) { // ASCII: a cell is a byte
			v = v[:max(n-1, 0)] + "…"
		} else {
			v = ansi.Truncate(v, n, "…")
		}
		w = dashWidth(v)
	}
	pad := max(n-w, 0)
	if pad == 0 {
		return v
	}
	if right {
		return strings.Repeat(" ", pad) + v
	}
	return v + strings.Repeat(" ", pad)
}

// dashWidth is ansi.StringWidth with a fast path for printable ASCII,
// which most names and addresses are.
func dashWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

// dashClip keeps at most n lines, saying how many it left out.
func dashClip(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	if n <= 0 {
		return nil
	}
	return append(lines[:n-1:n-1], "  … "+usersN(len(lines)-n+1, "more line"))
}

// dashAgo is how long ago t was: "3m ago", "never".
func dashAgo(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < time.Minute {
		return "just now"
	}
	return dashDur(d, 1) + " ago"
}

// dashIn is the time left until t, to the second: a countdown shows 4m
// until the last second of the fourth minute has begun, not 3m.
func dashIn(now, t time.Time, parts int) string {
	return dashDur(t.Sub(now).Round(time.Second), parts)
}

// dashDur writes a duration in its largest unit, or its two largest with
// parts 2: "4m", "23d 4h", "12m 5s".
func dashDur(d time.Duration, parts int) string {
	if d < 0 {
		d = 0
	}
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	var out []string
	for i, u := range units {
		if d < u.size && len(out) == 0 && i < len(units)-1 {
			continue
		}
		n := d / u.size
		d -= n * u.size
		out = append(out, strconv.FormatInt(int64(n), 10)+u.name)
		if len(out) == parts {
			break
		}
	}
	return strings.Join(out, " ")
}
