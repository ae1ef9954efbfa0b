package tui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

// usersStep maps the product's users to their Entra ID accounts: the
// consultant imports the product's user export or adds users by hand,
// resolves them through Graph, and fixes or removes whoever did not
// resolve. Nothing continues silently with an unresolved user.
type usersStep struct {
	users          []store.User
	cursor, offset int
	lastRows       int // table rows the last frame had room for: a page
	width          int // of the last frame: how many bindings the help bar has room for

	mode    usersMode
	form    *form
	loading bool   // an import is reading its file
	formErr string // what went wrong with the form's file, under the form

	// A resolve run. Messages carry the run they belong to, so answers
	// that arrive after esc stopped a run are dropped.
	resolving bool
	run       int
	ctx       context.Context // the run's: esc cancels it
	cancel    context.CancelFunc
	graph     *exchange.Graph
	admin     *exchange.Graph   // the admin's sign-in from step 2, if any
	viaAdmin  bool              // graph is the admin's, not the app's
	device    *flows.DeviceCode // an admin's sign-in the run waits for
	next      int               // index of the user being resolved
	pending   []store.User      // resolved, not yet saved

	note     string // what just happened or what to do, under the table
	noteKind string // ok, warn, error
	bad      []store.RowError
	badFile  string
}

type usersMode int

const (
	usersList usersMode = iota
	usersImport
	usersAdd
	usersEdit
)

// usersSaveEvery is how many resolved users are saved in one write.
const usersSaveEvery = 50

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

func newUsersStep() *usersStep { return &usersStep{width: 80} }

func (s *usersStep) ID() string    { return stepUsers }
func (s *usersStep) Title() string { return "users and UPNs" }

// Busy is true while a resolve or an import runs, and while a form or a
// question is open: then esc reaches the step, which closes the form
// instead of leaving the step.
func (s *usersStep) Busy() bool { return s.resolving || s.loading }

// Modal: a form or question is open, and esc closes it.
func (s *usersStep) Modal() bool { return s.mode != usersList }

func (s *usersStep) Init(c *Context) tea.Cmd {
	s.width = c.Width
	if s.resolving {
		return nil
	}
	s.mode, s.form = usersList, nil
	return s.load(c)
}

// load reads the profile's users from the store.
func (s *usersStep) load(c *Context) tea.Cmd {
	if c.DB == nil || c.Profile.ID == "" {
		s.users = nil
		return nil
	}
	users, err := c.DB.Users(c.Profile.ID)
	if err != nil {
		return errCmd(fmt.Errorf("read users: %w", err))
	}
	s.users = users
	s.cursor = min(s.cursor, max(len(users)-1, 0))
	return nil
}

