// The users step's screen: the table of product users with their Entra
// accounts and statuses, the fix for the selected one, and its forms.

package users

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

func usersStatusStyle(st common.Styles, m store.MappingStatus) lipgloss.Style {
	switch m {
	case store.MappingOK:
		return st.OK
	case store.MappingMismatch, store.MappingUnresolved:
		return st.Warn
	}
	return st.Error
}

// usersFix is what to do about a user, in a sentence.
func usersFix(u store.User, preset string) string {
	where := "in the product"
	if strings.HasPrefix(preset, "allsolutions") {
		where = "in the product (e.g. MGEBRU)"
	}
	onPrem := u.ResolvedBy == resolvedOnPrem
	switch u.Mapping {
	case store.MappingOK:
		if onPrem {
			return "OK: the service account opened this mailbox."
		}
		return fmt.Sprintf("OK: the account is the UPN; primary address %s.", usersOr(u.PrimarySMTP, u.UPN))
	case store.MappingNotFound:
		if onPrem {
			return "No mailbox on the Exchange server has this address: correct the Exchange account " + where + " or press e to edit it."
		}
		return "No Entra user has this address: correct the Exchange account " + where + " or press e to edit it."
	case store.MappingMismatch:
		how := "Found by alias"
		if u.ResolvedBy == exchange.ByMail {
			how = "Found by mail address"
		}
		return fmt.Sprintf("%s: the product should use the UPN %s (or keep it: modauth uses the UPN and primary address).", how, u.UPN)
	case store.MappingDisabled:
		return fmt.Sprintf("The Entra account %s is disabled: enable it in Entra ID and press r, or press d if the user left.", u.UPN)
	case store.MappingNoMailbox:
		return fmt.Sprintf("%s has no Exchange Online mailbox: assign a licence with Exchange and press r, or press d.", u.UPN)
	}
	return "Not resolved yet: press r to look every user up in Entra ID."
}

