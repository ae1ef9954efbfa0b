package tui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/internal/qr"
)

// consentStep gets every user (or the service account) signed in once, so
// that modauth holds their consent and a refresh token. It is built for a
// consultant working over SSH: the device code is shown large with a QR
// code and a countdown, and the browser sign-in shows its link and takes
// the address the browser ends on pasted back, since no browser can be
// opened on the server. App-only profiles sign nobody in.
type consentStep struct {
	mode    consentMode
	entries []consentEntry
	sel     int
	skipped int // users left out: their Exchange account is not resolved

	// The profile's connection, kept while its cloud, tenant and app stay
	// the same, so that discovery runs once.
	cn *conn.Conn

	// One sign-in at a time. seq tells its messages from those of an
	// earlier, cancelled one.
	seq     int
	ctx     context.Context
	cancel  context.CancelFunc
	working string // a request under way, shown with the spinner
	target  string // the key of the user signing in

	dev     *flows.DeviceCode
	qrText  string
	qrFor   string
	lb      *consentLoopback
	opened  bool // the browser opened on this machine
	input   textinput.Model
	brErr   string
	copied  bool
	account *form

	adminURL string

	wrong map[string]string // user key -> who signed in instead (nothing stored)
	note  string            // one good line under the table
	panel string            // a problem and what to do, under the table
}

type consentMode int

const (
	consentTable   consentMode = iota
	consentAccount             // asks the service account's name
	consentDevice              // a device code is shown and polled
	consentBrowser             // a browser sign-in: link and paste field
	consentAppOnly             // nobody signs in: the admin consent link
)

// consentEntry is one line of the table.
type consentEntry struct {
	user  store.User
	saved bool // the user record exists (a new service account's does not)
}

func (e consentEntry) account() string {
	if e.user.UPN != "" {
		return e.user.UPN
	}
	return e.user.Account
}

func (e consentEntry) label() string {
	if e.user.Name != "" && !strings.EqualFold(e.user.Name, e.account()) {
		return e.user.Name + " (" + e.account() + ")"
	}
	return e.account()
}

func (e consentEntry) done() bool { return e.user.Consent == store.ConsentDone }

// consentServiceKey is the user key a service account's token is kept
// under when the account is not one of the profile's users.
const consentServiceKey = "service-account"

var consentKeys = struct {
	Continue, Device, Browser, Export, Skip, CopyCode, CopyLink, Submit, Save key.Binding
}{
	Continue: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next")),
	Device:   key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "device")),
	Browser:  key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "browser")),
	Export:   key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "export")),
	Skip:     key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "skip")),
	CopyCode: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy code")),
	CopyLink: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy link")),
	Submit:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "use pasted address")),
	Save:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "save")),
}

// Messages of the step. Each carries the seq of the sign-in it belongs to.
type (
	consentTickMsg   struct{ seq int }
	consentDeviceMsg struct {
		seq int
		fc  *flows.Client
		dc  *flows.DeviceCode
		err error
	}
	consentBrowserMsg struct {
		seq    int
		lb     *consentLoopback
		opened bool
		err    error
	}
	consentResultMsg struct {
		seq      int
		user     string
		tok      *flows.Token
		err      error
		loopback bool // from the listener, not a paste
		pasted   bool
	}
	consentAdminMsg struct {
		seq int
		url string
		err error
	}
)

func newConsentStep() *consentStep {
	in := textinput.New()
	in.Prompt = "› "
	in.Placeholder = "http://localhost…"
	styles := in.Styles()
	styles.Cursor.Blink = false
	in.SetStyles(styles)
	return &consentStep{input: in, wrong: map[string]string{}}
}

func (s *consentStep) ID() string    { return stepConsent }
func (s *consentStep) Title() string { return "sign-in and consent" }

// Busy while a sign-in runs: Esc then cancels it instead of leaving the step.
func (s *consentStep) Busy() bool {
	return s.working != "" || s.mode == consentDevice || s.mode == consentBrowser
}

func (s *consentStep) Keys() help.KeyMap {
	switch {
	case s.working != "":
		return keyMap{}
	case s.mode == consentAccount:
		return keyMap{consentKeys.Save}
	case s.mode == consentDevice:
		return keyMap{consentKeys.CopyCode, consentKeys.Browser}
	case s.mode == consentBrowser:
		return keyMap{consentKeys.Submit, consentKeys.CopyLink}
	case s.mode == consentAppOnly:
		return keyMap{consentKeys.Continue, consentKeys.CopyLink}
	}
	// ↑/↓ work too; the help bar has no room for them at 80 columns.
	return keyMap{consentKeys.Continue, consentKeys.Device, consentKeys.Browser, consentKeys.Export, consentKeys.Skip}
}

