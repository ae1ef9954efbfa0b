package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// registerStep is being built: until then enter moves on.
type registerStep struct{}

func newRegisterStep() *registerStep { return &registerStep{} }

func (s *registerStep) ID() string             { return stepRegister }
func (s *registerStep) Title() string          { return "register" }
func (s *registerStep) Busy() bool             { return false }
func (s *registerStep) Init(*Context) tea.Cmd  { return nil }
func (s *registerStep) Keys() help.KeyMap      { return keyMap{keys.Next} }
func (s *registerStep) View(c *Context) string { return "register" }
func (s *registerStep) Update(c *Context, msg tea.Msg) (bool, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	return ok && key.Matches(k, keys.Next), nil
}
