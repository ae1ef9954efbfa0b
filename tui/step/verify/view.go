// The connection test's screen: each protocol's result, its fix and the
// Exchange PowerShell that solves it, scrolled when it is long.

package verify

import (
	"fmt"
	"strings"
	"time"

	"github.com/modauth/modauth/tui/common"

	"github.com/modauth/modauth/store"
)

func verifyName(p store.Protocol) string {
	if n, ok := verifyNames[p]; ok {
		return n
	}
	return string(p)
}

func verifyDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// verifyMaxOffset is how far n lines scroll in h: a line of h tells
// where the view is once they do not fit.
func verifyMaxOffset(n, h int) int {
	if n <= h {
		return 0
	}
	return n - (h - 1)
}

func (s *Step) regionHeight(c *common.Context) int {
	return max(c.BodyHeight()-verifyHeadLines-verifyFootLines, 3)
}

// region renders the results, one protocol after the other; at is the
// line where the first PowerShell starts, or -1.
func (s *Step) region(c *common.Context) (lines []string, at int) {
	st := c.Styles
	at = -1
	if !s.ran {
		var names []string
		for _, p := range c.Profile.Protocols {
			names = append(names, verifyName(p))
		}
		if len(names) == 0 {
			return []string{st.Warn.Render("The profile has no protocols to test: choose them in step 1.")}, -1
		}
		how := "a token, then one real request per protocol"
		if c.Profile.OnPremises {
			how = "the service account opens this user's mailbox"
		}
		return strings.Split(common.Wrap("Tests "+strings.Join(names, ", ")+" of "+c.Profile.ID+" with this user's access, as the sync will: "+how+
			". Nothing is changed in the mailbox.", c.Width-2), "\n"), -1
	}
	indent := strings.Repeat(" ", verifyResultIndent)
	width := max(c.Width-verifyResultIndent-1, 20)
	sub := func(style func(...string) string, text string) {
		for _, l := range strings.Split(common.Wrap(text, width), "\n") {
			lines = append(lines, indent+style(l))
		}
	}
	for _, r := range s.results {
		name := common.PadRight(verifyName(r.proto), 6)
		switch {
		case !r.done:
			lines = append(lines, st.Faint.Render("… "+name+"  "+common.PadRight("", 7)+"  testing…"))
		case r.ok:
			first := strings.Split(common.Wrap(r.what, width), "\n")
			lines = append(lines, st.OK.Render("✓")+" "+st.Bold.Render(name)+"  "+common.PadRight(verifyDuration(r.took), 7)+"  "+first[0])
			for _, l := range first[1:] {
				lines = append(lines, indent+l)
			}
		default:
			first := strings.Split(common.Wrap(r.err, width), "\n")
			lines = append(lines, st.Error.Render("✗")+" "+st.Bold.Render(name)+"  "+common.PadRight(verifyDuration(r.took), 7)+"  "+first[0])
			for _, l := range first[1:] {
				lines = append(lines, indent+l)
			}
			if r.fix != "" {
				sub(st.Warn.Render, "Fix: "+r.fix)
			}
			switch {
			case len(r.ps) > 0 && s.showPS:
				if at < 0 {
					at = len(lines)
				}
				lines = append(lines, common.PowerShellLines(c, r.ps, verifyPSIndent, " (c copies it)")...)
			case len(r.ps) > 0:
				lines = append(lines, indent+st.Faint.Render("p shows the Exchange PowerShell for this."))
			}
		}
	}
	return lines, at
}

func (s *Step) View(c *common.Context) string {
	st := c.Styles
	if s.form != nil {
		return st.Bold.Render(common.Wrap("Prove the app's scope: modauth sends as a mailbox outside the product's, from it to itself, and expects Exchange to refuse.", c.Width-1)) +
			"\n\n" + s.form.View()
	}
	var b strings.Builder
	switch {
	case !s.loaded:
		b.WriteString(st.Faint.Render("Reading the users…") + "\n\n")
	case s.loadErr != nil:
		b.WriteString(st.Error.Render("✗ "+common.FirstLine(s.loadErr)) + "\n\n")
	case len(s.users) == 0:
		b.WriteString(st.Warn.Render("No user can be tested yet.") + "\n\n")
	default:
		u := s.users[s.cursor]
		mailbox := u.PrimarySMTP
		if mailbox == "" {
			mailbox = u.Account
		}
		name := u.Name
		if name == "" {
			name = u.Key
		}
		pos := ""
		if len(s.users) > 1 {
			pos = st.Faint.Render(fmt.Sprintf("   ↑/↓ %d of %d", s.cursor+1, len(s.users)))
		}
		b.WriteString("Test as  " + st.Selected.Render(name) + "  " + mailbox + pos + "\n\n")
	}

	var region []string
	if s.loaded && len(s.users) == 0 {
		what := "A user must have signed in (the consent step) before the connection can be tested."
		if c.Profile.Model == store.AppOnly || c.Profile.OnPremises {
			what = "A user's mailbox must be resolved (the users step) before the connection can be tested."
		}
		region = strings.Split(common.Wrap(what+" esc goes back; enter finishes without a test.", c.Width-2), "\n")
	} else {
		region, _ = s.region(c)
	}
	h := s.regionHeight(c)
	off := min(max(s.offset, 0), verifyMaxOffset(len(region), h))
	shown := region
	if len(region) > h {
		shown = region[off:min(off+h-1, len(region))]
		shown = append(shown, st.Faint.Render(fmt.Sprintf("── lines %d–%d of %d · pgdn/pgup scroll ──", off+1, off+len(shown), len(region))))
	}
	b.WriteString(strings.Join(shown, "\n"))
	for range h - len(shown) {
		b.WriteString("\n")
	}
	b.WriteString("\n\n")

	n, failed := len(s.results), s.Failed()
	switch {
	case s.note != "":
		b.WriteString(st.OK.Render(s.note))
	case s.pending > 0:
		b.WriteString(st.Faint.Render(fmt.Sprintf("Testing %d of %d protocols…", s.pending, n)))
	case !s.ran && len(s.users) > 0 && len(c.Profile.Protocols) > 0:
		b.WriteString("t or enter tests the connection as this user.")
	case !s.ran:
	case failed == 0:
		works := fmt.Sprintf("✓ All %d protocols work.", n)
		if n == 1 {
			works = "✓ " + verifyName(s.results[0].proto) + " works."
		}
		msg := works + " enter finishes the setup."
		switch {
		case s.sends && s.appOnly:
			msg = works + " enter finishes · s test mail · o scope proof"
		case s.sends:
			msg = works + " enter finishes · s sends a test mail"
		}
		b.WriteString(st.OK.Render(msg))
	default:
		msg := fmt.Sprintf("✗ %d of %d failed. r tests again; enter continues anyway.", failed, n)
		if s.hasPS() && !s.showPS {
			msg = fmt.Sprintf("✗ %d of %d failed. p shows the PowerShell; r tests again.", failed, n)
		}
		b.WriteString(st.Error.Render(msg))
	}
	return b.String()
}
