package users

import (
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// usersStep maps the product's users to their Entra ID accounts: the
// consultant imports the product's user export or adds users by hand,
// resolves them through Graph, and fixes or removes whoever did not
// resolve. Nothing continues silently with an unresolved user.
type Step struct {
	users []store.User
	win   common.Window // the table's cursor and rows in view, from layout
	width int           // of the last frame: how many bindings the help bar has room for

	mode    usersMode
	form    *common.Form
	v       usersValues
	loading bool   // an import is reading its file
	formErr string // what went wrong with the form's file, under the form

	// A resolve run: esc stops it. Messages carry the run they belong to,
	// so answers that arrive after that are dropped.
	run      common.Task
	graph    *exchange.Graph
	admin    *exchange.Graph   // the admin's sign-in from step 2, if any
	viaAdmin bool              // graph is the admin's, not the app's
	device   *flows.DeviceCode // an admin's sign-in the run waits for
	next     int               // index of the user being resolved
	pending  []store.User      // resolved, not yet saved

	note     string // what just happened or what to do, under the table
	noteKind string // ok, warn, error
	bad      []store.RowError
	badFile  string
}

// usersValues are the answers of the step's forms.
type usersValues struct{ path, key, name, account string }

type usersMode int

const (
	usersList usersMode = iota
	usersImport
	usersAdd
	usersEdit
)

// usersSaveEvery is how many resolved users are saved in one write.
const usersSaveEvery = 50

func New() *Step { return &Step{width: 80} }

func (s *Step) ID() string    { return common.StepUsers }
func (s *Step) Title() string { return "users and UPNs" }

// Busy is true while a resolve or an import runs, and while a form or a
// question is open: then esc reaches the step, which closes the form
// instead of leaving the step.
func (s *Step) Busy() bool { return s.run.Running() || s.loading }

// SetSize fits an open form between its title and its notes.
func (s *Step) SetSize(c *common.Context) {
	s.width = c.Width
	if s.form != nil {
		s.form.SetSize(c.Width, c.BodyHeight()-6)
	}
	s.layout(c)
}

// Modal: a form or question is open, and esc closes it.
func (s *Step) Modal() bool { return s.mode != usersList }

func (s *Step) Init(c *common.Context) tea.Cmd {
	s.width = c.Width
	if s.run.Running() {
		return nil
	}
	s.mode, s.form = usersList, nil
	cmd := s.load(c)
	s.layout(c)
	return cmd
}

// load reads the profile's users from the store.
func (s *Step) load(c *common.Context) tea.Cmd {
	if c.DB == nil || c.Profile.ID == "" {
		s.users = nil
		return nil
	}
	users, err := c.DB.Users(c.Profile.ID)
	if err != nil {
		return common.ErrCmd(fmt.Errorf("read users: %w", err))
	}
	s.users = users
	s.win.Cursor = min(s.win.Cursor, max(len(users)-1, 0))
	return nil
}

// Messages of the step's long work.
type (
	usersImportedMsg struct {
		file           string
		users          []store.User // all the profile's users after the import
		added, updated int
		warnings       []store.Warning // odd lines that were imported all the same
		err            error
	}
	usersGraphMsg struct {
		run      int
		graph    *exchange.Graph
		viaAdmin bool
		err      error
	}
	usersResolvedMsg struct {
		run  int
		user store.User
		err  error
	}
	// usersRemoveMsg: the question to remove a user was answered yes.
	usersRemoveMsg struct{ key string }
	// usersAdminCodeMsg: the app has no access of its own, so an admin
	// signs in to resolve; this is their device code.
	usersAdminCodeMsg struct {
		run int
		fc  *flows.Client
		dc  *flows.DeviceCode
		err error
	}
)

func (s *Step) Update(c *common.Context, msg tea.Msg) (bool, tea.Cmd) {
	done, cmd := s.update(c, msg)
	s.layout(c) // what changed may move the cursor's row or the table's room
	return done, cmd
}

func (s *Step) update(c *common.Context, msg tea.Msg) (bool, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		s.width = msg.Width
	case usersImportedMsg:
		return false, s.imported(c, msg)
	case usersRemoveMsg:
		return false, s.remove(c, msg.key)
	case usersGraphMsg:
		if !s.run.Current(msg.run) {
			return false, nil
		}
		var up *usersProblem
		if errors.As(msg.err, &up) && up.adminCan {
			return false, s.adminSignIn(c)
		}
		if msg.err != nil {
			s.viaAdmin = msg.viaAdmin
			return false, s.stop(c, msg.err)
		}
		s.graph, s.viaAdmin, s.device = msg.graph, msg.viaAdmin, nil
		if msg.viaAdmin {
			c.AdminGraph = msg.graph // for the rest of the session
		}
		return false, s.resolveNext(c)
	case usersAdminCodeMsg:
		if !s.run.Current(msg.run) {
			return false, nil
		}
		if msg.err != nil {
			s.viaAdmin = true
			return false, s.stop(c, msg.err)
		}
		s.device = msg.dc
		ctx, run := s.run.Context(), s.run.ID()
		return false, func() tea.Msg {
			g, _, err := common.FinishAdminSignIn(ctx, c, msg.fc, msg.dc)
			return usersGraphMsg{run: run, graph: g, viaAdmin: true, err: err}
		}
	case usersResolvedMsg:
		if !s.run.Current(msg.run) {
			return false, nil
		}
		if errors.Is(msg.err, exchange.ErrForbidden) && !s.viaAdmin {
			// The app may not read users (no plan grants it that): go on
			// with the rights of an admin, who signed in for step 2 or
			// signs in now, from this user.
			if s.admin == nil {
				return false, s.adminSignIn(c)
			}
			s.graph, s.viaAdmin = s.admin, true
			return false, s.resolveNext(c)
		}
		if msg.err != nil {
			return false, s.stop(c, msg.err)
		}
		s.users[s.next] = msg.user
		s.pending = append(s.pending, msg.user)
		s.next++
		if len(s.pending) >= usersSaveEvery {
			if err := s.flush(c); err != nil {
				return false, s.stop(c, err)
			}
		}
		return false, s.resolveNext(c)
	case tea.KeyPressMsg:
		return s.key(c, msg)
	}
	if s.form != nil && !s.loading {
		// Pastes and the form's own messages: the last of them completes it.
		state, cmd := s.form.Update(msg)
		if state == huh.StateCompleted {
			return false, tea.Batch(cmd, s.submit(c))
		}
		return false, cmd
	}
	return false, nil
}