// Init (re)loads who signs in; a sign-in left running is cancelled.
func (s *consentStep) Init(c *Context) tea.Cmd {
	s.endSession()
	s.mode, s.note, s.panel, s.working = consentTable, "", "", ""
	switch c.Profile.Model {
	case store.AppOnly:
		s.mode = consentAppOnly
		return s.startAdminURL(c)
	case store.ServiceAccount:
		if c.Profile.ServiceAccount == "" {
			s.mode = consentAccount
			s.account = newForm(&field{Key: "account", Label: "Service account", Kind: textField,
				Hint: "The account that signs in and reaches every mailbox, e.g. svc-crm@contoso.com.", Validate: consentValidUPN})
			return nil
		}
	}
	if err := s.load(c); err != nil {
		return errCmd(err)
	}
	return nil
}

func consentValidUPN(v string) error {
	if v == "" || strings.ContainsAny(v, " \t") || !strings.Contains(v, "@") || strings.HasPrefix(v, "@") || strings.HasSuffix(v, "@") {
		return errors.New("enter the account's sign-in name, like svc-crm@contoso.com")
	}
	return nil
}

// load builds the table: every user with a resolved account, or the one
// service account.
func (s *consentStep) load(c *Context) error {
	var users []store.User
	if c.DB != nil && c.Profile.ID != "" {
		var err error
		if users, err = c.DB.Users(c.Profile.ID); err != nil {
			return fmt.Errorf("load users: %w", err)
		}
	}
	s.entries, s.skipped = nil, 0
	if c.Profile.Model == store.ServiceAccount {
		sa := c.Profile.ServiceAccount
		e := consentEntry{user: store.User{Key: consentServiceKey, Name: "Service account", Account: sa, UPN: sa, Mapping: store.MappingOK}}
		for _, u := range users {
			if u.Key == consentServiceKey || strings.EqualFold(u.UPN, sa) || (u.UPN == "" && strings.EqualFold(u.Account, sa)) {
				e = consentEntry{user: u, saved: true}
				break
			}
		}
		s.entries = []consentEntry{e}
	} else {
		for _, u := range users {
			if u.Mapping == store.MappingOK || u.Mapping == store.MappingMismatch {
				s.entries = append(s.entries, consentEntry{user: u, saved: true})
			} else {
				s.skipped++
			}
		}
	}
	s.sel = min(s.sel, max(len(s.entries)-1, 0))
	if i := s.firstPending(); i >= 0 && s.sel < len(s.entries) && s.entries[s.sel].done() {
		s.sel = i
	}
	return nil
}

func (s *consentStep) firstPending() int {
	return slices.IndexFunc(s.entries, func(e consentEntry) bool { return !e.done() })
}

func (s *consentStep) pending() []consentEntry {
	var out []consentEntry
	for _, e := range s.entries {
		if !e.done() {
			out = append(out, e)
		}
	}
	return out
}

func (s *consentStep) entry(key string) (int, bool) {
	i := slices.IndexFunc(s.entries, func(e consentEntry) bool { return e.user.Key == key })
	return i, i >= 0
}

// endSession stops a sign-in under way: its poll, its listener.
func (s *consentStep) endSession() {
	s.seq++
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	if s.lb != nil {
		s.lb.close()
		s.lb = nil
	}
	s.ctx, s.dev, s.working, s.brErr, s.copied, s.opened = nil, nil, "", "", false, false
	s.input.Reset()
	s.input.Blur()
}

// session starts a new sign-in and returns its seq and context.
func (s *consentStep) session(c *Context, working string) (int, context.Context) {
	s.endSession()
	parent := c.ctx
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	s.ctx, s.cancel, s.working, s.note, s.panel = ctx, cancel, working, "", ""
	return s.seq, ctx
}

// conn is the profile's connection, made anew when the profile's cloud,
// tenant or app changed.
func (s *consentStep) conn(c *Context) (*conn.Conn, error) {
	if c.Profile.ClientID == "" || conn.Tenant(c.Profile) == "" {
		return nil, errors.New("the profile has no tenant or client ID yet: go back (esc) to the IDs step")
	}
	if s.cn == nil || !s.cn.Serves(c.Profile) {
		s.cn = c.conn(c.Profile)
	}
	return s.cn, nil
}

