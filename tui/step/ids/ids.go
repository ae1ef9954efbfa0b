package ids

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"

	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// idsStep takes the tenant, client ID, secret value and its expiry, and
// checks each against the identity platform as soon as it is entered.
type Step struct {
	form   *common.Form
	v      idsValues
	checks map[string]*check // by field
	tenant string            // the tenant GUID discovery found
	plan   needs
	// submitting is set when enter was pressed on the last field while a
	// check still ran: the step moves on as soon as every check passed.
	submitting bool
}

// idsValues are the form's answers.
type idsValues struct{ tenant, client, secret, expiry string }

// The fields with a live check.
const (
	fieldTenant = "tenant"
	fieldClient = "client ID"
	fieldSecret = "secret"
	fieldExpiry = "expiry"
)

// needs is what the profile asks of this step: a secret to enter, or a
// certificate (made at the register step) to prove with the client ID.
type needs struct{ secret, certificate, onPrem bool }

var guidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func New(c *common.Context) *Step {
	s := &Step{checks: map[string]*check{fieldTenant: {}, fieldClient: {}, fieldSecret: {}}}
	s.build(c)
	return s
}

// build makes the form from the values.
func (s *Step) build(c *common.Context) {
	secret := func() bool { return s.plan.secret }
	s.form = common.NewForm(c,
		s.checked(huh.NewInput().Key(fieldTenant).Title("Tenant").Value(&s.v.tenant),
			"Directory (tenant) ID, a GUID, or a verified domain such as contoso.com.", common.Required("the tenant ID or domain")),
		s.checked(huh.NewInput().Key(fieldClient).Title("Client ID").Value(&s.v.client),
			s.clientHint(), validGUID("the client ID")),
		&common.Optional{Show: secret, Field: s.checked(huh.NewInput().Key(fieldSecret).Title("Secret value").Value(&s.v.secret).EchoMode(huh.EchoModePassword),
			"The Value column of the client secret, not its Secret ID. It is checked, then sealed.", validSecret)},
		&common.Optional{Show: secret, Field: huh.NewInput().Key(fieldExpiry).Title("Secret expires").Value(&s.v.expiry).
			Description("YYYY-MM-DD, as shown under Certificates & secrets. Empty if the app may read it itself.").
			Validate(func(v string) error { return validExpiry(v, c.Now()) })},
	)
	s.SetSize(c)
}

// clientHint says where the client ID is, and what its check proves.
func (s *Step) clientHint() string {
	if s.plan.certificate {
		return "Application (client) ID from the app's Overview page: a GUID. modauth signs in with its certificate to prove the upload."
	}
	return "Application (client) ID from the app's Overview page: a GUID."
}

// checked gives an input its live check: the description shows the
// check's state, and a value that failed its check does not validate.
func (s *Step) checked(in *huh.Input, hint string, valid func(string) error) *huh.Input {
	field := in.GetKey()
	ch := s.checks[field]
	return in.DescriptionFunc(func() string {
		switch {
		case ch.Running:
			return "… checking the " + strings.ToLower(in.GetKey())
		case ch.Err != "":
			return "✗ " + firstSentence(ch.Err)
		case ch.OK != "":
			return "✓ " + ch.OK
		}
		return hint
	}, ch).Validate(func(v string) error {
		v = strings.TrimSpace(v)
		if err := valid(v); err != nil {
			return err
		}
		if ch.Err != "" && ch.Value == v && !ch.Retry {
			return errors.New(ch.Err)
		}
		return nil
	})
}

func (s *Step) ID() string        { return common.StepIDs }
func (s *Step) Title() string     { return "IDs and secret" }
func (s *Step) Keys() help.KeyMap { return s.form.Keys() }

// SetSize gives the form the body below the heading.
func (s *Step) SetSize(c *common.Context) {
	s.form.SetSize(c.Width, c.BodyHeight()-1-lipgloss.Height(common.Wrap(idsHeading, c.Width-1)))
}

// idsHeading says what the step asks.
const idsHeading = "Enter the IDs from the app registration. Each is checked as you go."

func (s *Step) Busy() bool {
	for _, ch := range s.checks {
		if ch.Running {
			return true
		}
	}
	return false
}