// Keys are the bindings that apply now, most useful first, as many as
// the help bar has room for next to the frame's esc and ctrl+c.
func (s *usersStep) Keys() help.KeyMap {
	k := usersKeys
	switch {
	case s.mode == usersImport:
		return keyMap{k.SubmitImport}
	case s.mode == usersAdd:
		return keyMap{k.SubmitAdd}
	case s.mode == usersEdit:
		return keyMap{k.SubmitEdit}
	case s.resolving:
		return keyMap{k.Move}
	case len(s.users) == 0:
		return keyMap{k.Import, k.Add}
	case s.ready():
		return keyMap{keys.Next, k.Move, k.Edit, k.Delete, k.Resolve, k.Import, k.Add}
	}
	return keyMap{k.Resolve, k.Edit, k.Delete, k.Move, k.Import, k.Add, keys.Next}
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

func (s *usersStep) Update(c *Context, msg tea.Msg) (bool, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		s.width = msg.Width
	case usersImportedMsg:
		return false, s.imported(msg)
	case usersRemoveMsg:
		return false, s.remove(c, msg.key)
	case usersGraphMsg:
		if msg.run != s.run || !s.resolving {
			return false, nil
		}
		var up *usersProblem
		if errors.As(msg.err, &up) && up.adminCan {
			return false, s.startAdminSignIn(c)
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
		if msg.run != s.run || !s.resolving {
			return false, nil
		}
		if msg.err != nil {
			s.viaAdmin = true
			return false, s.stop(c, msg.err)
		}
		s.device = msg.dc
		ctx, run := s.ctx, s.run
		return false, func() tea.Msg {
			g, _, err := finishAdminSignIn(ctx, c, msg.fc, msg.dc)
			return usersGraphMsg{run: run, graph: g, viaAdmin: true, err: err}
		}
	case usersResolvedMsg:
		if msg.run != s.run || !s.resolving {
			return false, nil
		}
		if errors.Is(msg.err, exchange.ErrForbidden) && !s.viaAdmin {
			// The app may not read users (no plan grants it that): go on
			// with the rights of an admin, who signed in for step 2 or
			// signs in now, from this user.
			if s.admin == nil {
				return false, s.startAdminSignIn(c)
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
		// Pastes and the input's own messages.
		_, _, cmd := s.form.Update(msg)
		return false, cmd
	}
	return false, nil
}

func (s *usersStep) key(c *Context, k tea.KeyPressMsg) (bool, tea.Cmd) {
	switch {
	case s.loading:
		return false, nil
	case s.mode != usersList:
		if key.Matches(k, keys.Back) {
			s.mode, s.form, s.formErr = usersList, nil, ""
			return false, nil
		}
		s.formErr = ""
		submitted, _, cmd := s.form.Update(k)
		if !submitted {
			return false, cmd
		}
		return false, tea.Batch(cmd, s.submit(c))
	}

	if s.move(k) {
		return false, nil
	}
	if s.resolving {
		if key.Matches(k, keys.Back) {
			done := s.next
			if err := s.flush(c); err != nil {
				s.halt()
				return false, errCmd(err)
			}
			s.halt()
			s.setNote("warn", fmt.Sprintf("Stopped after %d of %d users: what was resolved is saved. Press r to start again.", done, len(s.users)))
			return false, nil
		}
		return false, errCmd(errors.New("resolving users: wait for it, or press esc to stop"))
	}

	switch {
	case key.Matches(k, keys.Next):
		return s.continueIfReady()
	case key.Matches(k, usersKeys.Import):
		s.clearNote()
		s.form = newForm(&field{Key: "path", Label: "CSV file", Kind: textField,
			Hint: "The product's user export, e.g. ~/mgebru.csv: ';' or ',' separated, with a header.", Validate: required("the path of the CSV file")})
		s.mode = usersImport
	case key.Matches(k, usersKeys.Add):
		s.clearNote()
		s.form = newForm(
			&field{Key: "key", Label: "User key", Kind: textField, Hint: "The product's own key for the user, e.g. ADV. Empty: the account."},
			&field{Key: "name", Label: "Name", Kind: textField, Hint: "As the product shows it (may stay empty)."},
			&field{Key: "account", Label: "Exchange account", Kind: textField, Hint: "The address entered in the product, e.g. anna@contoso.com.", Validate: usersValidAccount},
		)
		s.mode = usersAdd
	case key.Matches(k, usersKeys.Edit):
		u, ok := s.selected()
		if !ok {
			return false, errCmd(errors.New("no user to edit: press i to import users or a to add one"))
		}
		s.clearNote()
		s.form = newForm(&field{Key: "account", Label: "Exchange account", Kind: textField,
			Hint: "Correct it in the product too, or the next import brings the old one back.", Validate: usersValidAccount})
		s.form.Set("account", u.Account)
		s.mode = usersEdit
	case key.Matches(k, usersKeys.Delete):
		if _, ok := s.selected(); !ok {
			return false, errCmd(errors.New("no user to remove"))
		}
		s.clearNote()
		u, _ := s.selected()
		return false, askCmd(fmt.Sprintf("Remove %s (%s) with their token and sync state from this profile?", u.Key, u.Account), "Remove", "Keep",
			func() tea.Msg { return usersRemoveMsg{key: u.Key} })
	case key.Matches(k, usersKeys.Resolve):
		s.clearNote()
		return false, s.startResolve(c)
	}
	return false, nil
}

// move handles the cursor keys; it reports whether k was one.
func (s *usersStep) move(k tea.KeyPressMsg) bool {
	var ok bool
	s.cursor, ok = moveCursor(k, s.cursor, len(s.users), s.rows())
	return ok
}

func (s *usersStep) selected() (store.User, bool) {
	if s.cursor < 0 || s.cursor >= len(s.users) {
		return store.User{}, false
	}
	return s.users[s.cursor], true
}

func (s *usersStep) setNote(kind, text string) { s.note, s.noteKind = text, kind }

func (s *usersStep) clearNote() { s.note, s.noteKind, s.bad, s.badFile = "", "", nil, "" }

// ready reports whether every user resolved to an account modauth can use.
func (s *usersStep) ready() bool {
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
func (s *usersStep) continueIfReady() (bool, tea.Cmd) {
	if len(s.users) == 0 {
		s.setNote("error", "The product's users come first: press i to import its user export (CSV) or a to add a user.")
		return false, errCmd(errors.New("no users yet: import them with i or add one with a"))
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
	return false, errCmd(fmt.Errorf("%d of %d users %s not ready: %s. Resolve (r), edit (e) or remove (d) them", bad, len(s.users), verb, strings.Join(parts, ", ")))
}

// submit acts on a completed form.
func (s *usersStep) submit(c *Context) tea.Cmd {
	if c.DB == nil || c.Profile.ID == "" {
		s.mode, s.form = usersList, nil
		return errCmd(errors.New("no profile to keep users in: go back to step 1"))
	}
	switch s.mode {
	case usersImport:
		s.loading = true
		return usersImportCmd(c.DB, c.Profile.ID, usersPath(s.form.Value("path")))
	case usersAdd:
		u := store.User{Key: s.form.Value("key"), Name: s.form.Value("name"), Account: s.form.Value("account")}
		if u.Key == "" {
			u.Key = strings.ToLower(u.Account)
		}
		for _, o := range s.users {
			if strings.EqualFold(o.Key, u.Key) {
				s.form.SetError("key", fmt.Sprintf("%s is already a user: change its account with e in the list", o.Key))
				return nil
			}
		}
		if err := c.DB.PutUsers(c.Profile.ID, u); err != nil {
			return errCmd(fmt.Errorf("add user: %w", err))
		}
		s.mode, s.form = usersList, nil
		cmd := s.load(c)
		s.selectKey(u.Key)
		s.setNote("ok", fmt.Sprintf("Added %s. Press r to resolve it.", u.Key))
		return cmd
	case usersEdit:
		u, ok := s.selected()
		account := s.form.Value("account")
		s.mode, s.form = usersList, nil
		if !ok || account == u.Account {
			return nil
		}
		u.Account = account
		u.UPN, u.PrimarySMTP, u.ObjectID, u.ResolvedBy, u.Mapping = "", "", "", "", store.MappingUnresolved
		if err := c.DB.PutUsers(c.Profile.ID, u); err != nil {
			return errCmd(fmt.Errorf("change account of %s: %w", u.Key, err))
		}
		cmd := s.load(c)
		s.selectKey(u.Key)
		s.setNote("ok", fmt.Sprintf("%s is now %s. Press r to resolve it.", u.Key, account))
		return cmd
	}
	return nil
}

// confirm answers the question whether to remove the selected user.
// remove deletes a user, once the question was answered yes.
func (s *usersStep) remove(c *Context, key string) tea.Cmd {
	s.selectKey(key)
	u, ok := s.selected()
	if !ok || u.Key != key {
		return nil
	}
	if err := c.DB.DeleteUser(c.Profile.ID, u.Key); err != nil {
		return errCmd(fmt.Errorf("remove %s: %w", u.Key, err))
	}
	cmd := s.load(c)
	s.setNote("ok", fmt.Sprintf("Removed %s (%s) from %s.", u.Key, u.Account, c.Profile.ID))
	return cmd
}

func (s *usersStep) selectKey(k string) {
	for i, u := range s.users {
		if u.Key == k {
			s.cursor = i
		}
	}
}

// usersValidAccount checks an account as the CSV import does.
func usersValidAccount(v string) error {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return errors.New("enter the Exchange account, like anna@contoso.com")
	case !strings.Contains(v, "@") || strings.ContainsAny(v, " \t<>"):
		return fmt.Errorf("%q is not an address like name@domain", v)
	}
	return nil
}

// usersPath cleans a typed or pasted path: quotes a file manager added,
// and ~ for the home folder.
func usersPath(p string) string {
	p = strings.TrimSpace(p)
	if len(p) >= 2 && (p[0] == '"' || p[0] == '\'') && p[len(p)-1] == p[0] {
		p = p[1 : len(p)-1]
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok || p == "~" {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, rest)
		}
	}
	return p
}

// usersImportCmd reads a CSV file and merges its users into the
// profile's: all or nothing.
func usersImportCmd(db *store.DB, profileID, path string) tea.Cmd {
	return func() tea.Msg {
		msg := usersImportedMsg{file: path}
		f, err := os.Open(path)
		if err != nil {
			msg.err = err
			return msg
		}
		defer f.Close()
		in, warnings, err := store.ReadUsersCSV(f)
		if err != nil {
			msg.err = err
			return msg
		}
		msg.warnings = warnings
		existing, err := db.Users(profileID)
		if err != nil {
			msg.err = err
			return msg
		}
		changed, added, updated := store.MergeUsers(existing, in)
		if len(changed) > 0 {
			if err := db.PutUsers(profileID, changed...); err != nil {
				msg.err = fmt.Errorf("save users: %w", err)
				return msg
			}
		}
		msg.users, err = db.Users(profileID)
		msg.added, msg.updated, msg.err = added, updated, err
		return msg
	}
}

func (s *usersStep) imported(msg usersImportedMsg) tea.Cmd {
	s.loading = false
	var ie *store.ImportError
	switch {
	case errors.As(msg.err, &ie):
		s.mode, s.form = usersList, nil
		s.clearNote()
		s.bad, s.badFile = ie.Rows, filepath.Base(msg.file)
		lines := make([]string, len(ie.Rows))
		for i, r := range ie.Rows {
			lines[i] = fmt.Sprint(r.Line)
		}
		word := "line"
		if len(lines) > 1 {
			word = "lines"
		}
		return errCmd(fmt.Errorf("%s, nothing imported: %s %s", usersN(len(ie.Rows), "bad line"), word, strings.Join(lines, ", ")))
	case msg.err != nil:
		// A file that cannot be read or is no user export: stay in the
		// form to pick another.
		s.formErr = "Nothing imported: " + strings.TrimPrefix(msg.err.Error(), "read users: ")
		var pe *fs.PathError
		if errors.As(msg.err, &pe) {
			s.formErr = fmt.Sprintf("Nothing imported, %s: %s", pe.Err, pe.Path)
		}
		return nil
	}
	s.mode, s.form = usersList, nil
	s.users = msg.users
	s.cursor = min(s.cursor, max(len(s.users)-1, 0))
	n := msg.added + msg.updated
	s.setNote("ok", fmt.Sprintf("Imported %s from %s: %d new, %d updated. Press r to resolve them.", usersN(n, "user"), filepath.Base(msg.file), msg.added, msg.updated))
	if n == 0 {
		s.setNote("ok", fmt.Sprintf("%s holds no changes: every user in it is here already.", filepath.Base(msg.file)))
	}
	if len(msg.warnings) > 0 {
		lines := make([]string, len(msg.warnings))
		for i, w := range msg.warnings {
			lines[i] = w.String()
		}
		s.setNote("warn", s.note+" "+usersN(len(lines), "warning")+": "+strings.Join(lines, "; ")+".")
	}
	return nil
}

// startResolve begins a run: first an app-only token, then one user
// after the other, each a command, so the screen shows the progress.
func (s *usersStep) startResolve(c *Context) tea.Cmd {
	if len(s.users) == 0 {
		return errCmd(errors.New("no users to resolve: press i to import them or a to add one"))
	}
	if c.DB == nil || c.Profile.ID == "" {
		return errCmd(errors.New("no profile: go back to step 1"))
	}
	base := c.ctx
	if base == nil {
		base = context.Background()
	}
	ctx, cancel := context.WithCancel(base)
	s.run++
	s.resolving, s.ctx, s.cancel, s.graph, s.next, s.pending = true, ctx, cancel, nil, 0, nil
	s.admin, s.viaAdmin = c.AdminGraph, false
	run, db, p, cn, admin := s.run, c.DB, c.Profile, c.conn(c.Profile), c.AdminGraph
	return func() tea.Msg {
		g, viaAdmin, err := usersGraph(ctx, db, p, cn, admin)
		return usersGraphMsg{run: run, graph: g, viaAdmin: viaAdmin, err: err}
	}
}

func (s *usersStep) resolveNext(c *Context) tea.Cmd {
	if s.next >= len(s.users) {
		err := s.flush(c)
		s.halt()
		if err != nil {
			return errCmd(err)
		}
		s.setNote("ok", "Resolved "+s.summaryText()+".")
		if !s.ready() {
			s.setNote("warn", "Resolved "+s.summaryText()+". Fix or remove the users marked in red: select one to see how.")
		}
		return nil
	}
	ctx, run, g, u := s.ctx, s.run, s.graph, s.users[s.next]
	return func() tea.Msg {
		ru, err := g.ResolveUser(ctx, u)
		return usersResolvedMsg{run: run, user: ru, err: err}
	}
}

// stop ends a run on a failure, keeping what was resolved.
func (s *usersStep) stop(c *Context, err error) tea.Cmd {
	ferr := s.flush(c)
	s.halt()
	slot, fix := usersExplain(c.Profile, s.viaAdmin, err)
	s.setNote("error", fix)
	if ferr != nil {
		return errCmd(ferr)
	}
	return errCmd(errors.New(slot))
}

func (s *usersStep) halt() {
	if s.cancel != nil {
		s.cancel()
	}
	s.resolving, s.ctx, s.cancel, s.graph, s.admin, s.device = false, nil, nil, nil, nil, nil
}

// usersAdminScopes are the Graph permissions an admin's sign-in needs to
// look users up.
var usersAdminScopes = []string{"User.Read.All"}

// startAdminSignIn: the app may not look users up itself, so an admin
// signs in to do it, within the same run.
func (s *usersStep) startAdminSignIn(c *Context) tea.Cmd {
	ctx, run := s.ctx, s.run
	return func() tea.Msg {
		fc, dc, err := startAdminSignIn(ctx, c, usersAdminScopes)
		return usersAdminCodeMsg{run: run, fc: fc, dc: dc, err: err}
	}
}

// flush saves the resolved users not yet saved, in one write.
func (s *usersStep) flush(c *Context) error {
	if len(s.pending) == 0 {
		return nil
	}
	err := c.DB.PutUsers(c.Profile.ID, s.pending...)
	s.pending = nil
	if err != nil {
		return fmt.Errorf("save resolved users: %w", err)
	}
	return nil
}

// usersProblem is a setup problem that stops a resolve: a short line for
// the error slot and the fix; adminCan when an admin's sign-in can
// resolve instead.
type usersProblem struct {
	msg, fix string
	adminCan bool
}

func (e *usersProblem) Error() string { return e.msg }

// usersGraph is the Graph client a resolve uses: the app-only token of
// the profile's stored client secret, as the headless commands make it,
// or, when the profile has no app-only access yet, the admin who signed
// in for step 2. It gets the app's first token at once, so a wrong
// secret shows before any user.
func usersGraph(ctx context.Context, db *store.DB, p store.Profile, cn *conn.Conn, admin *exchange.Graph) (g *exchange.Graph, viaAdmin bool, err error) {
	const why = "Resolving looks users up in Entra ID as the app itself: it needs the app's client ID and client secret (step 3) and the Microsoft Graph application permission User.Read.All with admin consent. An admin who signs in with \"register for me\" in step 2 can resolve them instead."
	tenant := conn.Tenant(p)
	var problem *usersProblem
	secret, err := db.ClientSecret(p.ID)
	switch {
	case p.ClientID == "":
		problem = &usersProblem{msg: "The profile has no application (client) ID: enter it in step 3 (esc goes back), then press r", fix: why}
	case tenant == "":
		problem = &usersProblem{msg: "The profile has no tenant: enter it in step 3 (esc goes back), then press r", fix: why}
	case errors.Is(err, store.ErrNotFound):
		problem = &usersProblem{msg: "No client secret is stored for the app: enter its value in step 3 (esc goes back), then press r", fix: why,
			adminCan: p.Model != store.AppOnly && p.RedirectURI == ""} // step 3 asked for none
	case err != nil:
		return nil, false, err
	}
	if problem != nil {
		if admin != nil {
			return admin, true, nil
		}
		return nil, false, problem
	}
	g, err = usersAppGraph(ctx, cn.WithSecret(secret.Value))
	return g, false, err
}

// usersAppGraph is Graph on the app's client-credentials token, with the
// first token got at once.
func usersAppGraph(ctx context.Context, cn *conn.Conn) (*exchange.Graph, error) {
	g := cn.AppGraph()
	if _, err := g.Token(ctx); err != nil {
		return nil, err
	}
	return g, nil
}

// usersExplain turns a failed resolve into a line for the error slot and
// the fix shown under the table.
func usersExplain(p store.Profile, viaAdmin bool, err error) (slot, fix string) {
	var up *usersProblem
	var fe *flows.Error
	grant := "In Entra ID, App registrations › the app (" + p.ClientID + ") › API permissions: add Microsoft Graph › Application permissions › User.Read.All, press \"Grant admin consent\", then press r here again."
	switch {
	case errors.As(err, &up):
		return up.msg, up.fix
	case errors.As(err, &fe) && viaAdmin:
		return "Entra ID refused the admin's sign-in: " + fe.Error(), fe.Fix()
	case errors.As(err, &fe):
		return "Entra ID refused the app's sign-in: " + fe.Error(), fe.Fix()
	case errors.Is(err, exchange.ErrForbidden) && viaAdmin:
		return "The admin who signed in may not read users, and the app has no access of its own to use instead",
			"Sign in with \"register for me\" in step 2 as an admin who may read users (e.g. Global Reader or User Administrator), or: " + grant
	case errors.Is(err, exchange.ErrForbidden):
		return "The app may not read users: it lacks the application permission User.Read.All (or its admin consent)", grant
	case errors.Is(err, exchange.ErrThrottled):
		return "Graph is throttling the app: wait a minute, then press r",
			"Users resolved so far are saved; the next run picks them up again."
	}
	return "Resolving failed: " + err.Error(),
		"Users resolved so far are saved. Check the network and the profile's hosts (step 1), then press r to try again."
}

// The view.

var usersStatus = map[store.MappingStatus]string{
	store.MappingUnresolved: "unresolved",
	store.MappingOK:         "ok",
	store.MappingMismatch:   "mismatch",
	store.MappingNotFound:   "not found",
	store.MappingDisabled:   "disabled",
	store.MappingNoMailbox:  "no mailbox",
}

func usersStatusStyle(st Styles, m store.MappingStatus) lipgloss.Style {
	switch m {
	case store.MappingOK:
		return st.OK
	case store.MappingMismatch, store.MappingUnresolved:
		return st.Warn
	}
	return st.Error
}

// usersFix is what to do about a user, in a sentence.
func usersFix(u store.User, preset string) string {
	where := "in the product"
	if strings.HasPrefix(preset, "allsolutions") {
		where = "in the product (e.g. MGEBRU)"
	}
	switch u.Mapping {
	case store.MappingOK:
		return fmt.Sprintf("OK: the account is the UPN; primary address %s.", usersOr(u.PrimarySMTP, u.UPN))
	case store.MappingMismatch:
		how := "Found by alias"
		if u.ResolvedBy == exchange.ByMail {
			how = "Found by mail address"
		}
		return fmt.Sprintf("%s: the product should use the UPN %s (or keep it: modauth uses the UPN and primary address).", how, u.UPN)
	case store.MappingNotFound:
		return "No Entra user has this address: correct the Exchange account " + where + " or press e to edit it."
	case store.MappingDisabled:
		return fmt.Sprintf("The Entra account %s is disabled: enable it in Entra ID and press r, or press d if the user left.", u.UPN)
	case store.MappingNoMailbox:
		return fmt.Sprintf("%s has no Exchange Online mailbox: assign a licence with Exchange and press r, or press d.", u.UPN)
	}
	return "Not resolved yet: press r to look every user up in Entra ID."
}

func usersOr(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// tally counts the users resolved ok, found by an alias, and still to fix.
func (s *usersStep) tally() (ok, mismatch, todo int) {
	for _, u := range s.users {
		switch u.Mapping {
		case store.MappingOK:
			ok++
		case store.MappingMismatch:
			mismatch++
		default:
			todo++
		}
	}
	return ok, mismatch, todo
}

// summaryText counts the users by status: "5 users: 1 ok, 1 mismatch, 3 to fix".
func (s *usersStep) summaryText() string {
	ok, mis, todo := s.tally()
	return fmt.Sprintf("%s: %d ok, %d mismatch, %d to fix", usersN(len(s.users), "user"), ok, mis, todo)
}

// rows is how many table rows the last frame had room for.
func (s *usersStep) rows() int { return s.lastRows }

func (s *usersStep) View(c *Context) string {
	s.width = c.Width
	if s.form != nil && s.mode != usersList {
		return s.formView(c)
	}
	if s.device != nil {
		return adminCodeView(c, s.device, "look the users up in Entra ID: the app may not read users itself", "a user who may read users, e.g. Global Reader or User Administrator")
	}
	st := c.Styles
	w := c.Width
	top := []string{st.Bold.Render("Map each product user to their Entra ID account (UPN)")}
	if len(s.users) > 0 {
		top = append(top, "") // the summary, once the rows are known
	}
	top = append(top, "")

	var bottom []string
	if s.resolving {
		if s.graph == nil {
			bottom = append(bottom, "resolving: getting an app-only token from Entra ID…")
		} else {
			via := ""
			if s.viaAdmin {
				via = " (with the admin's sign-in)"
			}
			bottom = append(bottom, ansi.Truncate(fmt.Sprintf("resolving %d/%d%s: %s · esc stops", s.next+1, len(s.users), via, s.users[s.next].Account), w, "…"))
		}
	}
	if u, ok := s.selected(); ok {
		bottom = append(bottom, usersWrapped(usersStatusStyle(st, u.Mapping), u.Key+" · "+usersFix(u, c.Profile.Preset), w, 3)...)
	}
	if s.note != "" {
		style := st.OK
		switch s.noteKind {
		case "warn":
			style = st.Warn
		case "error":
			style = st.Error
		}
		bottom = append(bottom, usersWrapped(style, s.note, w, 4)...)
	}
	if len(s.bad) > 0 {
		bottom = append(bottom, st.Error.Render(fmt.Sprintf("Nothing imported from %s: fix these lines and press i again.", s.badFile)))
		for _, r := range s.bad {
			bottom = append(bottom, ansi.Truncate(fmt.Sprintf("  line %d: %s", r.Line, r.Msg), w, "…"))
		}
	}

	h := c.bodyHeight()
	if len(s.users) == 0 {
		empty := usersWrapped(st.Faint, "No users yet. Press i to import the product's user export (a CSV file with a header naming the key, name and Exchange account columns) or a to add a user by hand.", w, 4)
		out := append(append(top, empty...), "")
		return strings.Join(usersClip(append(out, bottom...), h), "\n")
	}

	const minRows = 3
	room := h - len(top) - 1 - 1 // header and the blank line under the table
	if len(bottom) > room-minRows {
		bottom = usersClip(bottom, max(room-minRows, 0))
	}
	rows := max(min(room-len(bottom), len(s.users)), 1)
	s.lastRows = rows
	if s.cursor < s.offset {
		s.offset = s.cursor
	}
	if s.cursor >= s.offset+rows {
		s.offset = s.cursor - rows + 1
	}
	s.offset = max(min(s.offset, len(s.users)-rows), 0)
	top[1] = s.summaryLine(st)

	kw, aw, uw := usersColumns(w)
	out := top
	out = append(out, st.Faint.Render("  "+usersCell("Key", kw)+"  "+usersCell("Account as entered", aw)+"  "+usersCell("UPN", uw)+"  "+"Status"))
	for i := s.offset; i < min(s.offset+rows, len(s.users)); i++ {
		u := s.users[i]
		marker, cell := "  ", func(v string, n int) string { return usersCell(v, n) }
		if i == s.cursor {
			marker = st.Selected.Render("› ")
			cell = func(v string, n int) string { return st.Bold.Render(usersCell(v, n)) }
		}
		upn := u.UPN
		if u.Mapping == store.MappingNotFound {
			upn = "—"
		}
		status := usersStatusStyle(st, u.Mapping).Render(usersStatus[u.Mapping])
		out = append(out, marker+cell(u.Key, kw)+"  "+cell(u.Account, aw)+"  "+cell(upn, uw)+"  "+status)
	}
	out = append(out, "")
	return strings.Join(append(out, bottom...), "\n")
}

// summaryLine is summaryText in colour, with the rows shown when the
// table scrolls.
func (s *usersStep) summaryLine(st Styles) string {
	ok, mis, todo := s.tally()
	line := usersN(len(s.users), "user") + ": " + st.OK.Render(fmt.Sprintf("%d ok", ok)) + ", " +
		st.Warn.Render(fmt.Sprintf("%d mismatch", mis)) + ", "
	if todo > 0 {
		line += st.Error.Render(fmt.Sprintf("%d to fix", todo))
	} else {
		line += "0 to fix"
	}
	if s.lastRows > 0 && s.lastRows < len(s.users) {
		last := min(s.offset+s.lastRows, len(s.users))
		line += st.Faint.Render(fmt.Sprintf("  (rows %d-%d of %d)", s.offset+1, last, len(s.users)))
	}
	return line
}

func (s *usersStep) formView(c *Context) string {
	st := c.Styles
	var title, enter string
	switch s.mode {
	case usersImport:
		title, enter = "Import the product's users from a CSV file", "enter imports"
	case usersAdd:
		title, enter = "Add a user", "enter: next field, then add"
	case usersEdit:
		u, _ := s.selected()
		who := u.Key
		if u.Name != "" {
			who += " (" + u.Name + ")"
		}
		title, enter = "Change the Exchange account of "+who, "enter saves; the user must be resolved again"
	}
	out := st.Bold.Render(title) + "\n\n" + s.form.View(st, c.Width)
	if s.formErr != "" {
		out += "\n" + strings.Join(usersWrapped(st.Error, "✗ "+s.formErr, c.Width, 4), "\n") + "\n"
	}
	if s.loading {
		out += "\n" + st.Faint.Render("reading the file…")
	}
	return out + "\n" + st.Faint.Render(enter+" · esc goes back to the list")
}

// usersColumns shares the width between key, account and UPN; status
// takes 10 cells, the marker 2 and the gaps 6.
func usersColumns(width int) (kw, aw, uw int) {
	rest := max(width-2-6-10-1, 30)
	kw = min(max(rest/5, 4), 16)
	aw = (rest - kw) / 2
	return kw, aw, rest - kw - aw
}

// usersCell fits v in n cells: cut with … or padded with spaces.
func usersCell(v string, n int) string {
	v = ansi.Truncate(v, n, "…")
	return v + strings.Repeat(" ", max(n-ansi.StringWidth(v), 0))
}

// usersWrapped wraps plain text to width and styles each line, keeping at
// most n lines.
func usersWrapped(style lipgloss.Style, text string, width, n int) []string {
	lines := strings.Split(wrap(text, width-1), "\n")
	if len(lines) > n {
		lines = lines[:n]
		lines[n-1] = ansi.Truncate(lines[n-1], width-2, "") + "…"
	}
	for i, l := range lines {
		lines[i] = style.Render(l)
	}
	return lines
}

// usersClip keeps at most n lines, saying how many it left out.
func usersClip(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	if n <= 0 {
		return nil
	}
	out := append([]string{}, lines[:n-1]...)
	return append(out, "  … "+usersN(len(lines)-n+1, "more line"))
}

// usersN counts: "1 user", "2 users".
func usersN(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