func (s *consentStep) startAdminURL(c *Context) tea.Cmd {
	s.adminURL = ""
	cn, err := s.conn(c)
	if err != nil {
		s.panel = err.Error()
		return nil
	}
	seq, ctx := s.session(c, "")
	redirect := c.Profile.RedirectURI
	if redirect == "" {
		redirect = "http://localhost"
	}
	state := "modauth-" + c.Profile.ID
	return func() tea.Msg {
		fc, err := cn.Identity(ctx)
		if err != nil {
			return consentAdminMsg{seq: seq, err: err}
		}
		return consentAdminMsg{seq: seq, url: fc.AdminConsentURL(redirect, state)}
	}
}

func (s *consentStep) startDevice(c *Context, e consentEntry) tea.Cmd {
	cn, err := s.conn(c)
	if err != nil {
		s.panel = err.Error()
		return nil
	}
	if len(c.Profile.Scopes) == 0 {
		s.panel = "The profile asks for no scopes: go back to the profile step."
		return nil
	}
	seq, ctx := s.session(c, "asking Microsoft for a one-time code…")
	s.target = e.user.Key
	scopes := slices.Clone(c.Profile.Scopes)
	return func() tea.Msg {
		fc, err := cn.Identity(ctx)
		if err != nil {
			return consentDeviceMsg{seq: seq, err: err}
		}
		dc, err := fc.StartDeviceCode(ctx, scopes)
		return consentDeviceMsg{seq: seq, fc: fc, dc: dc, err: err}
	}
}

func consentTick(seq int) tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return consentTickMsg{seq} })
}

// deviceStarted shows the code and polls until the user signs in.
func (s *consentStep) deviceStarted(c *Context, msg consentDeviceMsg) tea.Cmd {
	if msg.seq != s.seq {
		return nil
	}
	s.working = ""
	if msg.err != nil {
		s.endSession()
		s.mode, s.panel = consentTable, consentProblem(msg.err, true)
		return nil
	}
	s.mode, s.dev = consentDevice, msg.dc
	seq, ctx, fc, dc, user := s.seq, s.ctx, msg.fc, msg.dc, s.target
	poll := func() tea.Msg {
		tok, err := fc.PollDeviceCode(ctx, dc)
		return consentResultMsg{seq: seq, user: user, tok: tok, err: err}
	}
	// The poll first: a runtime runs both at once, and a test harness that
	// runs commands one by one then never waits on the ticking clock.
	return tea.Batch(poll, consentTick(seq))
}

// consentLoopback is a browser sign-in: the session whose link a person
// opens anywhere, and a listener on 127.0.0.1 for when that browser runs on
// this machine. Whichever completes first wins.
type consentLoopback struct {
	sess    *flows.AuthCodeSession
	srv     *http.Server
	results chan consentResultMsg

	mu       sync.Mutex
	finished bool
}

var errConsentFinished = errors.New("this sign-in is already complete")

// complete redeems a redirect once.
func (l *consentLoopback) complete(ctx context.Context, redirected string) (*flows.Token, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.finished {
		return nil, errConsentFinished
	}
	tok, err := l.sess.Complete(ctx, redirected)
	if err == nil {
		l.finished = true
	}
	return tok, err
}

func (l *consentLoopback) close() {
	if l.srv != nil {
		l.srv.Close()
	}
}

// listen serves the loopback redirect. A request of another sign-in (an
// old tab, a favicon) is refused and the listener keeps waiting.
func (l *consentLoopback) listen(ln net.Listener, user string) {
	l.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := l.complete(r.Context(), "?"+r.URL.RawQuery)
		switch {
		case errors.Is(err, flows.ErrStateMismatch), errors.Is(err, errConsentFinished):
			http.Error(w, "This address does not belong to the sign-in modauth is waiting for.", http.StatusBadRequest)
			return
		case err != nil:
			http.Error(w, "Sign-in failed: "+firstLine(err)+"\nReturn to modauth for what to do.", http.StatusBadRequest)
		default:
			fmt.Fprintln(w, "Signed in. You can close this window and return to modauth.")
		}
		select {
		case l.results <- consentResultMsg{user: user, tok: tok, err: err, loopback: true}:
		default:
		}
	})}
	go l.srv.Serve(ln)
}

