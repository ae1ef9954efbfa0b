package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/dashboard"
)

// openDashboard shows the dashboard for profile p; the first time, it
// starts the engine.
func (m *Model) openDashboard(p store.Profile) tea.Cmd {
	m.c.Profile = p
	m.screen = screenDashboard
	if m.dash == nil {
		m.dash = dashboard.New(m.c)
	}
	return m.dash.Open(m.c)
}

// openWizard leaves the dashboard for the wizard: at step for the shown
// profile, or from the start for a new profile when step is "".
func (m *Model) openWizard(step string) tea.Cmd {
	c := m.c
	if step == "" {
		c.Profile = store.Profile{Hosts: c.Options.Hosts}
	}
	m.screen = screenWizard
	m.wiz = newWizard(c)
	if step != "" {
		m.wiz.at = m.wiz.index(step)
	}
	return m.wiz.current().Init(c)
}
