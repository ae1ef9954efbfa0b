package tui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	"github.com/modauth/modauth/tui/common"
	"github.com/modauth/modauth/tui/step/verify"
)

// The end of the setup and of the program: what the last screen says, and
// the question before leaving.

// finishedKeys are the keys of the end of the setup.
var finishedKeys = common.KeyMap{
	key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "dashboard")),
	keysShowSheet,
	key.NewBinding(key.WithKeys("q"), key.WithHelp("any other key", "leave")),
}

// quitQuestion asks before leaving, saying what stays and what goes.
func (m *Model) quitQuestion() string {
	if dir := m.c.Throwaway; dir != "" {
		return fmt.Sprintf("Leave the demo? Its data (%s) is thrown away; saved files and exports stay in %s.", dir, m.c.SavePath(""))
	}
	return "Quit? What was completed is saved; this step starts over next time."
}

func (m *Model) finishedView() string {
	st := m.c.Styles
	if v, ok := m.wiz.steps[len(m.wiz.steps)-1].(*verify.Step); ok && v.Failed() > 0 {
		return st.Warn.Render("! Setup of "+m.c.Profile.ID+" is saved, but the connection test did not pass.") + "\n\n" +
			"Apply the fixes shown, then test once more from the dashboard or the next\nrun of modauth; the dashboard shows what each user's sync meets meanwhile.\n\n" +
			st.Faint.Render("enter: dashboard · any other key: leave")
	}
	return st.OK.Render("✓ Setup of "+m.c.Profile.ID+" is complete.") + "\n\n" +
		"The connection is verified and stored. Press enter to open the dashboard,\n" +
		"or leave and run modauth monitor to keep the sync running headless.\n" +
		"h shows what to enter in the product's own settings screen.\n\n" +
		st.Faint.Render("enter: dashboard · h: hand-off sheet · any other key: leave")
}