func (s *consentStep) startBrowser(c *Context, e consentEntry) tea.Cmd {
	cn, err := s.conn(c)
	if err != nil {
		s.panel = err.Error()
		return nil
	}
	seq, ctx := s.session(c, "checking the sign-in page…")
	s.target = e.user.Key
	req := flows.AuthCodeRequest{RedirectURI: "http://localhost", Scopes: slices.Clone(c.Profile.Scopes), LoginHint: e.account(), Prompt: "select_account"}
	open, user := c.OpenURL, e.user.Key
	return func() tea.Msg {
		fc, err := cn.Identity(ctx)
		if err != nil {
			return consentBrowserMsg{seq: seq, err: err}
		}
		// Entra ignores the port of http://localhost: a listener here gets
		// the redirect when the browser runs on this machine.
		ln, lnErr := net.Listen("tcp", "127.0.0.1:0")
		if lnErr == nil {
			req.RedirectURI = fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
		}
		sess, err := fc.StartAuthCode(req)
		if err == nil {
			err = sess.Preflight(ctx)
		}
		if err != nil {
			if ln != nil {
				ln.Close()
			}
			return consentBrowserMsg{seq: seq, err: err}
		}
		lb := &consentLoopback{sess: sess, results: make(chan consentResultMsg, 1)}
		if ln != nil {
			lb.listen(ln, user)
		}
		opened := open != nil && open(sess.URL) == nil
		return consentBrowserMsg{seq: seq, lb: lb, opened: opened}
	}
}

func (s *consentStep) browserStarted(msg consentBrowserMsg) tea.Cmd {
	if msg.seq != s.seq {
		if msg.lb != nil {
			msg.lb.close()
		}
		return nil
	}
	s.working = ""
	if msg.err != nil {
		s.endSession()
		s.mode, s.panel = consentTable, consentProblem(msg.err, false)
		return nil
	}
	s.mode, s.lb, s.opened = consentBrowser, msg.lb, msg.opened
	return tea.Batch(s.input.Focus(), s.waitLoopback())
}

// waitLoopback waits for the listener's result; it ends with the session.
func (s *consentStep) waitLoopback() tea.Cmd {
	if s.lb == nil || s.lb.srv == nil {
		return nil
	}
	seq, ctx, results := s.seq, s.ctx, s.lb.results
	return func() tea.Msg {
		select {
		case r := <-results:
			r.seq = seq
			return r
		case <-ctx.Done():
			return nil
		}
	}
}

// submitPaste redeems the address pasted from the browser's address bar.
func (s *consentStep) submitPaste(text string) tea.Cmd {
	text = strings.TrimSpace(text)
	s.input.Reset()
	if text == "" {
		s.brErr = "Paste the whole address the browser ends on, starting with http://localhost."
		return nil
	}
	s.brErr, s.working = "", "redeeming the sign-in…"
	seq, ctx, lb, user := s.seq, s.ctx, s.lb, s.target
	return func() tea.Msg {
		tok, err := lb.complete(ctx, text)
		return consentResultMsg{seq: seq, user: user, tok: tok, err: err, pasted: true}
	}
}

// finish handles the end of a sign-in: refuse a wrong account, else store
// the token first and then mark the user done.
func (s *consentStep) finish(c *Context, msg consentResultMsg) tea.Cmd {
	if msg.seq != s.seq {
		return nil
	}
	s.working = ""
	if msg.err == nil && msg.tok == nil {
		msg.err = errors.New("the sign-in returned no token")
	}
	if msg.err != nil {
		if s.mode == consentBrowser && (msg.pasted || msg.loopback) {
			s.brErr = consentProblem(msg.err, false)
			if msg.loopback {
				return s.waitLoopback()
			}
			return nil
		}
		blocked := errors.Is(msg.err, flows.ErrBlockedByPolicy) || errors.Is(msg.err, flows.ErrPublicClientOff)
		s.endSession()
		s.mode, s.panel = consentTable, consentProblem(msg.err, blocked)
		return nil
	}
	s.endSession()
	s.mode = consentTable
	i, ok := s.entry(msg.user)
	if !ok {
		return errCmd(fmt.Errorf("sign-in finished for user %q, who is no longer in the profile", msg.user))
	}
	e := s.entries[i]
	if err := flows.CheckAccount(msg.tok.Identity, e.user); err != nil {
		var wrong *flows.WrongAccountError
		if errors.As(err, &wrong) {
			s.wrong[e.user.Key] = wrong.Got
			s.panel = fmt.Sprintf("✗ Signed in as %s, but this sign-in is for %s: nothing was stored.\n"+
				"Sign out in the browser (or use a private window) and sign in as %s, then press d or b again.",
				wrong.Got, wrong.Expected, wrong.Expected)
			return nil
		}
		s.panel = consentProblem(err, false)
		return nil
	}
	if err := s.store(c, &e, msg.tok); err != nil {
		s.panel = "✗ " + firstLine(err)
		return errCmd(err)
	}
	s.entries[i] = e
	delete(s.wrong, e.user.Key)
	who := e.account()
	if msg.tok.Identity != nil && msg.tok.Identity.PreferredUsername != "" {
		who = msg.tok.Identity.PreferredUsername
	}
	s.note = "✓ Signed in as " + who
	if n := s.firstPending(); n >= 0 {
		s.sel = n
	}
	return nil
}

