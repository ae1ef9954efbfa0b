package profile

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// presetLabels name the presets as a consultant knows the products.
var presetLabels = map[string]string{
	"allsolutions-online": "AllSolutions, Exchange Online",
	"allsolutions-onprem": "AllSolutions, Exchange Server on-premises",
	"divalto":             "Divalto",
	"flowfact":            "Flowfact Performer",
	"moveit-delegated":    "moveIT, the mailbox signs in",
	"moveit-app-only":     "moveIT, app-only (recommended)",
	"generic":             "Generic",
}

type Step struct {
	form *common.Form
	page int // the page asked, in accessible mode
	v    profileValues
	// lastPreset is the preset the other fields were last filled from.
	lastPreset string
	presets    []huh.Option[string]
	clouds     []huh.Option[string]
}

// profileValues are the form's answers.
type profileValues struct {
	customer, environment, preset, host, model, exchange, cloud, credential string
	protocols                                                               []string
}

func New(c *common.Context) *Step {
	s := &Step{}
	for _, p := range appreg.Presets() {
		s.presets = append(s.presets, huh.NewOption(presetLabels[p.ID], p.ID))
	}
	if c.Demo != "" {
		s.clouds = append(s.clouds, huh.NewOption("Simulated tenant (demo)", "demo"))
	}
	for _, cl := range store.Clouds {
		s.clouds = append(s.clouds, huh.NewOption(cl.Label, cl.ID))
	}
	s.load(c.Profile)
	s.build(c, 0)
	return s
}

// Form fields, by key.
const (
	fieldCustomer = "customer"
	fieldPreset   = "preset"
)

// build makes the form from the values, with the focus on field at. In
// accessible mode the two pages are asked one after the other, so that
// the product's answers (model, protocols) come from its preset.
func (s *Step) build(c *common.Context, at int) tea.Cmd {
	pages := []*huh.Group{s.productPage(), s.connectionPage()}
	if c.Accessible {
		pages = pages[s.page : s.page+1]
	}
	s.form = common.NewPages(c, pages...)
	s.form.SetSize(c.Width, s.formHeight(c))
	return s.form.Advance(at)
}

// productPage asks who the customer is and which product they run.
func (s *Step) productPage() *huh.Group {
	return huh.NewGroup(
		huh.NewInput().Key(fieldCustomer).Title("Customer").Value(&s.v.customer).
			Description("The customer's name, e.g. Acme. Names the profile and the app registration.").
			Validate(common.Required("the customer's name")),
		huh.NewSelect[string]().Title("Environment").Inline(true).Value(&s.v.environment).
			Options(huh.NewOptions("production", "acceptance")...),
		huh.NewSelect[string]().Key(fieldPreset).Title("Product").Inline(true).Value(&s.v.preset).
			Options(s.presets...),
		&common.Optional{Field: huh.NewInput().Title("Product address").Value(&s.v.host).
			Description("Where the product runs, e.g. crm.contoso.com: its redirect URI is built from it.").
			Validate(validHost),
			Show: func() bool { return strings.Contains(s.preset().Scenario.RedirectURI, "{host}") }},
	)
}

