package tui

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

// idsStep takes the tenant, client ID, secret value and its expiry, and
// checks each against the identity platform as soon as it is entered.
type idsStep struct {
	form   *form
	checks map[string]check // by field
	tenant string           // the tenant GUID discovery found
	plan   needs
	// submitting is set when enter was pressed on the last field while a
	// check still ran: the step moves on as soon as every check passed.
	submitting bool
}

// needs is what the profile asks of this step.
type needs struct{ secret, onPrem bool }

// check is the state of one live check.
type check struct {
	running bool
	ok      string             // what was found, when it passed
	value   string             // the value it passed for
	cancel  context.CancelFunc // stops it while it runs
}

type checkedMsg struct {
	field, value, ok string
	tenant           string
	err              error
}

var guidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func newIDsStep(c *Context) *idsStep {
	s := &idsStep{checks: map[string]check{}}
	s.form = newForm(
		&field{Key: "tenant", Label: "Tenant", Kind: textField, Hint: "Directory (tenant) ID, a GUID, or a verified domain such as contoso.com.", Validate: required("the tenant ID or domain")},
		&field{Key: "client", Label: "Client ID", Kind: textField, Hint: "Application (client) ID from the app's Overview page: a GUID.", Validate: validGUID("the client ID")},
		&field{Key: "secret", Label: "Secret value", Kind: secretField, Hint: "The Value column of the client secret, not its Secret ID. It is checked, then sealed.",
			Hidden: func() bool { return !s.plan.secret }, Validate: validSecret},
		&field{Key: "expiry", Label: "Secret expires", Kind: textField, Hint: "YYYY-MM-DD, as shown under Certificates & secrets. Empty if the app may read it itself.",
			Hidden: func() bool { return !s.plan.secret }, Validate: func(v string) error { return validExpiry(v, c.now()) }},
	)
	return s
}

func (s *idsStep) ID() string        { return stepIDs }
func (s *idsStep) Title() string     { return "IDs and secret" }
func (s *idsStep) Keys() help.KeyMap { return keyMap{keys.Next, keys.Down} }

func (s *idsStep) Busy() bool {
	for _, ch := range s.checks {
		if ch.running {
			return true
		}
	}
	return false
}

func (s *idsStep) Init(c *Context) tea.Cmd {
	p := c.Profile
	s.plan = needs{secret: p.Model == store.AppOnly || p.RedirectURI != "", onPrem: p.OnPremises}
	if s.form.Value("tenant") == "" {
		s.form.Set("tenant", conn.Tenant(p))
	}
	if s.form.Value("client") == "" {
		s.form.Set("client", p.ClientID)
	}
	if cs, err := c.DB.ClientSecret(p.ID); err == nil && s.form.Value("secret") == "" {
		s.form.Set("secret", cs.Value.Reveal()) // shown masked; never in clear
		if !cs.Expiry.IsZero() {
			s.form.Set("expiry", cs.Expiry.Format(time.DateOnly))
		}
	}
	return nil
}

func validGUID(what string) func(string) error {
	return func(v string) error {
		if !guidRe.MatchString(v) {
			return fmt.Errorf("%s is a GUID like 1b2c3d4e-…: copy it from the app's Overview page", what)
		}
		return nil
	}
}

// validSecret catches a pasted Secret ID before any request is sent: the
// mistake every vendor guide warns about.
func validSecret(v string) error {
	switch {
	case v == "":
		return errors.New("paste the secret's Value")
	case guidRe.MatchString(v):
		return errors.New("this is the Secret ID (a GUID), not the secret: paste the Value column, shown only once when the secret was created; if it is lost, create a new secret")
	}
	return nil
}

// validExpiry takes the secret's expiry as the portal shows it; a date
// already past means the secret no longer works, whatever the check said.
func validExpiry(v string, now time.Time) error {
	if v == "" {
		return nil
	}
	d, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(v), now.Location())
	if err != nil {
		return fmt.Errorf("write the date as YYYY-MM-DD, e.g. %s", now.AddDate(1, 0, 0).Format(time.DateOnly))
	}
	if d.AddDate(0, 0, 1).Before(now) || d.AddDate(0, 0, 1).Equal(now) {
		return fmt.Errorf("%s is past: this secret has expired; create a new one under Certificates & secrets and paste its Value", v)
	}
	return nil
}

func (s *idsStep) Update(c *Context, msg tea.Msg) (bool, tea.Cmd) {
	switch m := msg.(type) {
	case checkedMsg:
		return s.checked(c, m)
	case tea.KeyPressMsg:
		if key.Matches(m, keys.Back) && s.Busy() {
			s.cancelChecks()
			return false, nil
		}
	}
	submitted, left, cmd := s.form.Update(msg)
	if left != "" {
		if check := s.check(c, left); check != nil {
			cmd = tea.Batch(cmd, check)
		}
	}
	if !submitted {
		s.submitting = false
		return false, cmd
	}
	s.submitting = true
	done, next := s.submit(c)
	return done, tea.Batch(cmd, next)
}

// submit moves on when every field passed its check for the values now
// entered; otherwise it starts what is missing, and the step moves on
// when the last check passes.
func (s *idsStep) submit(c *Context) (bool, tea.Cmd) {
	var cmds []tea.Cmd
	for _, f := range s.checkedFields() {
		ch := s.checks[f]
		switch {
		case ch.running:
			return false, tea.Batch(cmds...)
		case ch.ok == "" || ch.value != s.form.Value(f):
			if cmd := s.check(c, f); cmd != nil {
				cmds = append(cmds, cmd)
			}
			return false, tea.Batch(cmds...)
		}
	}
	s.submitting = false
	if err := s.save(c); err != nil {
		return false, errCmd(err)
	}
	return true, nil
}