func usersOr(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// tally counts the users resolved ok, found by an alias, and still to fix.
func (s *Step) tally() (ok, mismatch, todo int) {
	for _, u := range s.users {
		switch u.Mapping {
		case store.MappingOK:
			ok++
		case store.MappingMismatch:
			mismatch++
		default:
			todo++
		}
	}
	return ok, mismatch, todo
}

// summaryText counts the users by status: "5 users: 1 ok, 1 mismatch, 3 to fix".
func (s *Step) summaryText() string {
	ok, mis, todo := s.tally()
	return fmt.Sprintf("%s: %d ok, %d mismatch, %d to fix", common.Count(len(s.users), "user"), ok, mis, todo)
}

// frameLines are the lines above and below the table.
func (s *Step) frameLines(c *common.Context) (top, bottom []string) {
	st := c.Styles
	w := c.Width
	title := "Map each product user to their Entra ID account (UPN)"
	if c.Profile.OnPremises {
		title = "Map each product user to their mailbox on the Exchange server"
	}
	top = []string{st.Bold.Render(title)}
	if len(s.users) > 0 {
		top = append(top, "") // the summary, once the rows are known
	}
	top = append(top, "")

	if s.run.Running() {
		if s.graph == nil {
			bottom = append(bottom, "resolving: getting an app-only token from Entra ID…")
		} else {
			via := ""
			if s.viaAdmin {
				via = " (with the admin's sign-in)"
			}
			bottom = append(bottom, ansi.Truncate(fmt.Sprintf("resolving %d/%d%s: %s · esc stops", s.next+1, len(s.users), via, s.users[s.next].Account), w, "…"))
		}
	}
	if u, ok := s.selected(); ok {
		bottom = append(bottom, common.WrapLines(usersStatusStyle(st, u.Mapping), u.Key+" · "+usersFix(u, c.Profile.Preset), w, 3)...)
	}
	if s.note != "" {
		style := st.OK
		switch s.noteKind {
		case "warn":
			style = st.Warn
		case "error":
			style = st.Error
		}
		bottom = append(bottom, common.WrapLines(style, s.note, w, 4)...)
	}
	if len(s.bad) > 0 {
		bottom = append(bottom, st.Error.Render(fmt.Sprintf("Nothing imported from %s: fix these lines and press i again.", s.badFile)))
		for _, r := range s.bad {
			bottom = append(bottom, ansi.Truncate(fmt.Sprintf("  line %d: %s", r.Line, r.Msg), w, "…"))
		}
	}

	return top, bottom
}

// usersMinRows is the least of the table that stays on screen.
const usersMinRows = 3

// layout works out how many table rows there is room for and keeps the
// cursor's row in view. It runs after every change and resize, so that
// View only draws.
func (s *Step) layout(c *common.Context) {
	if len(s.users) == 0 {
		return
	}
	top, bottom := s.frameLines(c)
	room := c.BodyHeight() - len(top) - 1 - 1
	rows := max(min(room-min(len(bottom), max(room-usersMinRows, 0)), len(s.users)), 1)
	s.win.Fit(rows, len(s.users))
}

func (s *Step) View(c *common.Context) string {
	if s.form != nil && s.mode != usersList {
		return s.formView(c)
	}
	if s.device != nil {
		return common.AdminCodeView(c, s.device, "look the users up in Entra ID: the app may not read users itself", "a user who may read users, e.g. Global Reader or User Administrator")
	}
	st, w := c.Styles, c.Width
	top, bottom := s.frameLines(c)
	h := c.BodyHeight()
	if len(s.users) == 0 {
		empty := common.WrapLines(st.Faint, "No users yet. Press i to import the product's user export (a CSV file with a header naming the key, name and Exchange account columns) or a to add a user by hand.", w, 4)
		out := append(append(top, empty...), "")
		return strings.Join(usersClip(append(out, bottom...), h), "\n")
	}

	room := h - len(top) - 1 - 1 // header and the blank line under the table
	if len(bottom) > room-usersMinRows {
		bottom = usersClip(bottom, max(room-usersMinRows, 0))
	}
	rows := max(min(s.win.Rows, len(s.users)), 1)
	top[1] = s.summaryLine(st)

	kw, aw, uw := usersColumns(w)
	out := top
	out = append(out, st.Faint.Render("  "+usersCell("Key", kw)+"  "+usersCell("Account as entered", aw)+"  "+usersCell("UPN", uw)+"  "+"Status"))
	for i := s.win.Offset; i < min(s.win.Offset+rows, len(s.users)); i++ {
		u := s.users[i]
		marker, cell := "  ", func(v string, n int) string { return usersCell(v, n) }
		if i == s.win.Cursor {
			marker = st.Selected.Render("› ")
			cell = func(v string, n int) string { return st.Bold.Render(usersCell(v, n)) }
		}
		upn := u.UPN
		if u.Mapping == store.MappingNotFound {
			upn = "—"
		}
		status := usersStatusStyle(st, u.Mapping).Render(usersStatus[u.Mapping])
		out = append(out, marker+cell(u.Key, kw)+"  "+cell(u.Account, aw)+"  "+cell(upn, uw)+"  "+status)
	}
	out = append(out, "")
	return strings.Join(append(out, bottom...), "\n")
}

// summaryLine is summaryText in colour, with the rows shown when the
// table scrolls.
func (s *Step) summaryLine(st common.Styles) string {
	ok, mis, todo := s.tally()
	line := common.Count(len(s.users), "user") + ": " + st.OK.Render(fmt.Sprintf("%d ok", ok)) + ", " +
		st.Warn.Render(fmt.Sprintf("%d mismatch", mis)) + ", "
	if todo > 0 {
		line += st.Error.Render(fmt.Sprintf("%d to fix", todo))
	} else {
		line += "0 to fix"
	}
	if s.win.Rows > 0 && s.win.Rows < len(s.users) {
		last := min(s.win.Offset+s.win.Rows, len(s.users))
		line += st.Faint.Render(fmt.Sprintf("  (rows %d-%d of %d)", s.win.Offset+1, last, len(s.users)))
	}
	return line
}

func (s *Step) formView(c *common.Context) string {
	st := c.Styles
	var title, enter string
	switch s.mode {
	case usersImport:
		title, enter = "Import the product's users from a CSV file", "enter imports"
	case usersAdd:
		title, enter = "Add a user", "enter: next field, then add"
	case usersEdit:
		u, _ := s.selected()
		who := u.Key
		if u.Name != "" {
			who += " (" + u.Name + ")"
		}
		title, enter = "Change the Exchange account of "+who, "enter saves; the user must be resolved again"
	}
	out := st.Bold.Render(title) + "\n\n" + s.form.View()
	if s.formErr != "" {
		out += "\n" + strings.Join(common.WrapLines(st.Error, "✗ "+s.formErr, c.Width, 4), "\n") + "\n"
	}
	if s.loading {
		out += "\n" + st.Faint.Render("reading the file…")
	}
	return out + "\n" + st.Faint.Render(enter+" · esc goes back to the list")
}

// usersColumns shares the width between key, account and UPN; status
// takes 10 cells, the marker 2 and the gaps 6.
func usersColumns(width int) (kw, aw, uw int) {
	rest := max(width-2-6-10-1, 30)
	kw = min(max(rest/5, 4), 16)
	aw = (rest - kw) / 2
	return kw, aw, rest - kw - aw
}

// usersCell fits v in n cells: cut with … or padded with spaces.
func usersCell(v string, n int) string {
	v = ansi.Truncate(v, n, "…")
	return v + strings.Repeat(" ", max(n-ansi.StringWidth(v), 0))
}

// usersClip keeps at most n lines, saying how many it left out.
func usersClip(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	if n <= 0 {
		return nil
	}
	out := append([]string{}, lines[:n-1]...)
	return append(out, "  … "+common.Count(len(lines)-n+1, "more line"))
}

var usersStatus = map[store.MappingStatus]string{
	store.MappingUnresolved: "unresolved",
	store.MappingOK:         "ok",
	store.MappingMismatch:   "mismatch",
	store.MappingNotFound:   "not found",
	store.MappingDisabled:   "disabled",
	store.MappingNoMailbox:  "no mailbox",
}