func (s *Step) Init(c *common.Context) tea.Cmd {
	p := c.Profile
	s.plan = needs{secret: p.Model == store.AppOnly || p.RedirectURI != "", onPrem: p.OnPremises}
	if p.UsesCertificate() {
		s.plan.secret, s.plan.certificate = false, true
	}
	if s.v.tenant == "" {
		s.v.tenant = conn.Tenant(p)
	}
	if s.v.client == "" {
		s.v.client = p.ClientID
	}
	if cs, err := c.DB.ClientSecret(p.ID); err == nil && s.v.secret == "" {
		s.v.secret = cs.Value.Reveal() // shown masked; never in clear
		if !cs.Expiry.IsZero() {
			s.v.expiry = cs.Expiry.Format(time.DateOnly)
		}
	}
	s.build(c)
	return s.form.Redraw() // the fields' descriptions: hints or checks
}

// value is a field's answer as entered, without the spaces a paste brings.
func (s *Step) value(field string) string {
	switch field {
	case fieldTenant:
		return strings.TrimSpace(s.v.tenant)
	case fieldClient:
		return strings.TrimSpace(s.v.client)
	case fieldSecret:
		return strings.TrimSpace(s.v.secret)
	case fieldExpiry:
		return strings.TrimSpace(s.v.expiry)
	}
	return ""
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

func (s *Step) Update(c *common.Context, msg tea.Msg) (bool, tea.Cmd) {
	switch m := msg.(type) {
	case checkedMsg:
		done, cmd := s.done(c, m)
		return done, tea.Batch(cmd, s.form.Redraw())
	case tea.KeyPressMsg:
		if key.Matches(m, common.Keys.Back) && s.Busy() {
			s.cancelChecks()
			return false, s.form.Redraw()
		}
	}
	from := s.form.Focused()
	state, cmd := s.form.Update(msg)
	if to := s.form.Focused(); to != from || state == huh.StateCompleted {
		if check := s.check(c, from); check != nil {
			cmd = tea.Batch(cmd, check, s.form.Redraw())
		}
	}
	if state != huh.StateCompleted {
		if _, typed := msg.(tea.KeyPressMsg); typed {
			s.submitting = false // changed their mind: wait for enter again
		}
		return false, cmd
	}
	// The form is done with; the step waits for its checks on a new one.
	s.build(c)
	focus := s.form.Advance(len(s.checkedFields()) - 1)
	s.submitting = true
	done, next := s.submit(c)
	return done, tea.Batch(cmd, focus, next, s.form.Redraw())
}

// save stores the checked IDs and the sealed secret.
func (s *Step) save(c *common.Context) error {
	p := c.Profile
	p.TenantID = s.tenant
	if t := s.value(fieldTenant); !guidRe.MatchString(t) {
		p.TenantDomain = t
	}
	p.ClientID = s.value(fieldClient)
	if err := c.DB.PutProfile(p); err != nil {
		return fmt.Errorf("save IDs: %w", err)
	}
	if s.plan.secret {
		cs := store.ClientSecret{Value: store.Secret(s.value(fieldSecret)), ExpirySource: store.ExpiryUnknown}
		if old, err := c.DB.ClientSecret(p.ID); err == nil && old.Value == cs.Value {
			cs = old // the registered secret, with its Graph expiry
		}
		if d := s.value(fieldExpiry); d != "" && cs.ExpirySource != store.ExpiryGraph {
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

func (s *Step) View(c *common.Context) string {
	heading := idsHeading
	if s.submitting && s.Busy() {
		heading = "Waiting for the checks to finish…"
	}
	return c.Styles.Bold.Render(common.Wrap(heading, c.Width-1)) + "\n\n" + s.form.View()
}

// FieldErr is what is wrong with the focused field, or else what a
// failed check found, with its fix: the focused field's first.
func (s *Step) FieldErr() error {
	if err := s.form.Err(); err != nil {
		return err
	}
	fields := s.checkedFields()
	if i := slices.Index(fields, s.form.Focused()); i > 0 {
		fields = append([]string{fields[i]}, fields...)
	}
	for _, f := range fields {
		if ch := s.checks[f]; ch.Err != "" && ch.Value == s.value(f) {
			return errors.New(ch.Err)
		}
	}
	return nil
}

// firstSentence is the start of a text up to its first full stop or colon,
// for a line that points at the whole text elsewhere.
func firstSentence(s string) string {
	if i := strings.IndexAny(s, ".:"); i > 0 {
		return s[:i]
	}
	return s
}

// OpenForm is the IDs' form, asked line by line in accessible mode; not
// while the checks of the last answers run.
func (s *Step) OpenForm() *common.Form {
	if s.Busy() {
		return nil
	}
	return s.form
}

// Applies: Exchange Server on-premises has no Entra step.
func (s *Step) Applies(p store.Profile) bool { return !p.OnPremises }
