package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// fieldKind is what a form field holds.
type fieldKind int

const (
	textField   fieldKind = iota
	secretField           // typed masked, never shown
	choiceField           // one of Options, changed with ←/→
	multiField            // some of Options, toggled with space
)

type option struct{ Value, Label string }

// field is one line of a form.
type field struct {
	Key, Label, Hint string
	Kind             fieldKind
	Options          []option
	Validate         func(string) error
	// Hidden hides the field while it returns true (e.g. the product's
	// host when the preset has no redirect URI).
	Hidden func() bool

	input  textinput.Model
	choice int          // choiceField; the cursor of a multiField
	picked map[int]bool // multiField
	err    string
}

// form is a small keyboard-only form: the wizard's steps are made of
// them. It is data, not code: each step lists its fields.
type form struct {
	fields []*field
	focus  int
}

func newForm(fields ...*field) *form {
	f := &form{fields: fields}
	for _, fd := range fields {
		if fd.Kind == textField || fd.Kind == secretField {
			fd.input = textinput.New()
			fd.input.Prompt = ""
			fd.input.CharLimit = 512
			// A steady cursor: blinking redraws the screen twice a second,
			// which is noise over a slow SSH link.
			styles := fd.input.Styles()
			styles.Cursor.Blink = false
			fd.input.SetStyles(styles)
			if fd.Kind == secretField {
				fd.input.EchoMode = textinput.EchoPassword
				fd.input.EchoCharacter = '•'
			}
		}
		if fd.Kind == multiField && fd.picked == nil {
			fd.picked = map[int]bool{}
		}
	}
	f.focusOn(f.next(-1, 1))
	return f
}

func (f *form) field(key string) *field {
	for _, fd := range f.fields {
		if fd.Key == key {
			return fd
		}
	}
	panic("tui: no form field " + key)
}

// Value is a text field's text or a choice's value.
func (f *form) Value(key string) string {
	fd := f.field(key)
	switch fd.Kind {
	case choiceField:
		if len(fd.Options) == 0 {
			return ""
		}
		return fd.Options[fd.choice].Value
	case multiField:
		return strings.Join(f.Values(key), ",")
	}
	return strings.TrimSpace(fd.input.Value())
}

// Values are a multi field's picked values, in option order.
func (f *form) Values(key string) []string {
	fd := f.field(key)
	var out []string
	for i, o := range fd.Options {
		if fd.picked[i] {
			out = append(out, o.Value)
		}
	}
	return out
}

// Set fills a field: text, a choice's value, or a multi's values joined by commas.
func (f *form) Set(key, v string) {
	fd := f.field(key)
	switch fd.Kind {
	case choiceField:
		for i, o := range fd.Options {
			if o.Value == v {
				fd.choice = i
			}
		}
	case multiField:
		fd.picked = map[int]bool{}
		for _, part := range strings.Split(v, ",") {
			for i, o := range fd.Options {
				if o.Value == part {
					fd.picked[i] = true
				}
			}
		}
	default:
		fd.input.SetValue(v)
	}
}

// SetError shows an error under a field and moves the focus there: what a
// live check found wrong.
func (f *form) SetError(key, msg string) {
	for i, fd := range f.fields {
		if fd.Key == key {
			fd.err = msg
			f.focusOn(i)
		}
	}
}

func (f *form) visible(i int) bool {
	return i >= 0 && i < len(f.fields) && (f.fields[i].Hidden == nil || !f.fields[i].Hidden())
}

// next finds the next visible field from i in direction d, or -1.
func (f *form) next(i, d int) int {
	for j := i + d; j >= 0 && j < len(f.fields); j += d {
		if f.visible(j) {
			return j
		}
	}
	return -1
}

func (f *form) focusOn(i int) tea.Cmd {
	if i < 0 {
		return nil
	}
	for _, fd := range f.fields {
		fd.input.Blur()
	}
	f.focus = i
	if fd := f.fields[i]; fd.Kind == textField || fd.Kind == secretField {
		return fd.input.Focus()
	}
	return nil
}

// Focused is the key of the field with the focus.
func (f *form) Focused() string { return f.fields[f.focus].Key }