// checkedFields are the fields with a live check, in order.
func (s *idsStep) checkedFields() []string {
	if s.plan.secret {
		return []string{"tenant", "client", "secret"}
	}
	return []string{"tenant", "client"}
}

// cancelChecks stops the checks under way; their fields are checked again
// when next left or submitted.
func (s *idsStep) cancelChecks() {
	for f, ch := range s.checks {
		if ch.running {
			ch.cancel()
			s.checks[f] = check{}
		}
	}
	s.submitting = false
}

// check starts the live check of a field, if it has one and its value
// changed since the last one.
func (s *idsStep) check(c *Context, field string) tea.Cmd {
	value := s.form.Value(field)
	if ch := s.checks[field]; value == "" || (ch.value == value && (ch.running || ch.ok != "")) {
		return nil
	}
	tenant, client, secret := s.form.Value("tenant"), s.form.Value("client"), s.form.Value("secret")
	cn := c.conn(conn.WithIDs(c.Profile, tenant, client))
	var run func(context.Context) (string, error)
	switch field {
	case "tenant":
		run = cn.TenantID
	case "client":
		if s.checks["tenant"].ok == "" {
			return nil
		}
		run = func(ctx context.Context) (string, error) { return "app found", cn.CheckClient(ctx) }
	case "secret":
		if s.checks["client"].ok == "" || validSecret(secret) != nil {
			return nil
		}
		run = func(ctx context.Context) (string, error) {
			return "the secret works", cn.ProveSecret(ctx, store.Secret(secret))
		}
	default:
		return nil
	}
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	s.checks[field] = check{running: true, value: value, cancel: cancel}
	return func() tea.Msg {
		defer cancel()
		ok, err := run(ctx)
		m := checkedMsg{field: field, value: value, ok: ok, err: err}
		if field == "tenant" {
			m.tenant = ok
			m.ok = "tenant " + ok + " found"
		}
		return m
	}
}

func (s *idsStep) checked(c *Context, m checkedMsg) (bool, tea.Cmd) {
	if ch := s.checks[m.field]; !ch.running || m.value != s.form.Value(m.field) {
		return false, nil // cancelled, or typed over while the check ran
	}
	if m.err != nil {
		s.checks[m.field] = check{value: m.value}
		s.form.SetError(m.field, explain(m.err))
		s.submitting = false
		return false, nil
	}
	s.checks[m.field] = check{ok: m.ok, value: m.value}
	if m.field == "tenant" {
		s.tenant = m.tenant
	}
	if s.submitting {
		return s.submit(c)
	}
	// A field left before its predecessor passed is checked now.
	for _, f := range []string{"client", "secret"} {
		if cmd := s.check(c, f); cmd != nil {
			return false, cmd
		}
	}
	return false, nil
}

// explain turns a check's failure into what a person should read: the
// AADSTS meaning and fix, never a raw body.
func explain(err error) string {
	var fe *flows.Error
	if errors.As(err, &fe) {
		return fe.Error() + ". " + fe.Fix()
	}
	var ge *exchange.GraphError
	if errors.As(err, &ge) {
		return ge.Error()
	}
	return err.Error()
}

// save stores the checked IDs and the sealed secret.
func (s *idsStep) save(c *Context) error {
	p := c.Profile
	p.TenantID = s.tenant
	if t := s.form.Value("tenant"); !guidRe.MatchString(t) {
		p.TenantDomain = t
	}
	p.ClientID = s.form.Value("client")
	if err := c.DB.PutProfile(p); err != nil {
		return fmt.Errorf("save IDs: %w", err)
	}
	if s.plan.secret {
		cs := store.ClientSecret{Value: store.Secret(s.form.Value("secret")), ExpirySource: store.ExpiryUnknown}
		if old, err := c.DB.ClientSecret(p.ID); err == nil && old.Value == cs.Value {
			cs = old // the registered secret, with its Graph expiry
		}
		if d := s.form.Value("expiry"); d != "" && cs.ExpirySource != store.ExpiryGraph {
			cs.Expiry, _ = time.Parse(time.DateOnly, d)
			cs.ExpirySource = store.ExpiryEntered
		}
		if err := c.DB.SetClientSecret(p.ID, cs); err != nil {
			return fmt.Errorf("save the secret: %w", err)
		}
	}
	stored, err := c.DB.Profile(p.ID)
	if err != nil {
		return err
	}
	c.Profile = stored
	return nil
}

func (s *idsStep) View(c *Context) string {
	st := c.Styles
	var b strings.Builder
	b.WriteString(st.Bold.Render("Enter the IDs from the app registration. Each is checked as you go.") + "\n\n")
	b.WriteString(s.form.View(st, c.Width))
	b.WriteString("\n")
	for _, f := range []string{"tenant", "client", "secret"} {
		ch := s.checks[f]
		switch {
		case ch.running:
			b.WriteString(st.Faint.Render("… checking the "+f) + "\n")
		case ch.ok != "" && ch.value == s.form.Value(f):
			b.WriteString(st.OK.Render("✓ "+ch.ok) + "\n")
		}
	}
	return b.String()
}