// store saves the sign-in in one write: the user (made now if the
// entry is new), the refresh token, the consent and who signed in.
func (s *consentStep) store(c *Context, e *consentEntry, tok *flows.Token) error {
	if c.DB == nil || c.Profile.ID == "" {
		return errors.New("no database to keep the sign-in in")
	}
	u := e.user
	u.Consent, u.SignedIn = store.ConsentDone, tok.Identity
	b := store.Batch{Profile: c.Profile.ID, Users: []store.User{u}, Tokens: map[string]store.Token{u.Key: tok.Stored()}}
	if err := c.DB.Apply(b); err != nil {
		return fmt.Errorf("save the sign-in of %s: %w", e.account(), err)
	}
	e.user, e.saved = u, true
	return nil
}

// consentProblem is what went wrong and what to do, for the screen.
func consentProblem(err error, offerBrowser bool) string {
	head, fix := "✗ "+firstLine(err), ""
	var fe *flows.Error
	if errors.As(err, &fe) {
		if ent, ok := flows.Lookup(fe.Code()); ok {
			head = fmt.Sprintf("✗ AADSTS%d: %s.", ent.Code, ent.Meaning)
			if errors.Is(err, flows.ErrBlockedByPolicy) {
				head = "✗ Device code sign-in is blocked. " + head[len("✗ "):]
			}
		}
		fix = fe.Fix()
	}
	out := head
	if fix != "" {
		out += "\n" + fix
	}
	if offerBrowser {
		out += "\nb: sign in with the browser instead"
	}
	return out
}

func (s *consentStep) Update(c *Context, msg tea.Msg) (bool, tea.Cmd) {
	switch msg := msg.(type) {
	case consentSkipMsg:
		return s.skip(c)
	case consentTickMsg:
		if msg.seq == s.seq && s.mode == consentDevice {
			return false, consentTick(msg.seq)
		}
		return false, nil
	case consentDeviceMsg:
		return false, s.deviceStarted(c, msg)
	case consentBrowserMsg:
		return false, s.browserStarted(msg)
	case consentResultMsg:
		return false, s.finish(c, msg)
	case consentAdminMsg:
		if msg.seq == s.seq {
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
		_, _, cmd := s.account.Update(msg)
		return false, cmd
	}
	return false, nil
}

func (s *consentStep) key(c *Context, k tea.KeyPressMsg) (bool, tea.Cmd) {
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
		submitted, _, cmd := s.account.Update(k)
		if !submitted {
			return false, cmd
		}
		c.Profile.ServiceAccount = s.account.Value("account")
		if c.DB != nil && c.Profile.ID != "" {
			if err := c.DB.PutProfile(c.Profile); err != nil {
				return false, errCmd(fmt.Errorf("save the service account: %w", err))
			}
		}
		s.mode = consentTable
		if err := s.load(c); err != nil {
			return false, errCmd(err)
		}
		return false, nil
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
	case key.Matches(k, keys.Up):
		s.sel = max(s.sel-1, 0)
	case key.Matches(k, keys.Down):
		s.sel = min(s.sel+1, max(len(s.entries)-1, 0))
	case key.Matches(k, consentKeys.Device), key.Matches(k, consentKeys.Browser):
		if len(s.entries) == 0 {
			s.panel = "Nobody to sign in: add users in the users step (esc)."
			return false, nil
		}
		if key.Matches(k, consentKeys.Device) {
			return false, s.startDevice(c, s.entries[s.sel])
		}
		return false, s.startBrowser(c, s.entries[s.sel])
	case key.Matches(k, consentKeys.Export):
		path, n, err := s.export(c)
		switch {
		case err != nil:
			s.panel = "✗ " + firstLine(err)
		case n == 0:
			s.note = "Everyone has signed in: there are no instructions to export."
		default:
			s.note = fmt.Sprintf("✓ Wrote sign-in instructions for %d %s to\n%s", n, consentPlural(n, "user", "users"), path)
		}
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
		return false, askCmd(fmt.Sprintf("Skip the rest for now? %d %s not signed in; they can sign in later.", n, consentPlural(n, "user has", "users have")),
			"Skip", "Keep going", func() tea.Msg { return consentSkipMsg{} })
	}
	return false, nil
}

// consentSkipMsg: skipping the rest was answered yes.
type consentSkipMsg struct{}

// skip leaves the step with the users who have not signed in marked
// pending, so the dashboard shows them as sign-in needed.
func (s *consentStep) skip(c *Context) (bool, tea.Cmd) {
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
			return false, errCmd(fmt.Errorf("mark users pending: %w", err))
		}
	}
	return true, nil
}

