package consent

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// consentStep gets every user (or the service account) signed in once, so
// that modauth holds their consent and a refresh token. It is built for a
// consultant working over SSH: the device code is shown large with a QR
// code and a countdown, and the browser sign-in shows its link and takes
// the address the browser ends on pasted back, since no browser can be
// opened on the server. App-only profiles sign nobody in.
type Step struct {
	mode    consentMode
	entries []consentEntry
	win     common.Window // the cursor; the rows in view are worked out as drawn
	skipped int           // users left out: their Exchange account is not resolved

	// The profile's connection, kept while its cloud, tenant and app stay
	// the same, so that discovery runs once.
	cn *conn.Conn

	// One sign-in at a time: messages of an earlier, cancelled one are
	// dropped.
	task    common.Task
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
	account *common.Form
	// serviceAccount is the account form's answer.
	serviceAccount string

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
const ServiceKey = store.ServiceAccountKey

var consentKeys = struct {
	Continue, Device, Browser, Export, Skip, CopyCode, CopyLink, Submit, Save, Admin key.Binding
}{
	Admin:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "admin consent link")),
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

// Messages of the step. Each carries the task id (seq) of the sign-in it
// belongs to.
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

func New() *Step {
	in := textinput.New()
	in.Prompt = "› "
	in.Placeholder = "http://localhost…"
	styles := in.Styles()
	styles.Cursor.Blink = false
	in.SetStyles(styles)
	return &Step{input: in, wrong: map[string]string{}}
}

func (s *Step) ID() string    { return common.StepConsent }
func (s *Step) Title() string { return "sign-in and consent" }

// Busy while a sign-in runs: Esc then cancels it instead of leaving the step.
func (s *Step) Busy() bool {
	return s.working != "" || s.mode == consentDevice || s.mode == consentBrowser
}

func (s *Step) Keys() help.KeyMap {
	switch {
	case s.working != "":
		return common.KeyMap{}
	case s.mode == consentAccount:
		return common.KeyMap{consentKeys.Save}
	case s.mode == consentDevice:
		return common.KeyMap{consentKeys.CopyCode, consentKeys.Browser}
	case s.mode == consentBrowser:
		return common.KeyMap{consentKeys.Submit, consentKeys.CopyLink}
	case s.mode == consentAppOnly:
		return common.KeyMap{consentKeys.Continue, consentKeys.CopyLink}
	}
	// ↑/↓ work too; the help bar has no room for them at 80 columns.
	return common.KeyMap{consentKeys.Continue, consentKeys.Device, consentKeys.Browser, consentKeys.Export, consentKeys.Skip}
}

