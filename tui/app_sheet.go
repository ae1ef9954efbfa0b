package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/tui/common"
	"github.com/modauth/modauth/tui/sheet"
)

// The hand-off sheet over the end of the setup (h) or the dashboard (H):
// one component; esc goes back to what was under it.

// keysShowSheet opens the sheet at the end of the setup.
var keysShowSheet = key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "hand-off sheet"))

// openSheet shows profile id's hand-off sheet.
func (m *Model) openSheet(id string) tea.Cmd {
	s, err := sheet.Open(m.c, id)
	if err != nil {
		return common.ErrCmd(err)
	}
	s.SetSize(m.c)
	m.sheet = s
	return nil
}

// sheetKey hands a key to the open sheet; esc leaves it.
func (m *Model) sheetKey(k tea.KeyPressMsg) tea.Cmd {
	if key.Matches(k, common.Keys.Back) {
		m.sheet = nil // and with it a shown value: the store says it was shown
		if m.screen == screenDashboard {
			return m.dash.Reload(m.c) // a rotation's secret may be handed over now
		}
		return nil
	}
	return m.sheet.Update(m.c, k)
}
