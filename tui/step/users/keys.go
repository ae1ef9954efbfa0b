// The users step's keys: the bindings the help bar shows, what each
// does, and the cursor's movement over the list.

package users

import (
	"errors"
	"fmt"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

var usersKeys = struct {
	Import, Add, Edit, Delete, Resolve, Move key.Binding
	SubmitImport, SubmitAdd, SubmitEdit      key.Binding
}{
	Import:  key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "import")),
	Add:     key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "add")),
	Edit:    key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit")),
	Delete:  key.NewBinding(key.WithKeys("d", "delete"), key.WithHelp("d", "del")),
	Resolve: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "resolve")),
	Move:    key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑↓", "move")),

	SubmitImport: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "import")),
	SubmitAdd:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next/add")),
	SubmitEdit:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "save")),
}

// Keys are the bindings that apply now, most useful first, as many as
// the help bar has room for next to the frame's esc and ctrl+c.
func (s *Step) Keys() help.KeyMap {
	k := usersKeys
	switch {
	case s.mode == usersImport:
		return common.KeyMap{k.SubmitImport}
	case s.mode == usersAdd:
		return common.KeyMap{k.SubmitAdd}
	case s.mode == usersEdit:
		return common.KeyMap{k.SubmitEdit}
	case s.run.Running():
		return common.KeyMap{k.Move}
	case len(s.users) == 0:
		return common.KeyMap{k.Import, k.Add}
	case s.ready():
		return common.KeyMap{common.Keys.Next, k.Move, k.Edit, k.Delete, k.Resolve, k.Import, k.Add}
	}
	return common.KeyMap{k.Resolve, k.Edit, k.Delete, k.Move, k.Import, k.Add, common.Keys.Next}
}

func (s *Step) key(c *common.Context, k tea.KeyPressMsg) (bool, tea.Cmd) {
	switch {
	case s.loading:
		return false, nil
	case s.mode != usersList:
		if key.Matches(k, common.Keys.Back) {
			s.mode, s.form, s.formErr = usersList, nil, ""
			return false, nil
		}
		s.formErr = ""
		state, cmd := s.form.Update(k)
		if state != huh.StateCompleted {
			return false, cmd
		}
		return false, tea.Batch(cmd, s.submit(c))
	}

	if s.move(k) {
		return false, nil
	}
	if s.run.Running() {
		if key.Matches(k, common.Keys.Back) {
			done := s.next
			if err := s.flush(c); err != nil {
				s.halt()
				return false, common.ErrCmd(err)
			}
			s.halt()
			s.setNote("warn", fmt.Sprintf("Stopped after %d of %d users: what was resolved is saved. Press r to start again.", done, len(s.users)))
			return false, nil
		}
		return false, common.ErrCmd(errors.New("resolving users: wait for it, or press esc to stop"))
	}

	switch {
	case key.Matches(k, common.Keys.Next):
		return s.continueIfReady()
	case key.Matches(k, usersKeys.Import):
		s.clearNote()
		s.v = usersValues{}
		s.open(c, usersImport)
	case key.Matches(k, usersKeys.Add):
		s.clearNote()
		s.v = usersValues{}
		s.open(c, usersAdd)
	case key.Matches(k, usersKeys.Edit):
		u, ok := s.selected()
		if !ok {
			return false, common.ErrCmd(errors.New("no user to edit: press i to import users or a to add one"))
		}
		s.clearNote()
		s.v = usersValues{account: u.Account}
		s.open(c, usersEdit)
	case key.Matches(k, usersKeys.Delete):
		if _, ok := s.selected(); !ok {
			return false, common.ErrCmd(errors.New("no user to remove"))
		}
		s.clearNote()
		u, _ := s.selected()
		return false, common.AskCmd(fmt.Sprintf("Remove %s (%s) with their token and sync state from this profile?", u.Key, u.Account), "Remove", "Keep",
			func() tea.Msg { return usersRemoveMsg{key: u.Key} })
	case key.Matches(k, usersKeys.Resolve):
		s.clearNote()
		return false, s.startResolve(c)
	}
	return false, nil
}

// move handles the cursor keys; it reports whether k was one.
func (s *Step) move(k tea.KeyPressMsg) bool {
	var ok bool
	ok = s.win.Move(k, len(s.users))
	return ok
}

func (s *Step) selected() (store.User, bool) {
	if s.win.Cursor < 0 || s.win.Cursor >= len(s.users) {
		return store.User{}, false
	}
	return s.users[s.win.Cursor], true
}
