// The dashboard's actions on the user under the cursor or on the whole
// profile, and its keys for the help bar.

package dashboard

import (
	"cmp"
	"fmt"
	"io"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// The dashboard's actions; the table owns moving, sorting, filtering and
// searching.
var actionKeys = struct {
	SyncNow, SyncFailing, Reconsent, Rotate, Export, Link, HandOff, NextProfile, NewProfile key.Binding
}{
	SyncNow:     key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "sync now")),
	SyncFailing: key.NewBinding(key.WithKeys("F"), key.WithHelp("F", "sync failing")),
	Reconsent:   key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "re-consent")),
	Rotate:      key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "rotate secret")),
	Export:      key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "export")),
	Link:        key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "copy link")),
	HandOff:     key.NewBinding(key.WithKeys("H"), key.WithHelp("H", "hand-off sheet")),
	NextProfile: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "profile")),
	NewProfile:  key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new profile")),
}

// WizardMsg asks the frame for the wizard: at Step for the shown profile
// (the consent step, to sign users in again), or from the start for a new
// profile when Step is "".
type WizardMsg struct{ Step string }

// HandOffMsg asks the frame for the hand-off sheet of a profile, over the
// dashboard.
type HandOffMsg struct{ ProfileID string }

// action runs the action bound to k; ok is false when k is none.
func (d *Model) action(c *common.Context, k tea.KeyPressMsg) (cmd tea.Cmd, ok bool) {
	switch {
	case key.Matches(k, actionKeys.SyncNow):
		if u, ok := d.Selected(); ok {
			return d.syncNow(c, "syncing "+u.Key, u.Key), true
		}
		return nil, true
	case key.Matches(k, actionKeys.SyncFailing):
		return d.syncFailing(c), true
	case key.Matches(k, actionKeys.Export):
		return d.export(c), true
	case key.Matches(k, actionKeys.Link):
		return d.copyLink(c), true
	case key.Matches(k, actionKeys.Rotate):
		return d.rotateOrRetire(c), true
	case key.Matches(k, actionKeys.Reconsent):
		c.Profile = d.profile
		return func() tea.Msg { return WizardMsg{Step: common.StepConsent} }, true
	case key.Matches(k, actionKeys.HandOff):
		id := d.profile.ID
		return func() tea.Msg { return HandOffMsg{ProfileID: id} }, true
	case key.Matches(k, actionKeys.NewProfile):
		return func() tea.Msg { return WizardMsg{} }, true
	case key.Matches(k, actionKeys.NextProfile):
		return d.nextProfile(c), true
	}
	return nil, false
}

// nextProfile opens the dashboard of the next complete profile.
func (d *Model) nextProfile(c *common.Context) tea.Cmd {
	ps, err := CompleteProfiles(c.DB)
	if err != nil || len(ps) < 2 {
		return nil
	}
	for i, p := range ps {
		if p.ID == d.profile.ID {
			c.Profile = ps[(i+1)%len(ps)]
			return d.Open(c)
		}
	}
	return nil
}

// export writes the users of the current view (filter, search and sort)
// as CSV next to the database; the file is written by a command, not
// while the frame waits.
func (d *Model) export(c *common.Context) tea.Cmd {
	path := c.SavePath(fmt.Sprintf("%s-users-%s.csv", d.profile.ID, c.Now().Format("20060102-150405")))
	rows := d.Rows()
	return func() tea.Msg {
		err := store.WriteExport(path, func(w io.Writer) error { return store.WriteUsersCSV(w, rows) })
		if err != nil {
			return common.ErrMsg{Err: fmt.Errorf("export: %w", err)}
		}
		return common.NoteMsg{Text: fmt.Sprintf("✓ %d user(s) written to %s", len(rows), path)}
	}
}

// copyLink copies a consent link for the selected user: the sign-in page
// with their name filled in, asking for consent. It carries no secret.
func (d *Model) copyLink(c *common.Context) tea.Cmd {
	u, ok := d.Selected()
	if !ok {
		return nil
	}
	p := d.profile
	fc, err := c.Conn(p).Identity(c.Ctx)
	if err != nil {
		return common.ErrCmd(err)
	}
	s, err := fc.StartAuthCode(flows.AuthCodeRequest{RedirectURI: "http://localhost", Scopes: p.Scopes, LoginHint: cmp.Or(u.UPN, u.Account), Prompt: "consent"})
	if err != nil {
		return common.ErrCmd(err)
	}
	return tea.Batch(tea.SetClipboard(s.URL), func() tea.Msg {
		return common.NoteMsg{Text: "✓ consent link for " + cmp.Or(u.UPN, u.Account) + " copied (OSC 52)"}
	})
}

// Keys are the dashboard's bindings: in the bar the table's own first,
// then the actions most used; F1 lists them all, by kind.
func (d *Model) Keys() help.KeyMap {
	a := actionKeys
	actions := common.KeyMap{a.SyncNow, a.SyncFailing, a.Reconsent, a.Rotate, a.Export, a.Link, a.HandOff, a.NewProfile}
	if d.profiles > 1 {
		actions = append(actions, a.NextProfile)
	}
	return dashHelp{table: d.tableKeys(), actions: actions}
}

// dashHelp is the dashboard's help: the table's keys, then its actions.
type dashHelp struct{ table, actions []key.Binding }

func (h dashHelp) ShortHelp() []key.Binding {
	return append(append([]key.Binding{}, h.table...), h.actions[:4]...)
}

func (h dashHelp) FullHelp() [][]key.Binding {
	k := dashKeys
	return [][]key.Binding{
		{k.Move, k.Detail, k.Search, k.SortHelp},
		{k.All, k.Failing, k.NoSyncID, k.SignIn, k.Expiring, k.ProductFailing},
		h.actions,
	}
}
