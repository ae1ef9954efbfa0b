// Package sheet is the hand-off sheet as a component, the same at the end
// of the setup and on the dashboard: the fields of the product's own
// settings screen, in its words and order, each copyable (OSC 52); the
// whole sheet savable, the secret's value in it, to a file only its owner
// can read; and the value of a secret modauth made shown once, on request.
package sheet

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// Keys are the sheet's bindings; esc (leaving it) is the frame's.
var Keys = struct{ Move, Copy, Show, Hide, Save key.Binding }{
	Move: key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑↓", "field")),
	Copy: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy")),
	Show: key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "show secret")),
	Hide: key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "hide secret")),
	Save: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "save")),
}

// Sheet is one profile's hand-off sheet. It holds the secret's value
// while it is open (for the file, and for the one showing) and draws it
// only while that showing lasts.
type Sheet struct {
	profile store.Profile // as stored when opened, and its showing since
	h       appreg.HandOff
	handed  conn.Handed // the secret the sheet hands over
	secret  int         // the secret field's index, or -1
	cursor  int
	showing bool // the secret's value is on the screen now

	// Laid out by SetSize and Update, drawn by View.
	top, fields, bottom []string
	spans               [][2]int // each field's lines within fields
	offset, room        int
}

// shownMsg is the store's answer to a showing: the value may be shown
// (err nil), and copied instead when copy is set.
type shownMsg struct {
	at   time.Time
	copy bool
	err  error
}

// Open reads profile id's sheet from the store: the profile as it is now
// (whether its secret was shown), the secret's value unsealed once.
func Open(c *common.Context, id string) (*Sheet, error) {
	p, err := c.DB.Profile(id)
	if err != nil {
		return nil, fmt.Errorf("hand-off sheet: %w", err)
	}
	h, handed := conn.HandOff(c.DB, p)
	s := &Sheet{profile: p, h: h, handed: handed, secret: -1}
	for i, f := range s.h.Fields {
		if f.Secret {
			s.secret = i
		}
	}
	return s, nil
}

// Path is where the saved sheet goes.
func (s *Sheet) Path(c *common.Context) string { return c.SavePath(s.profile.ID + "-handoff.txt") }

// Update handles a key or the store's answer to a showing.
func (s *Sheet) Update(c *common.Context, msg tea.Msg) tea.Cmd {
	defer s.SetSize(c)
	switch msg := msg.(type) {
	case shownMsg:
		return s.shown(msg)
	case tea.KeyPressMsg:
		if cursor, ok := common.MoveCursor(msg, s.cursor, len(s.h.Fields), s.room); ok {
			s.cursor = cursor
			return nil
		}
		switch {
		case key.Matches(msg, Keys.Show) && s.showing:
			s.showing = false // for good: the store says it was shown
			return nil
		case key.Matches(msg, Keys.Show):
			return s.show(c, false)
		case key.Matches(msg, Keys.Copy):
			return s.copyField(c)
		case key.Matches(msg, Keys.Save):
			return common.AskCmd("Save the sheet with "+s.holds()+" to "+s.Path(c)+"? Only you can read the file.", "Save", "Don't", s.save(c))
		}
	}
	return nil
}

// show asks first, then marks the secret shown in the store and shows or
// copies it: the mark comes before the value, so that no failure or
// restart allows a second time.
func (s *Sheet) show(c *common.Context, copy bool) tea.Cmd {
	if msg, ok := s.refusal(); !ok {
		return note(msg, true)
	}
	id, keyID := s.profile.ID, s.handed.KeyID
	q, yes := "This is the only time it is shown: copy it into "+s.h.Product+"'s settings now. Show the secret?", "Show"
	if copy {
		q, yes = "This is the only time it can be copied: paste it into "+s.h.Product+"'s settings now. Copy the secret?", "Copy"
	}
	return common.AskCmd(q, yes, "Not now", func() tea.Msg {
		at, err := c.DB.MarkSecretShown(id, keyID)
		return shownMsg{at: at, copy: copy, err: err}
	})
}