func consentNames(es []consentEntry) string {
	var names []string
	for i, e := range es {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more", len(es)-3))
			break
		}
		names = append(names, e.label())
	}
	return strings.Join(names, ", ")
}

func consentPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// consentDeviceURL is where a user enters a device code in the profile's
// cloud. The codes themselves expire, so exports carry only the address.
func consentDeviceURL(c *Context, s *consentStep) string {
	if s.dev != nil && s.dev.VerificationURI != "" {
		return s.dev.VerificationURI
	}
	if cl, ok := store.CloudOf(c.Profile.Hosts); ok {
		return cl.DeviceLogin
	}
	return strings.TrimSuffix(c.Profile.Hosts.WithDefaults().Authority, "/") + "/devicelogin"
}

// export writes one block of instructions per user still to sign in, to a
// text file beside the database.
func (s *consentStep) export(c *Context) (string, int, error) {
	pending := s.pending()
	if len(pending) == 0 {
		return "", 0, nil
	}
	if c.DB == nil {
		return "", 0, errors.New("no data directory to write the instructions to")
	}
	url := consentDeviceURL(c, s)
	var b strings.Builder
	fmt.Fprintf(&b, "Sign-in instructions for %s (%s)\n", c.Profile.Customer, c.Profile.ID)
	if c.Now != nil {
		fmt.Fprintf(&b, "Written %s.\n", c.Now().Format("2 January 2006 15:04"))
	}
	b.WriteString("\nEach person below signs in once, so that the mail connection can reach their\nmailbox. It takes a minute and works from a phone.\n")
	for _, e := range pending {
		b.WriteString("\n" + strings.Repeat("-", 72) + "\n")
		fmt.Fprintf(&b, "%s\n\n", e.label())
		fmt.Fprintf(&b, "1. Your administrator gives you a one-time code (by phone or chat).\n")
		fmt.Fprintf(&b, "   A code works for 15 minutes: ask for a new one if it has expired.\n")
		fmt.Fprintf(&b, "2. Open %s on any device and enter the code.\n", url)
		fmt.Fprintf(&b, "3. Sign in as %s, not with another account: if the page\n", e.account())
		fmt.Fprintf(&b, "   picks another account, choose \"Use another account\".\n")
		fmt.Fprintf(&b, "4. Accept the permissions the app asks for. You can close the page when it\n   says you are signed in.\n")
	}
	path := c.savePath(c.Profile.ID + "-sign-in-instructions.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return "", 0, fmt.Errorf("write the sign-in instructions: %w", err)
	}
	return path, len(pending), nil
}

// View

func (s *consentStep) View(c *Context) string {
	if s.working != "" && s.mode != consentBrowser {
		return s.working
	}
	switch s.mode {
	case consentAccount:
		return c.Styles.Bold.Render("Which account signs in for every mailbox?") + "\n\n" + s.account.View(c.Styles, c.Width)
	case consentDevice:
		return s.viewDevice(c)
	case consentBrowser:
		return s.viewBrowser(c)
	case consentAppOnly:
		return s.viewAppOnly(c)
	}
	return s.viewTable(c)
}

func (s *consentStep) targetEntry() consentEntry {
	if i, ok := s.entry(s.target); ok {
		return s.entries[i]
	}
	return consentEntry{}
}

func (s *consentStep) viewTable(c *Context) string {
	st, w := c.Styles, c.Width
	var top []string
	if c.Profile.Model == store.ServiceAccount {
		top = append(top, wrap("The service account signs in once; modauth then reaches every mailbox through it.", w))
	} else {
		top = append(top, wrap("Each user signs in once, so that modauth gets their consent and a refresh token.", w))
	}
	done := len(s.entries) - len(s.pending())
	line := fmt.Sprintf("%d of %d signed in · d: device code, b: browser, for the selected one.", done, len(s.entries))
	if s.skipped > 0 {
		line += fmt.Sprintf(" %d %s without a resolved account left out.", s.skipped, consentPlural(s.skipped, "user", "users"))
	}
	top = append(top, st.Faint.Render(line), "")

	var bottom []string
	switch {
	case s.panel != "":
		for i, l := range strings.Split(s.panel, "\n") {
			l = consentFit(l, w)
			switch {
			case i == 0 && strings.HasPrefix(l, "✗"):
				l = st.Error.Render(l)
			case strings.HasPrefix(l, "b: "):
				l = st.Key.Render("b") + l[1:]
			}
			bottom = append(bottom, l)
		}
	}
	if s.note != "" {
		style := st.Faint
		if strings.HasPrefix(s.note, "✓") {
			style = st.OK
		}
		bottom = append(bottom, style.Render(consentFit(s.note, w)))
	}
	if len(bottom) > 0 {
		bottom = append([]string{""}, bottom...)
	}
	bottomLines := strings.Count(strings.Join(bottom, "\n"), "\n") + 1
	if len(bottom) == 0 {
		bottomLines = 0
	}
	topLines := strings.Count(strings.Join(top, "\n"), "\n") + 1
	rows := max(c.bodyHeight()-topLines-bottomLines-1, 2)

	var table []string
	if len(s.entries) == 0 {
		table = append(table, st.Faint.Render("Nobody to sign in yet: add users in the users step (esc)."))
	} else {
		table = s.tableLines(c, rows)
	}
	return strings.Join(top, "\n") + "\n" + strings.Join(table, "\n") + "\n" + strings.Join(bottom, "\n")
}

