// The dashboard's table drawn: only the rows on screen, each cell fitted
// to its column, coloured by state.

package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modauth/modauth/tui/common"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/modauth/modauth/store"
)

// View draws the body: the search box, the filter line, the table and the
// detail pane, in the frame's body height.
func (d *dashboard) View(c *common.Context) string {
	d.width = c.Width
	d.nowFn = c.Now
	d.ensureView()
	st, w, h := &c.Styles, c.Width, c.BodyHeight()
	now := d.clock()

	var top []string
	if d.searching {
		d.search.SetWidth(max(w-4, 10))
		top = append(top, d.search.View())
	}
	if d.sweepErr != nil {
		msg := "Microsoft could not be reached: " + common.FirstLine(d.sweepErr)
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
func (d *dashboard) table(c *common.Context, now time.Time, room int) []string {
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
func (d *dashboard) statusLine(st *common.Styles, w int) string {
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

func newDashPaints(st *common.Styles) *dashPaints {
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
func dashStateStyle(st *common.Styles, s store.JobState) *lipgloss.Style {
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
	return append(lines[:n-1:n-1], "  … "+common.Count(len(lines)-n+1, "more line"))
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
