package common

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"
)

// Form is a huh Form inside a screen: the interface's theme and keys, the
// size the frame gives it, its bindings in the frame's help bar. Every Form
// of the wizard is one; the screens hold the values behind pointers.
type Form struct {
	*huh.Form
	asked bool // asked accessibly already
	// moving: a key moved the focus and huh's move has not come yet;
	// waiting are the keys that came meanwhile.
	moving  bool
	waiting []tea.Msg
	keys    *huh.KeyMap // the form's own: huh turns some of them on and off
}

// NewForm makes a one-page form of fields.
func NewForm(c *Context, fields ...huh.Field) *Form {
	return NewPages(c, huh.NewGroup(fields...))
}

// NewPages makes a form of pages, one group of fields a page: enter on a
// page's last field turns to the next.
func NewPages(c *Context, pages ...*huh.Group) *Form {
	km := formKeys()
	f := &Form{keys: km, Form: huh.NewForm(pages...).
		WithShowHelp(false).   // the frame's help bar shows the keys
		WithShowErrors(false). // and its error slot the field's error
		WithTheme(c.huhTheme()).
		WithKeyMap(km)}
	// Init only focuses the first field here; what it returns (a cursor
	// blink, a size request) the frame does not need: sizes come from
	// SetSize.
	f.Init()
	return f
}

// Advance moves the focus n fields on, as tab would. What the moves return
// (the fields' redraws) is for the caller to run.
func (f *Form) Advance(n int) tea.Cmd {
	var cmds []tea.Cmd
	for range n {
		_, cmd := f.Form.Update(huh.NextField())
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

// formKeys are huh's keys with the interface's habits: ↑/↓ move between
// fields as tab does, and ctrl+c belongs to the frame (quitting asks).
func formKeys() *huh.KeyMap {
	k := huh.NewDefaultKeyMap()
	k.Quit = key.NewBinding(key.WithDisabled())
	k.Input.Next = key.NewBinding(key.WithKeys("enter", "tab", "down"), key.WithHelp("enter", "next"))
	k.Input.Prev = key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("↑", "back"))
	k.Select.Next = key.NewBinding(key.WithKeys("enter", "tab", "down"), key.WithHelp("enter", "next"))
	k.Select.Prev = key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("↑", "back"))
	k.Select.Left = key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/→", "change"))
	k.Select.Right = key.NewBinding(key.WithKeys("right", "l", "space"))
	// An inline select moves with ←/→; ↑/↓ leave the field.
	k.Select.Up = key.NewBinding(key.WithDisabled())
	k.Select.Down = key.NewBinding(key.WithDisabled())
	k.Select.Filter = key.NewBinding(key.WithDisabled())
	k.MultiSelect.Next = key.NewBinding(key.WithKeys("enter", "tab"), key.WithHelp("enter", "next"))
	k.MultiSelect.Prev = key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "back"))
	k.MultiSelect.Toggle = key.NewBinding(key.WithKeys("space", "x"), key.WithHelp("space", "pick"))
	k.MultiSelect.Filter = key.NewBinding(key.WithDisabled())
	return k
}

// SetSize fits the form to the room the screen gives it; taller forms
// scroll with the focus.
func (f *Form) SetSize(width, height int) {
	f.WithWidth(max(width, 20)).WithHeight(max(height, 3))
}

// Update hands a message to the form and reports its state afterwards.
//
// huh moves the focus with a command of its own, so keys that come right
// after enter or tab (a fast typist, a paste, a slow machine) would land
// in the field being left. Keys wait while a move is on its way and go to
// the field the focus lands on.
func (f *Form) Update(msg tea.Msg) (huh.FormState, tea.Cmd) {
	if f.completed(msg) {
		return f.State, nil
	}
	switch msg.(type) {
	case tea.KeyPressMsg, tea.PasteMsg:
		if f.moving {
			f.waiting = append(f.waiting, msg)
			return f.State, nil
		}
	}
	m, cmd := f.Form.Update(msg)
	if hf, ok := m.(*huh.Form); ok {
		f.Form = hf
	}
	switch {
	case isMove(msg):
		f.moving = false
		return f.State, tea.Batch(cmd, f.replay())
	case f.State == huh.StateNormal && f.leaves(msg):
		f.moving = true
	}
	return f.State, cmd
}

// leaves reports whether a key moves the focus on or back and the field
// took its answer: huh's move is then on its way.
func (f *Form) leaves(msg tea.Msg) bool {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return false
	}
	fd := f.GetFocusedField()
	if fd == nil || fd.Error() != nil {
		return false
	}
	km := f.keys
	return key.Matches(k, km.Input.Next, km.Input.Prev, km.Select.Next, km.Select.Prev, km.MultiSelect.Next, km.MultiSelect.Prev)
}

