// The table's cells: each fitted to its column and painted by state,
// with escape codes taken once per frame.

package dashboard

import (
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

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
func (d *Model) rowLine(p *dashPaints, r *dashRow, cols []dashColumn, now time.Time, cursor bool) string {
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
func (d *Model) cellText(r *dashRow, c dashCol, now time.Time) (string, dashInk) {
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
		switch {
		case !d.keepsSyncIDs():
			return "—", inkFaint // sign-in probes only: nothing to sync
		case r.items > 0:
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
	case colProduct, colProdOK, colProdFail:
		return productCell(r, c, now)
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

// stateLabels shorten the states longer than the table's 14 cells; the
// detail pane and the summaries use the full name.
var stateLabels = map[store.JobState]string{
	store.StateNoMailbox:        "no-mailbox",
	store.StateMailRefused:      "mail-refused",
	store.StateMailboxDenied:    "mailbox-denied",
	store.StateSMTPAuthDisabled: "smtp-auth-off",
	store.StateBlockedByPolicy:  "policy-blocked",
	store.StateAuthNotOffered:   "no-auth-method",
	store.StateProxyLoginPage:   "proxy-login",
	store.StateUnexpected:       "odd-answer",
}

// dashStateLabel is the state as the table shows it, in 14 cells.
func dashStateLabel(s store.JobState) string {
	if l, ok := stateLabels[s]; ok {
		return l
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