// refusal says why the secret's value cannot be shown; ok when it can.
func (s *Sheet) refusal() (msg string, ok bool) {
	p := s.profile
	switch {
	case s.secret < 0:
		return "this product takes no secret", false
	case s.h.Fields[s.secret].Value == "":
		return "no secret's value is stored for " + p.ID + ": rotate for a new one", false
	case !s.handed.Created:
		return "you entered this secret yourself: its value is not shown; save the sheet to a file (s) if the product needs it", false
	case s.wasShown():
		return "the secret was " + s.shownOn() + "; save the sheet to a file (s) or rotate for a new one", false
	}
	return "", true
}

// wasShown reports whether the value of the secret handed over was shown
// once already.
func (s *Sheet) wasShown() bool {
	return !s.profile.SecretShown.IsZero() && s.profile.SecretShownKeyID == s.handed.KeyID
}

func (s *Sheet) shownOn() string {
	return "shown once on " + s.profile.SecretShown.Format("2 January 2006 15:04")
}

// shown takes the store's answer: the value is shown, or copied, now.
func (s *Sheet) shown(msg shownMsg) tea.Cmd {
	if msg.err != nil {
		return common.ErrCmd(msg.err)
	}
	s.profile.SecretShown, s.profile.SecretShownKeyID = msg.at, s.handed.KeyID
	if msg.copy {
		return s.copy(s.h.Fields[s.secret])
	}
	s.showing = true
	return nil
}

// copyField copies the field under the cursor; the secret's value only
// while it is shown, or as its one showing.
func (s *Sheet) copyField(c *common.Context) tea.Cmd {
	if len(s.h.Fields) == 0 {
		return nil
	}
	f := s.h.Fields[s.cursor]
	if f.Secret && !s.showing {
		return s.show(c, true)
	}
	return s.copy(f)
}

func (s *Sheet) copy(f appreg.HandOffField) tea.Cmd {
	return tea.Batch(tea.SetClipboard(f.Value), note("✓ copied "+f.Label+" to the clipboard (your terminal must allow OSC 52)", false))
}

// holds is what secret the saved sheet holds.
func (s *Sheet) holds() string {
	if s.h.Certificate != nil {
		return "the certificate and its private key"
	}
	return "the secret's value"
}

// save writes the sheet, the secret's value in it, to a 0600 file.
func (s *Sheet) save(c *common.Context) tea.Cmd {
	h, path, id, handed, holds := s.h, s.Path(c), s.profile.ID, s.handed, s.holds()
	return func() tea.Msg {
		files, err := h.Save(path)
		if err != nil {
			return common.ErrMsg{Err: fmt.Errorf("save the hand-off sheet: %w", err)}
		}
		if handed.Rotation {
			if err := c.DB.MarkHandedOver(id, handed.KeyID); err != nil {
				return common.ErrMsg{Err: fmt.Errorf("the sheet is saved, but: %w", err)}
			}
		}
		return common.NoteMsg{Text: "✓ Saved to " + strings.Join(files, " and ") + " (readable by you only; it holds " + holds + ": delete it once the product has it)"}
	}
}

func note(text string, warn bool) tea.Cmd {
	return func() tea.Msg { return common.NoteMsg{Text: text, Warn: warn} }
}

// Keys are the sheet's bindings as they apply now.
func (s *Sheet) Keys() help.KeyMap {
	km := common.KeyMap{Keys.Copy}
	switch _, ok := s.refusal(); {
	case s.showing:
		km = append(km, Keys.Hide)
	case ok:
		km = append(km, Keys.Show)
	}
	return append(km, Keys.Save, Keys.Move)
}

