package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// verifyStep is being built: until then enter moves on.
type verifyStep struct{}

func newVerifyStep() *verifyStep { return &verifyStep{} }

func (s *verifyStep) ID() string             { return stepVerify }
func (s *verifyStep) Title() string          { return "verify" }
func (s *verifyStep) Busy() bool             { return false }
func (s *verifyStep) Init(*Context) tea.Cmd  { return nil }
func (s *verifyStep) Keys() help.KeyMap      { return keyMap{keys.Next} }
func (s *verifyStep) View(c *Context) string { return "verify" }
func (s *verifyStep) Update(c *Context, msg tea.Msg) (bool, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	return ok && key.Matches(k, keys.Next), nil
}
