package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// consentStep is being built: until then enter moves on.
type consentStep struct{}

func newConsentStep() *consentStep { return &consentStep{} }

func (s *consentStep) ID() string             { return stepConsent }
func (s *consentStep) Title() string          { return "consent" }
func (s *consentStep) Busy() bool             { return false }
func (s *consentStep) Init(*Context) tea.Cmd  { return nil }
func (s *consentStep) Keys() help.KeyMap      { return keyMap{keys.Next} }
func (s *consentStep) View(c *Context) string { return "consent" }
func (s *consentStep) Update(c *Context, msg tea.Msg) (bool, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	return ok && key.Matches(k, keys.Next), nil
}