// isMove tells huh's focus moves by their type's name: they are
// unexported.
func isMove(msg tea.Msg) bool {
	switch fmt.Sprintf("%T", msg) {
	case "huh.nextFieldMsg", "huh.prevFieldMsg", "huh.nextGroupMsg", "huh.prevGroupMsg":
		return true
	}
	return false
}

// replay hands the keys that waited for a move to the form, or, once it is
// done, back to the screen in their order.
func (f *Form) replay() tea.Cmd {
	keys := f.waiting
	f.waiting = nil
	var cmds []tea.Cmd
	for i, k := range keys {
		if f.State != huh.StateNormal || f.moving {
			for _, rest := range keys[i:] {
				cmds = append(cmds, func() tea.Msg { return rest })
			}
			return tea.Sequence(cmds...)
		}
		_, cmd := f.Update(k)
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

// redrawMsg carries nothing: huh recomputes the fields' dynamic titles and
// descriptions on every message, and this one is for just that.
type redrawMsg struct{}

// Redraw has the fields recompute what they show from state that changed
// outside the form.
func (f *Form) Redraw() tea.Cmd {
	_, cmd := f.Form.Update(redrawMsg{})
	return cmd
}

// Err is the focused field's error, else the page's first, for the
// frame's error slot.
func (f *Form) Err() error {
	if fd := f.GetFocusedField(); fd != nil && fd.Error() != nil {
		return fd.Error()
	}
	if errs := f.Errors(); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// Focused is the key of the field with the focus.
func (f *Form) Focused() string {
	if fd := f.GetFocusedField(); fd != nil {
		return fd.GetKey()
	}
	return ""
}

// Keys are the focused field's bindings, for the help bar.
func (f *Form) Keys() KeyMap { return KeyMap(f.KeyBinds()) }

// Optional is a field shown only while show reports true: hidden, it takes
// no room and the focus passes over it.
type Optional struct {
	huh.Field
	Show func() bool
}

func (o *Optional) Skip() bool { return !o.Show() || o.Field.Skip() }

func (o *Optional) View() string {
	if !o.Show() {
		return ""
	}
	return o.Field.View()
}

// Update keeps the wrapper around the field huh hands back.
func (o *Optional) Update(msg tea.Msg) (huh.Model, tea.Cmd) {
	m, cmd := o.Field.Update(msg)
	if fd, ok := m.(huh.Field); ok {
		o.Field = fd
	}
	return o, cmd
}

// huhTheme is huh's look made from the interface's styles, so forms and
// questions match the screens; with NO_COLOR it has no colour either.
func (c *Context) huhTheme() huh.Theme {
	return huh.ThemeFunc(func(bool) *huh.Styles { return c.huhStyles() })
}

func (c *Context) huhStyles() *huh.Styles {
	st := c.Styles
	t := huh.ThemeBase(c.Dark)
	t.FieldSeparator = lipgloss.NewStyle().SetString("\n")
	t.Focused.Base = lipgloss.NewStyle().PaddingLeft(1).Border(lipgloss.ThickBorder(), false, false, false, true).BorderForeground(st.Selected.GetForeground())
	t.Blurred.Base = lipgloss.NewStyle().PaddingLeft(2)
	t.Focused.Title = st.Bold
	t.Blurred.Title = st.Faint
	t.Focused.Description = st.Faint
	t.Blurred.Description = st.Faint
	t.Focused.ErrorIndicator = st.Error.SetString(" ✗")
	t.Focused.ErrorMessage = st.Error
	t.Blurred.ErrorIndicator = t.Focused.ErrorIndicator
	t.Blurred.ErrorMessage = t.Focused.ErrorMessage
	t.Focused.FocusedButton = st.Selected.Reverse(true).Padding(0, 1).MarginRight(1)
	t.Focused.BlurredButton = st.Faint.Padding(0, 1).MarginRight(1)
	t.Blurred.FocusedButton = t.Focused.FocusedButton
	t.Blurred.BlurredButton = t.Focused.BlurredButton
	t.Focused.SelectSelector = st.Selected.SetString("› ")
	t.Focused.NextIndicator = st.Key.SetString(" ›")
	t.Focused.PrevIndicator = st.Key.SetString("‹ ")
	t.Blurred.NextIndicator = lipgloss.NewStyle()
	t.Blurred.PrevIndicator = lipgloss.NewStyle()
	t.Focused.MultiSelectSelector = st.Selected.SetString("› ")
	t.Focused.SelectedOption = st.Selected
	t.Focused.SelectedPrefix = st.OK.SetString("[x] ")
	t.Focused.UnselectedPrefix = st.Faint.SetString("[ ] ")
	t.Blurred.SelectedPrefix = t.Focused.SelectedPrefix
	t.Blurred.UnselectedPrefix = t.Focused.UnselectedPrefix
	t.Focused.TextInput.Prompt = st.Selected
	t.Blurred.TextInput.Prompt = st.Faint
	return t
}