func (s *Step) setNote(kind, text string) { s.note, s.noteKind = text, kind }

func (s *Step) clearNote() { s.note, s.noteKind, s.bad, s.badFile = "", "", nil, "" }

// ready reports whether every user resolved to an account modauth can use.
func (s *Step) ready() bool {
	if len(s.users) == 0 {
		return false
	}
	for _, u := range s.users {
		if u.Mapping != store.MappingOK && u.Mapping != store.MappingMismatch {
			return false
		}
	}
	return true
}

// continueIfReady moves on when every user resolved, and otherwise says
// who holds the step up and what to do.
func (s *Step) continueIfReady() (bool, tea.Cmd) {
	if len(s.users) == 0 {
		s.setNote("error", "The product's users come first: press i to import its user export (CSV) or a to add a user.")
		return false, common.ErrCmd(errors.New("no users yet: import them with i or add one with a"))
	}
	if s.ready() {
		return true, nil
	}
	n := map[store.MappingStatus]int{}
	for _, u := range s.users {
		n[u.Mapping]++
	}
	var parts, todo []string
	if v := n[store.MappingUnresolved]; v > 0 {
		parts = append(parts, fmt.Sprintf("%d unresolved", v))
		todo = append(todo, "press r to resolve the unresolved")
	}
	if v := n[store.MappingNotFound]; v > 0 {
		parts = append(parts, fmt.Sprintf("%d not found", v))
		todo = append(todo, "correct the account of those not found (e, then r) or remove them (d)")
	}
	if v := n[store.MappingDisabled]; v > 0 {
		parts = append(parts, fmt.Sprintf("%d disabled", v))
	}
	if v := n[store.MappingNoMailbox]; v > 0 {
		parts = append(parts, fmt.Sprintf("%d without mailbox", v))
	}
	if n[store.MappingDisabled]+n[store.MappingNoMailbox] > 0 {
		todo = append(todo, "enable the disabled or give a mailbox in Entra ID and press r, or remove those users (d)")
	}
	bad := len(s.users) - n[store.MappingOK] - n[store.MappingMismatch]
	s.setNote("error", "Nothing continues with an unresolved user: "+strings.Join(todo, "; ")+".")
	verb := "are"
	if bad == 1 {
		verb = "is"
	}
	return false, common.ErrCmd(fmt.Errorf("%d of %d users %s not ready: %s. Resolve (r), edit (e) or remove (d) them", bad, len(s.users), verb, strings.Join(parts, ", ")))
}

// usersAdminScopes are the Graph permissions an admin's sign-in needs to
// look users up.
var usersAdminScopes = []string{"User.Read.All"}

// FieldErr is what is wrong with the open form's field.
func (s *Step) FieldErr() error {
	if s.form == nil || s.mode == usersList {
		return nil
	}
	return s.form.Err()
}

// Device is the device code of the admin sign-in a run waits for, if any.
func (s *Step) Device() *flows.DeviceCode { return s.device }

// Listing reports whether the step shows its list of users (no form, no
// import open).
func (s *Step) Listing() bool { return s.mode == usersList }