// connectionPage asks how the product connects; the preset fills it in.
func (s *Step) connectionPage() *huh.Group {
	return huh.NewGroup(
		huh.NewSelect[string]().Title("Access model").Inline(true).Value(&s.v.model).Options(
			huh.NewOption("each user signs in", string(store.Delegated)),
			huh.NewOption("a service account", string(store.ServiceAccount)),
			huh.NewOption("app-only (no sign-in)", string(store.AppOnly))),
		huh.NewMultiSelect[string]().Title("Protocols").Value(&s.v.protocols).Options(
			huh.NewOption("Graph", "graph"), huh.NewOption("EWS", "ews"), huh.NewOption("IMAP", "imap"),
			huh.NewOption("POP", "pop"), huh.NewOption("SMTP", "smtp")).Height(6).
			Validate(func(v []string) error {
				if len(v) == 0 {
					return errors.New("pick at least one protocol")
				}
				return nil
			}),
		huh.NewSelect[string]().Title("Exchange").Inline(true).Value(&s.v.exchange).Options(
			huh.NewOption("Exchange Online", "online"), huh.NewOption("Exchange Server on-premises", "onprem")),
		huh.NewSelect[string]().Title("Cloud").Inline(true).Value(&s.v.cloud).Options(s.clouds...),
		&common.Optional{Field: huh.NewSelect[string]().Title("Credential").Inline(true).Value(&s.v.credential).Options(
			huh.NewOption("client secret", string(store.CredentialSecret)),
			huh.NewOption("certificate (Microsoft's advice)", string(store.CredentialCertificate))).
			Description("What the app signs in with; a certificate is made by modauth."),
			Show: s.offersCertificate},
	)
}

// offersCertificate: an app-only app of a product that can sign in with
// a certificate may have one instead of a client secret.
func (s *Step) offersCertificate() bool {
	return s.preset().Certificates && s.v.model == string(store.AppOnly) && s.v.exchange != "onprem"
}

func (s *Step) preset() appreg.Preset {
	p, _ := appreg.PresetByID(s.v.preset)
	return p
}

// load fills the values from a stored profile, or from the first preset.
func (s *Step) load(p store.Profile) {
	s.v = profileValues{environment: "production", preset: appreg.Presets()[0].ID, cloud: s.clouds[0].Value}
	if p.ID == "" {
		s.applyPreset()
		return
	}
	s.v.customer, s.v.environment, s.v.preset = p.Customer, p.Environment, p.Preset
	s.lastPreset = p.Preset
	s.v.model, s.v.credential = string(p.Model), string(p.Credential)
	for _, pr := range p.Protocols {
		s.v.protocols = append(s.v.protocols, string(pr))
	}
	s.v.exchange = "online"
	if p.OnPremises {
		s.v.exchange = "onprem"
	}
	if host, ok := strings.CutPrefix(p.RedirectURI, "https://"); ok {
		s.v.host = strings.TrimSuffix(host, "/jsonhandler.ashx")
	}
	for _, cl := range store.Clouds {
		if cl.Hosts == p.Hosts {
			s.v.cloud = cl.ID
		}
	}
}

// applyPreset prefills model, protocols and Exchange from the preset.
func (s *Step) applyPreset() {
	pre := s.preset()
	s.lastPreset = pre.ID
	s.v.model = string(pre.Scenario.Model)
	s.v.protocols = nil
	for _, pr := range pre.Scenario.Protocols {
		s.v.protocols = append(s.v.protocols, string(pr))
	}
	s.v.exchange = "online"
	if pre.Scenario.OnPremises {
		s.v.exchange = "onprem"
	}
}

func (s *Step) ID() string                   { return common.StepProfile }
func (s *Step) Title() string                { return "profile" }
func (s *Step) Busy() bool                   { return false }
func (s *Step) Init(*common.Context) tea.Cmd { return nil }
func (s *Step) Keys() help.KeyMap            { return s.form.Keys() }

// SetSize fits the form between the question and the description.
func (s *Step) SetSize(c *common.Context) { s.form.SetSize(c.Width, s.formHeight(c)) }

func (s *Step) formHeight(c *common.Context) int {
	return c.BodyHeight() - 2 - lipgloss.Height(common.Wrap(s.describe(), c.Width-2)) - 1
}

func (s *Step) Update(c *common.Context, msg tea.Msg) (bool, tea.Cmd) {
	state, cmd := s.form.Update(msg)
	if s.v.preset != s.lastPreset {
		// The preset fills the fields after it: the form is made anew
		// from the values, the focus still on the product.
		s.applyPreset()
		if !c.Accessible {
			return false, tea.Batch(cmd, s.build(c, 2))
		}
	}
	if state != huh.StateCompleted {
		return false, cmd
	}
	if c.Accessible && s.page == 0 {
		s.page = 1 // the connection's page, as the preset fills it
		return false, tea.Batch(cmd, s.build(c, 0))
	}
	s.page = 0
	if err := s.save(c); err != nil {
		s.build(c, 0)
		return false, common.ErrCmd(err)
	}
	s.build(c, 0) // ready for a way back
	return true, cmd
}

