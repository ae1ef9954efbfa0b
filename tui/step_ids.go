package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

type idsStep struct{}

func newIDsStep(*Context) *idsStep { return &idsStep{} }

func (s *idsStep) ID() string             { return stepIDs }
func (s *idsStep) Title() string          { return "IDs and secret" }
func (s *idsStep) Busy() bool             { return false }
func (s *idsStep) Init(*Context) tea.Cmd  { return nil }
func (s *idsStep) Keys() help.KeyMap      { return keyMap{keys.Next} }
func (s *idsStep) View(c *Context) string { return "ids" }
func (s *idsStep) Update(c *Context, msg tea.Msg) (bool, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	return ok && key.Matches(k, keys.Next), nil
}
