package common

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"
)

// Question is a yes/no Question, asked with huh's Confirm: y or n answer
// it at once, ←/→ and enter choose, esc says no. Every Question in the
// interface is one of these, so they all answer to the same keys.
type Question struct {
	form      *huh.Form
	yes       bool
	text      string
	answer    tea.Cmd // run on yes
	otherwise tea.Cmd // run on an answered no; never on esc
	answered  bool
}

// Ask makes a question; onYes runs when it is answered yes.
func Ask(c *Context, text, yes, no string, onYes tea.Cmd) *Question {
	return AskEither(c, text, yes, no, onYes, nil)
}

// AskEither makes a question whose two answers both go on: onYes or onNo
// runs, and yes is offered first; esc still cancels, running neither.
func AskEither(c *Context, text, yes, no string, onYes, onNo tea.Cmd) *Question {
	q := &Question{text: text, answer: onYes, otherwise: onNo, yes: onNo != nil}
	q.form = huh.NewForm(huh.NewGroup(
		huh.NewConfirm().Title(text).Affirmative(yes).Negative(no).Value(&q.yes).Inline(true),
	)).WithShowHelp(false).WithTheme(c.questionTheme()).WithWidth(max(c.Width-1, 20))
	// The form sizes itself on a window size; the screen has one already.
	q.form.Update(tea.WindowSizeMsg{Width: c.Width, Height: c.Height})
	return q
}

// OnYes is what runs when the answer is yes.
func (q *Question) OnYes() tea.Cmd { return q.answer }

// OnNo is what runs when the answer is no: nothing when the question was
// cancelled rather than answered.
func (q *Question) OnNo() tea.Cmd {
	if !q.answered {
		return nil
	}
	return q.otherwise
}

// Init starts the question's form.
func (q *Question) Init() tea.Cmd { return q.form.Init() }

// Update hands a message to the question. It reports done once the
// question is answered, and whether the answer is yes.
func (q *Question) Update(msg tea.Msg) (done, yes bool, cmd tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok && key.Matches(k, Keys.Back) {
		return true, false, nil
	}
	m, cmd := q.form.Update(msg)
	if f, ok := m.(*huh.Form); ok {
		q.form = f
	}
	switch q.form.State {
	case huh.StateCompleted:
		q.answered = true
		return true, q.yes, cmd
	case huh.StateAborted:
		return true, false, nil
	}
	return false, false, cmd
}

// View renders the question for the frame's question slot.
func (q *Question) View() string { return q.form.View() }

// Keys are the question's own, for the help bar while it is open.
func (q *Question) Keys() KeyMap {
	no := key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "no"))
	if q.otherwise != nil { // no goes on too: esc is the way out
		no = key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "no"))
	}
	return KeyMap{
		key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
		no,
		key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "choose")),
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "answer")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// questionTheme is the forms' theme without the focus bar: a question
// is one line in its own slot.
func (c *Context) questionTheme() huh.Theme {
	return huh.ThemeFunc(func(bool) *huh.Styles {
		t := c.huhStyles()
		t.Focused.Base = lipgloss.NewStyle()
		t.Blurred.Base = lipgloss.NewStyle()
		t.Focused.Title = c.Styles.Warn
		return t
	})
}

// AskMsg asks the frame's yes/no question for a screen: the screens never
// draw questions of their own. then runs on yes; its message goes back to
// the screen as any other.
type AskMsg struct {
	Text, Yes, No string
	Then          tea.Cmd
	// Else, when set, runs on an answered no, and yes is offered first.
	Else tea.Cmd
}

// AskCmd asks text; then runs on yes.
func AskCmd(text, yes, no string, then tea.Cmd) tea.Cmd {
	return func() tea.Msg { return AskMsg{Text: text, Yes: yes, No: no, Then: then} }
}