func (f *form) validate(fd *field) bool {
	fd.err = ""
	if fd.Validate != nil {
		if err := fd.Validate(f.Value(fd.Key)); err != nil {
			fd.err = err.Error()
			return false
		}
	}
	return true
}

// Update handles a message. It reports submitted when enter is pressed on
// the last field and every visible field is valid; left is the key of the
// field the focus just left by enter or tab (for live checks).
func (f *form) Update(msg tea.Msg) (submitted bool, left string, cmd tea.Cmd) {
	fd := f.fields[f.focus]
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(k, keys.Next):
			if !f.validate(fd) {
				return false, "", nil
			}
			if n := f.next(f.focus, 1); n >= 0 {
				return false, fd.Key, f.focusOn(n)
			}
			for i := range f.fields {
				if f.visible(i) && !f.validate(f.fields[i]) {
					return false, "", f.focusOn(i)
				}
			}
			return true, fd.Key, nil
		case key.Matches(k, keys.Down):
			if n := f.next(f.focus, 1); n >= 0 {
				return false, fd.Key, f.focusOn(n)
			}
			return false, "", nil
		case key.Matches(k, keys.Up):
			return false, "", f.focusOn(f.next(f.focus, -1))
		}
		switch fd.Kind {
		case choiceField:
			switch {
			case key.Matches(k, keys.Left):
				fd.choice = (fd.choice + len(fd.Options) - 1) % len(fd.Options)
			case key.Matches(k, keys.Right), key.Matches(k, keys.Toggle):
				fd.choice = (fd.choice + 1) % len(fd.Options)
			}
			fd.err = ""
			return false, "", nil
		case multiField:
			switch {
			case key.Matches(k, keys.Left):
				fd.choice = max(fd.choice-1, 0)
			case key.Matches(k, keys.Right):
				fd.choice = min(fd.choice+1, len(fd.Options)-1)
			case key.Matches(k, keys.Toggle):
				fd.picked[fd.choice] = !fd.picked[fd.choice]
			}
			fd.err = ""
			return false, "", nil
		}
	}
	if fd.Kind == textField || fd.Kind == secretField {
		if _, ok := msg.(tea.KeyPressMsg); ok {
			fd.err = ""
		}
		var c tea.Cmd
		fd.input, c = fd.input.Update(msg)
		return false, "", c
	}
	return false, "", nil
}

// View renders the form: one line per field, the hint or error below the
// focused one.
func (f *form) View(st Styles, width int) string {
	var b strings.Builder
	labelW := 0
	for i, fd := range f.fields {
		if f.visible(i) {
			labelW = max(labelW, len(fd.Label))
		}
	}
	for i, fd := range f.fields {
		if !f.visible(i) {
			continue
		}
		marker, label := "  ", st.Faint.Render(padRight(fd.Label, labelW))
		if i == f.focus {
			marker, label = st.Selected.Render("› "), st.Bold.Render(padRight(fd.Label, labelW))
		}
		b.WriteString(marker + label + "  " + f.render(st, fd, i == f.focus, width-labelW-6) + "\n")
		pad := strings.Repeat(" ", labelW+4)
		note := func(style func(...string) string, text string) {
			for _, l := range strings.Split(wrap(text, width-labelW-5), "\n") {
				b.WriteString(pad + style(l) + "\n")
			}
		}
		switch {
		case fd.err != "":
			note(st.Error.Render, "✗ "+fd.err)
		case i == f.focus && fd.Hint != "":
			note(st.Faint.Render, fd.Hint)
		}
	}
	return b.String()
}

func (f *form) render(st Styles, fd *field, focused bool, width int) string {
	switch fd.Kind {
	case choiceField:
		if len(fd.Options) == 0 {
			return ""
		}
		v := fd.Options[fd.choice].Label
		if focused {
			return st.Key.Render("‹ ") + v + st.Key.Render(" ›")
		}
		return v
	case multiField:
		var parts []string
		for i, o := range fd.Options {
			box := "[ ]"
			if fd.picked[i] {
				box = "[x]"
			}
			s := box + " " + o.Label
			if focused && i == fd.choice {
				s = st.Selected.Render(s)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, "  ")
	}
	fd.input.SetWidth(max(width, 10))
	return fd.input.View()
}
