package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// usersStep is being built: until then enter moves on.
type usersStep struct{}

func newUsersStep() *usersStep { return &usersStep{} }

func (s *usersStep) ID() string             { return stepUsers }
func (s *usersStep) Title() string          { return "users" }
func (s *usersStep) Busy() bool             { return false }
func (s *usersStep) Init(*Context) tea.Cmd  { return nil }
func (s *usersStep) Keys() help.KeyMap      { return keyMap{keys.Next} }
func (s *usersStep) View(c *Context) string { return "users" }
func (s *usersStep) Update(c *Context, msg tea.Msg) (bool, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	return ok && key.Matches(k, keys.Next), nil
}
