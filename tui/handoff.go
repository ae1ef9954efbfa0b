package tui

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// The hand-off sheet at the end of the setup: what the product's own
// settings screen needs, masked on screen; the file the person saves
// holds the secret's value, 0600.

var handOffKeys = struct{ Show, Save key.Binding }{
	Show: key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "hand-off sheet")),
	Save: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "save it with the secret")),
}

// handOffSavedMsg reports the saved sheet.
type handOffSavedMsg struct {
	path string
	err  error
}

// handOff is the profile's sheet.
func (m *Model) handOff() appreg.HandOff {
	p := m.c.Profile
	in := appreg.HandOffInput{Tenant: conn.Tenant(p), NeedsSecret: p.OnPremises}
	if plan, err := conn.Plan(p); err == nil && plan != nil {
		in.NeedsSecret = in.NeedsSecret || plan.NeedsSecret
	}
	if cs, err := m.c.DB.ClientSecret(p.ID); err == nil {
		in.Secret = cs.Value
	}
	if users, err := m.c.DB.Users(p.ID); err == nil && len(users) > 0 {
		in.Mailbox = conn.Mailbox(users[0])
	}
	return appreg.NewHandOff(p, in)
}

// handOffView is the sheet as the screen shows it: the secret masked. The
// sheet is made once, when h is pressed (it reads the store and unseals
// the secret), never per frame.
func (m *Model) handOffView() string {
	var b bytes.Buffer
	_ = m.sheet.WriteText(&b, false)
	st := m.c.Styles
	// Each line stays a line, its columns kept; a long value (an endpoint)
	// goes on below rather than being cut at the frame's edge.
	lines := common.CodeLines(b.String(), m.c.Width-1)
	return st.Bold.Render("Hand-off: enter these in the product") + "\n\n" + strings.Join(lines, "\n") + "\n\n" +
		st.Faint.Render(common.Wrap("s saves the sheet with the secret's value to a file only you can read; enter opens the dashboard.", m.c.Width-1))
}

// saveHandOff writes the sheet, the secret's value in it, to a 0600 file.
func (m *Model) saveHandOff() tea.Cmd {
	h, path := *m.sheet, m.c.SavePath(m.c.Profile.ID+"-handoff.txt")
	return func() tea.Msg {
		err := store.WriteExport(path, func(w io.Writer) error { return h.WriteText(w, true) })
		return handOffSavedMsg{path: path, err: err}
	}
}

// handOffSaved says where the sheet went.
func (m *Model) handOffSaved(msg handOffSavedMsg) tea.Cmd {
	if msg.err != nil {
		return common.ErrCmd(fmt.Errorf("save the hand-off sheet: %w", msg.err))
	}
	return func() tea.Msg {
		return common.NoteMsg{Text: "✓ Saved to " + msg.path + " (readable by you only; it holds the secret's value: delete it once the product has it)"}
	}
}
