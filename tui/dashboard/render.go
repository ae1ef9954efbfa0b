// The dashboard's table drawn: only the rows on screen, each cell fitted
// to its column, coloured by state.

package dashboard

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modauth/modauth/tui/common"

	"github.com/charmbracelet/x/ansi"
)

// SetSize fits the dashboard to the frame's body: the column layout, the
// search box and the table's page.
func (d *Model) SetSize(c *common.Context) {
	d.width = c.Width
	d.search.SetWidth(max(c.Width-4, 10))
	d.layout(c)
}

// topLines are the lines above the table: the profiles' summary, the
// search box and, after a sweep that could not reach Microsoft, how old
// the data is.
func (d *Model) topLines(c *common.Context, now time.Time) []string {
	var top []string
	if d.bar != "" {
		top = append(top, d.bar)
	}
	if d.searching {
		top = append(top, d.search.View())
	}
	if d.sweepErr != nil {
		msg := "Microsoft could not be reached: " + common.FirstLine(d.sweepErr)
		if !d.lastOK.IsZero() {
			msg += "; showing data from " + dashAgo(now, d.lastOK)
		}
		top = append(top, c.Styles.Warn.Render(ansi.Truncate(msg, c.Width, "…")))
	}
	return append(top, d.productLines(c, now)...)
}

// detailInstead reports whether the detail pane takes the table's place:
// there is no room for both.
func detailInstead(c *common.Context) bool { return c.BodyHeight() < 28 }

// layout works out what the frames draw until the next change: the
// view, the table's rows, the detail pane's room below it and the page
// that keeps the cursor on screen. Update and SetSize call it; View only
// reads what it set.
func (d *Model) layout(c *common.Context) {
	d.ensureView()
	now := c.Now()
	room := c.BodyHeight() - len(d.topLines(c, now))
	sel := d.selectedRowFast()
	d.detailRoom = 0
	if d.detail && sel >= 0 {
		if detailInstead(c) {
			return // no table: its page stays as it was
		}
		// The table keeps half the room, less if it needs less.
		table := min(2+len(d.view), room/2)
		d.detailRoom = max(room-table-1, 0)
		n := min(len(d.detailLines(c, &d.rows[sel], now, c.Width)), d.detailRoom)
		room -= n + 1
	}
	rows := max(room-2, 1)
	d.win.Fit(rows, len(d.view))
}

// View draws the body: the search box, the filter line, the table and the
// detail pane, in the frame's body height.
func (d *Model) View(c *common.Context) string {
	w, h, now := c.Width, c.BodyHeight(), c.Now()
	top := d.topLines(c, now)
	var sel *dashRow
	if i := d.selectedRowFast(); i >= 0 {
		sel = &d.rows[i]
	}
	if d.detail && sel != nil && detailInstead(c) {
		lines := append(top, d.detailLines(c, sel, now, w)...)
		return strings.Join(dashClip(lines, h), "\n")
	}
	var detail []string
	if d.detail && sel != nil {
		detail = dashClip(d.detailLines(c, sel, now, w), d.detailRoom)
	}
	out := append(top, d.table(c, now)...)
	if len(detail) > 0 {
		out = append(append(out, ""), detail...)
	}
	return strings.Join(out, "\n")
}

// table draws the filter line, the column titles and the rows of the
// page layout chose. Only those rows are rendered.
func (d *Model) table(c *common.Context, now time.Time) []string {
	st, w := &c.Styles, c.Width
	cols := dashLayout(w, d.productColumns())
	rows := max(d.win.Rows, 1)

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
	for p := d.win.Offset; p < min(d.win.Offset+rows, len(d.view)); p++ {
		out = append(out, d.rowLine(paints, &d.rows[d.view[p]], cols, now, p == d.win.Cursor))
	}
	return out
}

func (d *Model) arrow() string {
	if d.desc {
		return "▼"
	}
	return "▲"
}

// statusLine names the filter with its count, the search and the sort,
// and which rows are on screen.
func (d *Model) statusLine(st *common.Styles, w int) string {
	left := st.Bold.Render(fmt.Sprintf("%s: %d of %d", dashFilterNames[d.filter], d.counts[d.filter], len(d.rows)))
	if d.query != "" {
		left += " · " + fmt.Sprintf("search %q: %d", d.query, len(d.view))
	}
	if !slices.ContainsFunc(dashLayout(w, d.productColumns()), func(c dashColumn) bool { return c.col == d.sortCol }) {
		// The sort column is not on screen at this width: say what it is.
		left += st.Faint.Render(" · sort " + strings.ToLower(dashColSpecs[d.sortCol].title) + " " + d.arrow())
	}
	right := ""
	if d.win.Rows > 0 && len(d.view) > d.win.Rows {
		right = st.Faint.Render(fmt.Sprintf("rows %d-%d of %d", d.win.Offset+1, min(d.win.Offset+d.win.Rows, len(d.view)), len(d.view)))
	}
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right)
	if right == "" || gap < 2 {
		return ansi.Truncate(left, w, "…")
	}
	return left + strings.Repeat(" ", gap) + right
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
