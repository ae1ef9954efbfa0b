// The consent step's messages and keys: sign-ins started, finished or
// cancelled, the table moved, the rest skipped.

package consent

import (
	"fmt"
	"strings"

	"github.com/modauth/modauth/tui/common"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/modauth/modauth/store"
)

func (s *Step) Update(c *common.Context, msg tea.Msg) (bool, tea.Cmd) {
	switch msg := msg.(type) {
	case consentSkipMsg:
		return s.skip(c)
	case consentTickMsg:
		if s.task.Current(msg.seq) && s.mode == consentDevice {
			return false, consentTick(msg.seq)
		}
		return false, nil
	case consentDeviceMsg:
		return false, s.deviceStarted(c, msg)
	case consentBrowserMsg:
		return false, s.browserStarted(msg)
	case consentResultMsg:
		return false, s.finish(c, msg)
	case consentExportedMsg:
		if msg.err != nil {
			s.panel = "✗ " + common.FirstLine(msg.err)
		} else {
			s.note = fmt.Sprintf("✓ Wrote sign-in instructions for %d %s to\n%s", msg.users, consentPlural(msg.users, "user", "users"), msg.path)
		}
		return false, nil
	case consentAdminMsg:
		if s.task.Current(msg.seq) {
			s.working = ""
			if msg.err != nil {
				s.panel = consentProblem(msg.err, false)
			}
			s.adminURL = msg.url
		}
		return false, nil
	case tea.PasteMsg:
		if s.mode == consentBrowser && s.working == "" {
			return false, s.submitPaste(msg.Content)
		}
	case tea.KeyPressMsg:
		return s.key(c, msg)
	}
	switch s.mode {
	case consentBrowser:
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(msg)
		return false, cmd
	case consentAccount:
		return s.accountUpdate(c, msg)
	}
	return false, nil
}

func (s *Step) key(c *common.Context, k tea.KeyPressMsg) (bool, tea.Cmd) {
	if k.String() == "esc" && s.Busy() {
		s.endSession()
		if s.mode == consentDevice || s.mode == consentBrowser || s.mode == consentTable {
			s.mode, s.note = consentTable, "Sign-in cancelled."
		}
		return false, nil
	}
	if s.working != "" {
		return false, nil
	}
	switch s.mode {
	case consentAccount:
		return s.accountUpdate(c, k)
	case consentDevice:
		switch {
		case key.Matches(k, consentKeys.CopyCode) && s.dev != nil:
			s.copied = true
			return false, tea.SetClipboard(s.dev.UserCode)
		case key.Matches(k, consentKeys.Browser):
			if i, ok := s.entry(s.target); ok {
				return false, s.startBrowser(c, s.entries[i])
			}
		}
		return false, nil
	case consentBrowser:
		switch {
		case key.Matches(k, consentKeys.Submit):
			return false, s.submitPaste(s.input.Value())
		case key.Matches(k, consentKeys.CopyLink) && s.input.Value() == "" && s.lb != nil:
			s.copied = true
			return false, tea.SetClipboard(s.lb.sess.URL)
		}
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(k)
		s.brErr = ""
		return false, cmd
	case consentAppOnly:
		switch {
		case key.Matches(k, consentKeys.Continue):
			return true, nil
		case key.Matches(k, consentKeys.CopyLink) && s.adminURL != "":
			s.copied = true
			return false, tea.SetClipboard(s.adminURL)
		}
		return false, nil
	}

	// The table.
	s.note, s.panel = "", ""
	switch {
	case key.Matches(k, consentKeys.Admin) && c.Profile.Model != store.AppOnly:
		// One admin accepts for every user (the Divalto guide's way), or
		// the users cannot consent themselves (AADSTS65001, 90094).
		s.copied = false
		return false, s.startAdminURL(c)
	case key.Matches(k, consentKeys.CopyLink) && s.adminURL != "":
		s.copied = true
		return false, tea.SetClipboard(s.adminURL)
	case key.Matches(k, common.Keys.Up):
		s.win.Cursor = max(s.win.Cursor-1, 0)
	case key.Matches(k, common.Keys.Down):
		s.win.Cursor = min(s.win.Cursor+1, max(len(s.entries)-1, 0))
	case key.Matches(k, consentKeys.Device), key.Matches(k, consentKeys.Browser):
		if len(s.entries) == 0 {
			s.panel = "Nobody to sign in: add users in the users step (esc)."
			return false, nil
		}
		if key.Matches(k, consentKeys.Device) {
			return false, s.startDevice(c, s.entries[s.win.Cursor])
		}
		return false, s.startBrowser(c, s.entries[s.win.Cursor])
	case key.Matches(k, consentKeys.Export):
		return false, s.export(c)
	case key.Matches(k, consentKeys.Continue):
		missing := s.pending()
		if len(missing) == 0 {
			return true, nil
		}
		s.panel = "Not everyone has signed in yet: " + consentNames(missing) + " " + consentPlural(len(missing), "is", "are") +
			" missing.\nSign them in with d or b, or press s to skip the rest for now."
	case key.Matches(k, consentKeys.Skip):
		if len(s.pending()) == 0 {
			return true, nil
		}
		n := len(s.pending())
		return false, common.AskCmd(fmt.Sprintf("Skip the rest for now? %d %s not signed in; they can sign in later.", n, consentPlural(n, "user has", "users have")),
			"Skip", "Keep going", func() tea.Msg { return consentSkipMsg{} })
	}
	return false, nil
}

// consentSkipMsg: skipping the rest was answered yes.
type consentSkipMsg struct{}

// skip leaves the step with the users who have not signed in marked
// pending, so the dashboard shows them as sign-in needed.
func (s *Step) skip(c *common.Context) (bool, tea.Cmd) {
	var marks []store.User
	for _, e := range s.pending() {
		if e.saved && e.user.Consent == store.ConsentNone {
			u := e.user
			u.Consent = store.ConsentPending
			marks = append(marks, u)
		}
	}
	if len(marks) > 0 && c.DB != nil {
		if err := c.DB.PutUsers(c.Profile.ID, marks...); err != nil {
			return false, common.ErrCmd(fmt.Errorf("mark users pending: %w", err))
		}
	}
	return true, nil
}

// accountUpdate runs the service account's form; once it completes, the
// account is saved and its sign-in is next.
func (s *Step) accountUpdate(c *common.Context, msg tea.Msg) (bool, tea.Cmd) {
	state, cmd := s.account.Update(msg)
	if state != huh.StateCompleted {
		return false, cmd
	}
	c.Profile.ServiceAccount = strings.TrimSpace(s.serviceAccount)
	if c.DB != nil && c.Profile.ID != "" {
		if err := c.DB.PutProfile(c.Profile); err != nil {
			return false, common.ErrCmd(fmt.Errorf("save the service account: %w", err))
		}
	}
	s.mode = consentTable
	if err := s.load(c); err != nil {
		return false, common.ErrCmd(err)
	}
	return false, cmd
}