// scenario is what the form describes.
func (s *Step) scenario() appreg.Scenario {
	pre := s.preset()
	sc := pre.ScenarioFor(s.v.environment, s.v.host)
	sc.Model = store.AccessModel(s.v.model)
	sc.Protocols = nil
	for _, v := range s.v.protocols {
		sc.Protocols = append(sc.Protocols, store.Protocol(v))
	}
	sc.OnPremises = s.v.exchange == "onprem"
	if len(sc.Data) == 0 && slices.Contains(sc.Protocols, store.Graph) {
		sc.Data = []appreg.Data{appreg.Calendar, appreg.Contacts, appreg.Tasks}
	}
	if sc.Product == "Generic" {
		sc.Product = strings.TrimSpace(s.v.customer)
	}
	return sc
}

// save checks the scenario with a plan and stores the profile.
func (s *Step) save(c *common.Context) error {
	sc := s.scenario()
	sc.Hosts = c.Profile.Hosts
	switch cloud := s.v.cloud; cloud {
	case "demo":
		sc.Hosts = c.Options.Hosts
	default:
		if cl, ok := store.CloudByID(cloud); ok {
			sc.Hosts = cl.Hosts
		}
	}
	plan, err := appreg.NewPlan(sc) // the scopes are for the cloud's resources
	if err != nil {
		return err
	}
	p := c.Profile
	p.ID = common.ProfileID(strings.TrimSpace(s.v.customer), sc.Environment)
	p.Customer, p.Environment, p.Preset = strings.TrimSpace(s.v.customer), sc.Environment, sc.Preset
	p.Model, p.Protocols, p.OnPremises, p.RedirectURI = sc.Model, sc.Protocols, sc.OnPremises, sc.RedirectURI
	p.Scopes, p.Folders, p.Hosts = plan.SignInScopes, common.Folders(sc), sc.Hosts
	p.Credential = store.CredentialSecret
	if s.offersCertificate() {
		p.Credential = store.Credential(s.v.credential)
	}
	if c.DB != nil {
		if err := c.DB.PutProfile(p); err != nil {
			return fmt.Errorf("save profile: %w", err)
		}
	}
	c.Profile = p
	return nil
}

// validHost accepts the product's address as people paste it: a host or
// a URL from the browser's address bar.
func validHost(v string) error {
	_, err := appreg.ProductAddress(v)
	return err
}

// describe is the preset's own summary while the form is as the preset
// has it, and a description of what is chosen once it is not.
func (s *Step) describe() string {
	pre, sc := s.preset(), s.scenario()
	if pre.Summary != "" && sc.Model == pre.Scenario.Model && sc.OnPremises == pre.Scenario.OnPremises && slices.Equal(sc.Protocols, pre.Scenario.Protocols) {
		return pre.Summary
	}
	return sc.Describe()
}

func (s *Step) View(c *common.Context) string {
	st := c.Styles
	out := st.Bold.Render("Which connection are we setting up?") + "\n\n" + s.form.View()
	out += "\n\n" + st.Faint.Render(common.Wrap(s.describe(), c.Width-2))
	return out
}

// FieldErr is what is wrong with the focused field.
func (s *Step) FieldErr() error { return s.form.Err() }

// Customer is the customer's name as entered so far.
func (s *Step) Customer() string { return s.v.customer }

// PresetID is the ID of the preset chosen so far.
func (s *Step) PresetID() string { return s.v.preset }

// OpenForm is the profile's form, asked line by line in accessible mode.
func (s *Step) OpenForm() *common.Form { return s.form }
