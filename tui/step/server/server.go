// Package server is the wizard's step for Exchange Server on-premises,
// which has no Entra: the EWS URL (typed, or found by Autodiscover from a
// mailbox's address), the service account and its password, checked by
// signing in before any user is.
package server

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// Step asks for the on-premises server and checks the service account.
type Step struct {
	form  *common.Form
	v     values
	task  common.Task
	check *conn.ServerCheck // the last check's outcome; nil before one
	found string            // what Autodiscover found, to say so
}

type values struct{ ews, email, account, password string }

// checkedMsg is a check's outcome.
type checkedMsg struct {
	id    int
	found string // the EWS URL Autodiscover gave, if it was asked
	check conn.ServerCheck
}

var keys = struct{ Trust, Edit, Next key.Binding }{
	Trust: key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "trust this certificate")),
	Edit:  key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit")),
	Next:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next")),
}

// New makes the step.
func New(c *common.Context) *Step {
	s := &Step{}
	s.build(c)
	return s
}

func (s *Step) ID() string    { return common.StepServer }
func (s *Step) Title() string { return "Exchange server" }

// Applies: only Exchange Server on-premises has a server of its own.
func (s *Step) Applies(p store.Profile) bool { return p.OnPremises }

func (s *Step) Busy() bool { return s.task.Running() }

// Modal: the form owns esc while it is open.
func (s *Step) Modal() bool { return s.check == nil }

func (s *Step) build(c *common.Context) {
	s.form = common.NewForm(c,
		huh.NewInput().Title("EWS URL").Value(&s.v.ews).
			Placeholder("https://mail.contoso.com/EWS/Exchange.asmx").
			Description("Empty: Autodiscover finds it from a mailbox").
			Validate(validURL),
		huh.NewInput().Title("A mailbox's address").Value(&s.v.email).
			Description("Any user's e-mail address, for Autodiscover"),
		huh.NewInput().Title("Service account").Value(&s.v.account).
			Description(`DOMAIN\user or user@domain; ApplicationImpersonation`).
			Validate(common.Required("the service account")),
		huh.NewInput().Title("Password").Value(&s.v.password).EchoMode(huh.EchoModePassword).
			Description("Sealed in the database, never shown").
			Validate(common.Required("the service account's password")),
	)
	s.SetSize(c)
}

func validURL(v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("write the whole address, e.g. https://mail.contoso.com/EWS/Exchange.asmx")
	}
	return nil
}

// SetSize gives the form the body below the heading.
func (s *Step) SetSize(c *common.Context) { s.form.SetSize(c.Width, c.BodyHeight()-4) }

// Init fills the form from the profile.
func (s *Step) Init(c *common.Context) tea.Cmd {
	p := c.Profile
	if s.v.account == "" {
		s.v.account = p.ServiceAccount
	}
	if s.v.ews == "" && p.Hosts.EWS != "" && p.Hosts.EWS != store.DefaultHosts.EWS {
		s.v.ews = p.Hosts.EWS
	}
	if cs, err := c.DB.ClientSecret(p.ID); err == nil && s.v.password == "" {
		s.v.password = cs.Value.Reveal() // shown masked
	}
	s.check = nil
	s.build(c)
	return nil
}

// OpenForm is the form, asked line by line in accessible mode.
func (s *Step) OpenForm() *common.Form {
	if s.check != nil || s.Busy() {
		return nil
	}
	return s.form
}

// FieldErr is what is wrong with the focused field.
func (s *Step) FieldErr() error {
	if s.check == nil {
		return s.form.Err()
	}
	return nil
}

func (s *Step) Keys() help.KeyMap {
	switch {
	case s.Busy():
		return common.KeyMap{}
	case s.check == nil:
		return s.form.Keys()
	case s.check.OK:
		return common.KeyMap{keys.Next, keys.Edit}
	case s.check.Fingerprint != "":
		return common.KeyMap{keys.Trust, keys.Edit}
	}
	return common.KeyMap{keys.Edit}
}

func (s *Step) Update(c *common.Context, msg tea.Msg) (bool, tea.Cmd) {
	switch m := msg.(type) {
	case checkedMsg:
		if !s.task.Current(m.id) {
			return false, nil
		}
		s.task.Stop()
		s.check, s.found = &m.check, m.found
		if m.found != "" {
			s.v.ews = m.found
		}
		return false, nil
	case trustMsg:
		return false, s.trust(c)
	case tea.KeyPressMsg:
		if s.check != nil || s.Busy() {
			return s.key(c, m)
		}
	}
	if s.check != nil || s.Busy() {
		return false, nil
	}
	state, cmd := s.form.Update(msg)
	if state != huh.StateCompleted {
		return false, cmd
	}
	if err := s.save(c); err != nil {
		s.build(c)
		return false, common.ErrCmd(err)
	}
	return false, tea.Batch(cmd, s.start(c))
}

func (s *Step) key(c *common.Context, k tea.KeyPressMsg) (bool, tea.Cmd) {
	switch {
	case s.Busy():
		if key.Matches(k, common.Keys.Cancel) {
			s.task.Stop()
			s.build(c)
		}
	case key.Matches(k, keys.Next) && s.check.OK:
		return true, nil
	case key.Matches(k, keys.Edit), key.Matches(k, common.Keys.Back):
		s.check = nil
		s.build(c)
	case key.Matches(k, keys.Trust) && s.check.Fingerprint != "":
		fp := s.check.Fingerprint
		return false, common.AskCmd(fmt.Sprintf("Trust the certificate with SHA-256 %s… for %s, and no other? Compare it with the server's first.", fp[:16], s.v.ews),
			"Trust", "Don't", func() tea.Msg { return trustMsg{fingerprint: fp} })
	}
	return false, nil
}