// Init (re)loads who signs in; a sign-in left running is cancelled.
func (s *Step) Init(c *common.Context) tea.Cmd {
	s.endSession()
	s.mode, s.note, s.panel, s.working = consentTable, "", "", ""
	switch c.Profile.Model {
	case store.AppOnly:
		s.mode = consentAppOnly
		return s.startAdminURL(c)
	case store.ServiceAccount:
		if c.Profile.ServiceAccount == "" {
			s.mode = consentAccount
			s.account = common.NewForm(c, huh.NewInput().Title("Service account").Value(&s.serviceAccount).
				Description("The account that signs in and reaches every mailbox, e.g. svc-crm@contoso.com.").
				Validate(func(v string) error { return consentValidUPN(strings.TrimSpace(v)) }))
			s.account.SetSize(c.Width, c.BodyHeight()-2)
			return nil
		}
	}
	if err := s.load(c); err != nil {
		return common.ErrCmd(err)
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
func (s *Step) load(c *common.Context) error {
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
		e := consentEntry{user: store.User{Key: ServiceKey, Name: "Service account", Account: sa, UPN: sa, Mapping: store.MappingOK}}
		for _, u := range users {
			if u.Key == ServiceKey || strings.EqualFold(u.UPN, sa) || (u.UPN == "" && strings.EqualFold(u.Account, sa)) {
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
	s.win.Cursor = min(s.win.Cursor, max(len(s.entries)-1, 0))
	if i := s.firstPending(); i >= 0 && s.win.Cursor < len(s.entries) && s.entries[s.win.Cursor].done() {
		s.win.Cursor = i
	}
	return nil
}

func (s *Step) firstPending() int {
	return slices.IndexFunc(s.entries, func(e consentEntry) bool { return !e.done() })
}

func (s *Step) pending() []consentEntry {
	var out []consentEntry
	for _, e := range s.entries {
		if !e.done() {
			out = append(out, e)
		}
	}
	return out
}

func (s *Step) entry(key string) (int, bool) {
	i := slices.IndexFunc(s.entries, func(e consentEntry) bool { return e.user.Key == key })
	return i, i >= 0
}

// endSession stops a sign-in under way: its poll, its listener.
func (s *Step) endSession() {
	s.task.Stop()
	if s.lb != nil {
		s.lb.close()
		s.lb = nil
	}
	s.dev, s.working, s.brErr, s.copied, s.opened = nil, "", "", false, false
	s.input.Reset()
	s.input.Blur()
}

// export writes one block of instructions per user still to sign in, to a
// text file where exports go. The text is made now; the file is written
// by the command, whose consentExportedMsg tells how it went.
func (s *Step) export(c *common.Context) tea.Cmd {
	pending := s.pending()
	if len(pending) == 0 {
		s.note = "Everyone has signed in: there are no instructions to export."
		return nil
	}
	if c.DB == nil {
		s.panel = "✗ no data directory to write the instructions to"
		return nil
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
	path, text, n := c.SavePath(c.Profile.ID+"-sign-in-instructions.txt"), b.String(), len(pending)
	return func() tea.Msg {
		err := store.WriteExport(path, func(w io.Writer) error {
			_, err := io.WriteString(w, text)
			return err
		})
		if err != nil {
			err = fmt.Errorf("write the sign-in instructions: %w", err)
		}
		return consentExportedMsg{path: path, users: n, err: err}
	}
}

// consentExportedMsg: the instructions for users many were written to
// path, or err says why not.
type consentExportedMsg struct {
	path  string
	users int
	err   error
}

// View

// FieldErr is what is wrong with the service account as entered.
func (s *Step) FieldErr() error {
	if s.mode != consentAccount || s.account == nil {
		return nil
	}
	return s.account.Err()
}

// SetSize fits the service account's form.
func (s *Step) SetSize(c *common.Context) {
	if s.account != nil {
		s.account.SetSize(c.Width, c.BodyHeight()-2)
	}
}

// Mode names what the step shows: "table", "account", "device",
// "browser" or "app-only".
func (s *Step) Mode() string {
	return [...]string{consentTable: "table", consentAccount: "account", consentDevice: "device", consentBrowser: "browser", consentAppOnly: "app-only"}[s.mode]
}

// Device is the device code of the sign-in under way, if any.
func (s *Step) Device() *flows.DeviceCode { return s.dev }

// SignInURL is the browser sign-in's link while one is under way.
func (s *Step) SignInURL() string {
	if s.lb == nil {
		return ""
	}
	return s.lb.sess.URL
}

// Stop ends a sign-in under way: its poll, its listener.
func (s *Step) Stop() { s.endSession() }

// URL is the link of the browser sign-in that started.
func (m consentBrowserMsg) URL() string {
	if m.lb == nil {
		return ""
	}
	return m.lb.sess.URL
}

// Opened reports whether a browser opened the link on this machine.
func (m consentBrowserMsg) Opened() bool { return m.opened }

// Err is why the browser sign-in could not start.
func (m consentBrowserMsg) Err() error { return m.err }

// Selected is the key of the user whose line is selected.
func (s *Step) Selected() string {
	if s.win.Cursor < 0 || s.win.Cursor >= len(s.entries) {
		return ""
	}
	return s.entries[s.win.Cursor].user.Key
}

// AdminConsentURL is the admin consent link an app-only profile shows.
func (s *Step) AdminConsentURL() string { return s.adminURL }

// Applies: Exchange Server on-premises has no Entra step.
func (s *Step) Applies(p store.Profile) bool { return !p.OnPremises }
