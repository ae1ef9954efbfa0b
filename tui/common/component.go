package common

import (
	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
	"github.com/modauth/modauth/store"
)

// Component is a part of the frame: it is sized by the frame, draws a
// string (only the root draws a tea.View) and names its keys for the help
// bar. View only draws: what depends on the size is worked out in SetSize.
type Component interface {
	// SetSize fits the component to the frame's body; it is called when
	// the terminal's size changes and when the component is shown.
	SetSize(c *Context)
	View(c *Context) string
	// Keys are the component's own bindings, for the help bar.
	Keys() help.KeyMap
}

// Step is one screen of the wizard.
type Step interface {
	Component
	// ID is stored as the profile's progress once the step is done.
	ID() string
	Title() string
	// Init starts the step; called each time it is entered.
	Init(c *Context) tea.Cmd
	// Update handles a message; done means the step is complete and the
	// wizard moves on (the step has saved what it made).
	Update(c *Context, msg tea.Msg) (done bool, cmd tea.Cmd)
	// Busy reports long work under way: Esc and quitting wait or ask.
	Busy() bool
}

// Applier is a step that belongs to some profiles only: an on-premises
// profile has no app registration, IDs or consent, an online one no server
// step. A step without the method belongs to every profile.
type Applier interface {
	Applies(p store.Profile) bool
}

// Applies reports whether step s belongs to profile p.
func Applies(s Step, p store.Profile) bool {
	a, ok := s.(Applier)
	return !ok || a.Applies(p)
}