// trustMsg: the person compared the fingerprint and trusts it.
type trustMsg struct{ fingerprint string }

// trust keeps the certificate's fingerprint in the profile and checks
// again.
func (s *Step) trust(c *common.Context) tea.Cmd {
	if s.check == nil || s.check.Fingerprint == "" {
		return nil
	}
	c.Profile.Hosts.TrustedCert = s.check.Fingerprint
	if err := c.DB.PutProfile(c.Profile); err != nil {
		return common.ErrCmd(fmt.Errorf("trust the certificate: %w", err))
	}
	return s.start(c)
}

// save keeps the server, the account and its sealed password.
func (s *Step) save(c *common.Context) error {
	p := c.Profile
	p.ServiceAccount = strings.TrimSpace(s.v.account)
	if u := strings.TrimSpace(s.v.ews); u != "" {
		p.Hosts.EWS = u
	}
	if err := c.DB.PutProfile(p); err != nil {
		return fmt.Errorf("save the server: %w", err)
	}
	if err := c.DB.SetClientSecret(p.ID, store.ClientSecret{Value: store.Secret(s.v.password), KeyID: "password", ExpirySource: store.ExpiryUnknown}); err != nil {
		return fmt.Errorf("seal the password: %w", err)
	}
	stored, err := c.DB.Profile(p.ID)
	if err != nil {
		return err
	}
	c.Profile = stored
	return nil
}

// start finds the EWS URL if none was given, then checks the sign-in.
func (s *Step) start(c *common.Context) tea.Cmd {
	ctx, id := s.task.StartTimeout(c.Ctx, time.Minute)
	s.check = nil
	p, email := c.Profile, strings.TrimSpace(s.v.email)
	needFind := strings.TrimSpace(s.v.ews) == ""
	return func() tea.Msg {
		m := checkedMsg{id: id}
		if needFind {
			if email == "" {
				m.check = conn.ServerCheck{Message: "no EWS URL and no mailbox to find it from", Fix: "Enter the EWS URL, or a mailbox's address for Autodiscover (e to edit)."}
				return m
			}
			found, err := c.Conn(p).FindEWS(ctx, email)
			switch {
			case errors.Is(err, exchange.ErrRefused):
				m.check = conn.ServerCheck{Message: err.Error(), Err: err,
					Fix: "The Exchange server refused the service account or its password: check both (e to edit); DOMAIN\\user and user@domain are both taken."}
				return m
			case err != nil:
				m.check = conn.ServerCheck{Message: err.Error(), Err: err,
					Fix: "Autodiscover did not answer for " + email + ": enter the EWS URL yourself (e to edit); ask the Exchange admin for it (Get-WebServicesVirtualDirectory | fl ExternalUrl,InternalUrl)."}
				return m
			}
			m.found, p.Hosts.EWS = found, found
			if err := c.DB.PutProfile(p); err != nil {
				m.check = conn.ServerCheck{Message: err.Error(), Err: err}
				return m
			}
		}
		m.check = c.Conn(p).CheckServer(ctx)
		return m
	}
}

func (s *Step) View(c *common.Context) string {
	st := c.Styles
	if s.Busy() {
		return st.Bold.Render("Signing the service account in to the server…")
	}
	if s.check == nil {
		intro := "Exchange Server on-premises: modauth signs in with a service account, by NTLM where the server offers it, else Basic."
		if c.Demo != "" {
			intro += ` Demo: CONTOSO\svc-exchange, password Demo-2026!, mailbox anna.devries@contoso.com.`
		}
		return st.Bold.Render(common.Wrap(intro, c.Width-1)) + "\n\n" + s.form.View()
	}
	var b strings.Builder
	if s.found != "" {
		b.WriteString(st.OK.Render(common.Wrap("✓ Autodiscover found "+s.found, c.Width-1)) + "\n")
	}
	if s.check.OK {
		b.WriteString(st.OK.Render(common.Wrap("✓ "+s.check.Message, c.Width-1)) + "\n\n")
		b.WriteString(common.Wrap("Each user's mailbox is opened through this account's impersonation right: the users step checks each one.", c.Width-1))
		return b.String()
	}
	b.WriteString(st.Error.Render(common.Wrap("✗ "+s.check.Message, c.Width-1)) + "\n\n")
	b.WriteString(common.Wrap(s.check.Fix, c.Width-1) + "\n")
	if fp := s.check.Fingerprint; fp != "" {
		b.WriteString("\n" + st.Bold.Render("SHA-256 of the server's certificate:") + "\n" + st.Code.Render(spaced(fp)) + "\n")
	}
	return b.String()
}

// spaced writes a fingerprint in pairs, as certificate viewers show it.
func spaced(fp string) string {
	var parts []string
	for i := 0; i+2 <= len(fp); i += 2 {
		parts = append(parts, fp[i:i+2])
	}
	return strings.Join(parts, ":")
}