// SetSize lays the sheet out for the frame's body: the title and, while
// it lasts, the warning on top; the secret's state below; the fields in
// between, scrolled to keep the cursor's in view.
func (s *Sheet) SetSize(c *common.Context) {
	st, width := c.Styles, c.Width-1
	s.top = []string{st.Bold.Render("Hand-off: enter these in the product")}
	s.top = append(s.top, common.WrapLines(st.Faint, s.h.Product+": "+s.h.Screen, c.Width, 3)...)
	if s.showing {
		s.top = append(s.top, common.WrapLines(st.Warn, "! This is the only time it is shown: copy it into "+s.h.Product+"'s settings now (v hides it for good).", c.Width, 2)...)
	}
	s.top = append(s.top, "")

	labelWidth := 0
	for _, f := range s.h.Fields {
		labelWidth = max(labelWidth, ansi.StringWidth(f.Label))
	}
	s.fields, s.spans = nil, nil
	for i, f := range s.h.Fields {
		mark := "  "
		if i == s.cursor {
			mark = "› "
		}
		from := len(s.fields)
		for _, l := range fieldLines(mark, common.PadRight(f.Label, labelWidth), f.Text(f.Secret && s.showing), width) {
			if i == s.cursor {
				l = st.Selected.Render(l)
			}
			s.fields = append(s.fields, l)
		}
		s.spans = append(s.spans, [2]int{from, len(s.fields)})
	}
	for _, n := range s.h.Notes {
		s.fields = append(s.fields, "")
		s.fields = append(s.fields, strings.Split(common.Wrap(n, width), "\n")...)
	}

	s.bottom = nil
	if text := s.secretState(); text != "" {
		s.bottom = append([]string{""}, common.WrapLines(st.Faint, text, c.Width, 3)...)
	}
	s.room = max(c.BodyHeight()-len(s.top)-len(s.bottom), 2)
	if len(s.fields) > s.room {
		s.room-- // for the line that says there is more
	}
	if len(s.spans) > 0 {
		end := s.spans[s.cursor][1]
		if s.cursor == len(s.spans)-1 {
			end = len(s.fields) // the notes below the last field too, when they fit
		}
		s.offset = max(s.offset, end-s.room)
		s.offset = min(s.offset, s.spans[s.cursor][0])
	}
	s.offset = max(min(s.offset, len(s.fields)-s.room), 0)
}

// fieldLines lays out one field: its value beside the label when it fits
// there, else below it, indented and broken at slashes, so that the
// columns stay and an endpoint is never cut at the frame's edge.
func fieldLines(mark, label, value string, width int) []string {
	line := mark + label + "  " + value
	if ansi.StringWidth(line) <= width {
		return []string{line}
	}
	const indent = "    "
	out := []string{mark + strings.TrimRight(label, " ")}
	for _, l := range strings.Split(ansi.Wrap(value, max(width-len(indent), 10), "/"), "\n") {
		out = append(out, indent+l)
	}
	return out
}

// secretState says what the sheet does with the secret's value.
func (s *Sheet) secretState() string {
	if s.h.Certificate != nil {
		return "s saves the sheet with the certificate and its private key to files only you can read: PEM in the sheet, PFX beside it."
	}
	if s.secret < 0 {
		return "s saves the sheet to a file only you can read."
	}
	if s.showing {
		return "The value shows until you leave the sheet or press v; then it is masked for good."
	}
	if msg, ok := s.refusal(); !ok {
		return strings.ToUpper(msg[:1]) + msg[1:] + "."
	}
	return "v shows the secret's value, once: this is the only time it is shown. s saves the sheet with it to a file only you can read."
}

// View draws the sheet as laid out.
func (s *Sheet) View(c *common.Context) string {
	end := min(s.offset+s.room, len(s.fields))
	lines := append(append([]string{}, s.top...), s.fields[s.offset:end]...)
	if len(s.fields) > s.room {
		more := "↓ more below"
		if end == len(s.fields) {
			more = "↑ more above"
		}
		lines = append(lines, c.Styles.Faint.Render(more))
	}
	return strings.Join(append(lines, s.bottom...), "\n")
}