func (s *consentStep) tableLines(c *Context, rows int) []string {
	st, w := c.Styles, c.Width
	nameW, acctW := 4, 7
	for _, e := range s.entries {
		nameW = max(nameW, ansi.StringWidth(e.user.Name))
		acctW = max(acctW, ansi.StringWidth(e.account()))
	}
	nameW, acctW = min(nameW, 22), min(acctW, 36)
	statusW := max(w-2-nameW-2-acctW-2, 10)
	cell := func(v string, n int) string { return padRight(ansi.Truncate(v, n, "…"), n) }
	out := []string{st.Faint.Render("  " + cell("Name", nameW) + "  " + cell("Account", acctW) + "  " + "Status")}
	first := 0
	if len(s.entries) > rows {
		first = min(max(s.sel-rows/2, 0), len(s.entries)-rows)
	}
	for i := first; i < min(first+rows, len(s.entries)); i++ {
		e := s.entries[i]
		var status string
		switch got, wrong := s.wrong[e.user.Key]; {
		case e.done():
			who := e.account()
			if e.user.SignedIn != nil && e.user.SignedIn.PreferredUsername != "" {
				who = e.user.SignedIn.PreferredUsername
			}
			status = st.OK.Render(ansi.Truncate("✓ "+who, statusW, "…"))
		case wrong:
			status = st.Error.Render(ansi.Truncate("✗ wrong account: "+got, statusW, "…"))
		case e.user.Consent == store.ConsentWrong:
			status = st.Error.Render("✗ wrong account")
		default:
			status = st.Warn.Render("pending")
		}
		marker, name := "  ", cell(e.user.Name, nameW)
		if i == s.sel {
			marker, name = st.Selected.Render("› "), st.Bold.Render(name)
		}
		out = append(out, marker+name+"  "+cell(e.account(), acctW)+"  "+status)
	}
	if len(s.entries) > rows {
		out = append(out, st.Faint.Render(fmt.Sprintf("  %d–%d of %d", first+1, min(first+rows, len(s.entries)), len(s.entries))))
	}
	return out
}

// consentSpaced writes a code as spaced letters, to read off a screen.
func consentSpaced(code string) string {
	return strings.Join(strings.Split(code, ""), " ")
}

func (s *consentStep) viewDevice(c *Context) string {
	st, w, e := c.Styles, c.Width, s.targetEntry()
	dc := s.dev
	var lines []string
	lines = append(lines, st.Bold.Render("Device code sign-in for "+e.label()), "")
	first := st.Warn.Render("!") + " First copy your one-time code: " + st.Code.Render(dc.UserCode)
	if s.copied {
		first += "  " + st.OK.Render("✓ copied")
	}
	lines = append(lines, first)
	box := st.Box.Padding(1, 4).Render(st.Code.Render(consentSpaced(dc.UserCode)))
	lines = append(lines, strings.Split(box, "\n")...)
	lines = append(lines, strings.Split(wrap("Open "+dc.VerificationURI+" on any device and enter it, then sign in as "+e.account()+".", w), "\n")...)
	left := dc.ExpiresAt.Sub(c.Now())
	if left > 0 {
		secs := int(left.Round(time.Second) / time.Second)
		t := fmt.Sprintf("%02d:%02d", secs/60, secs%60)
		style := st.Bold
		if left < 2*time.Minute {
			style = st.Warn
		}
		lines = append(lines, "The code expires in "+style.Render(t)+st.Faint.Render(" · waiting for the sign-in…"))
	} else {
		lines = append(lines, st.Warn.Render("The code has expired: press esc, then d for a new one."))
	}
	lines = append(lines, "")
	code := s.qr(c, dc.VerificationURI)
	qrLines := strings.Count(code, "\n") + 1
	switch {
	case code == "":
	case c.bodyHeight()-len(lines) >= qrLines && ansi.StringWidth(strings.SplitN(code, "\n", 2)[0]) <= w:
		lines = append(lines, strings.Split(code, "\n")...)
	default:
		lines = append(lines, st.Faint.Render("Enlarge the window for a QR code of the address."))
	}
	return strings.Join(lines, "\n")
}

// qr renders the verification address as a QR code, once per address
// and background.
func (s *consentStep) qr(c *Context, url string) string {
	k := fmt.Sprint(url, c.Dark)
	if s.qrFor == k {
		return s.qrText
	}
	s.qrFor = k
	s.qrText, _ = qr.Terminal(url, c.Dark) // "" when too long for a QR code: the address is shown anyway
	return s.qrText
}

// consentFit wraps text at spaces, then breaks what is still too wide
// (paths, links) anywhere: nothing is cut off at the frame's edge.
func consentFit(text string, width int) string {
	var out []string
	for _, l := range strings.Split(wrap(text, width), "\n") {
		if ansi.StringWidth(l) > width {
			out = append(out, consentHardWrap(l, width)...)
		} else {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// consentHardWrap breaks a link into lines of width cells: a link has no
// spaces to break at. c copies it whole.
func consentHardWrap(s string, width int) []string {
	return strings.Split(ansi.Hardwrap(s, max(width, 20), true), "\n")
}

func (s *consentStep) viewBrowser(c *Context) string {
	st, w, e := c.Styles, c.Width, s.targetEntry()
	head := []string{st.Bold.Render("Browser sign-in for " + e.label()), ""}
	intro := "! No browser can be opened here. Open this link on any device and sign in as " + e.account() + ":"
	if s.opened {
		intro = "✓ A browser opened the sign-in page: sign in there as " + e.account() + ". If the browser runs elsewhere, open this link:"
	}
	for _, l := range strings.Split(consentFit(intro, w), "\n") {
		if strings.HasPrefix(l, "! ") {
			l = st.Warn.Render("!") + l[1:]
		}
		head = append(head, l)
	}
	link := consentHardWrap(s.lb.sess.URL, w-1)
	var tail []string
	if s.copied {
		tail = append(tail, st.OK.Render("✓ copied the link"))
	}
	tail = append(tail, "", consentFit("After signing in, the browser ends on an address that may not load — copy it from the address bar and paste it here:", w))
	s.input.SetWidth(max(w-4, 10))
	tail = append(tail, s.input.View())
	if s.working != "" {
		tail = append(tail, st.Faint.Render(s.working))
	}
	if s.brErr != "" {
		for i, l := range strings.Split(s.brErr, "\n") {
			l = consentFit(l, w)
			if i == 0 {
				l = st.Error.Render(l)
			}
			tail = append(tail, l)
		}
	}
	count := func(ls []string) int { return strings.Count(strings.Join(ls, "\n"), "\n") + 1 }
	// On a small screen the blank lines go first, then the end of the
	// link: c still copies it whole.
	if count(head)+len(link)+count(tail) > c.bodyHeight() {
		head = slices.DeleteFunc(head, func(l string) bool { return l == "" })
		tail = slices.DeleteFunc(tail, func(l string) bool { return l == "" })
	}
	if room := c.bodyHeight() - count(head) - count(tail); len(link) > room {
		link = append(link[:max(room-1, 1)], "… the link goes on: press c to copy it whole")
	}
	for i, l := range link {
		if !strings.HasPrefix(l, "… ") {
			link[i] = st.Key.Render(l)
		} else {
			link[i] = st.Warn.Render(l)
		}
	}
	return strings.Join(slices.Concat(head, link, tail), "\n")
}

func (s *consentStep) viewAppOnly(c *Context) string {
	st, w := c.Styles, c.Width
	var lines []string
	lines = append(lines, st.Bold.Render("App-only: nobody signs in."), "",
		wrap("modauth reaches the mailboxes as the app itself. Its permissions were granted with admin consent in the register step, so there is nothing to do here: press enter to continue.", w), "",
		wrap("If that consent is missing, an admin (Global, Privileged Role, Cloud Application or Application Administrator) opens this link and accepts:", w))
	switch {
	case s.adminURL != "":
		for _, l := range consentHardWrap(s.adminURL, w-1) {
			lines = append(lines, st.Key.Render(l))
		}
		if s.copied {
			lines = append(lines, st.OK.Render("✓ copied the link"))
		}
	case s.working != "":
		lines = append(lines, st.Faint.Render("making the link…"))
	}
	if s.panel != "" {
		lines = append(lines, "", st.Error.Render(consentFit(s.panel, w)))
	}
	return strings.Join(lines, "\n")
}
