package tui

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/store"
)

const (
	stepProfile  = "profile"
	stepRegister = "register"
	stepIDs      = "ids"
	stepUsers    = "users"
	stepConsent  = "consent"
	stepVerify   = "verify"
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

type profileStep struct {
	form       *form
	lastPreset string
}

func newProfileStep(c *Context) *profileStep {
	s := &profileStep{}
	var presets []option
	for _, p := range appreg.Presets() {
		presets = append(presets, option{p.ID, presetLabels[p.ID]})
	}
	cloudOpts := []option{}
	if c.Demo != "" {
		cloudOpts = append(cloudOpts, option{"demo", "Simulated tenant (demo)"})
	}
	for _, cl := range store.Clouds {
		cloudOpts = append(cloudOpts, option{cl.ID, cl.Label})
	}
	s.form = newForm(
		&field{Key: "customer", Label: "Customer", Kind: textField, Hint: "The customer's name, e.g. Acme. Names the profile and the app registration.", Validate: required("the customer's name")},
		&field{Key: "environment", Label: "Environment", Kind: choiceField, Hint: "One app registration per environment: set up acceptance first.", Options: []option{{"production", "production"}, {"acceptance", "acceptance"}}},
		&field{Key: "preset", Label: "Product", Kind: choiceField, Hint: "Fills in what the product's guide says; everything below stays editable.", Options: presets},
		&field{Key: "host", Label: "Product address", Kind: textField, Hint: "Where the product runs, e.g. crm.contoso.com: its redirect URI is built from it.",
			Hidden: func() bool { return !strings.Contains(s.preset().Scenario.RedirectURI, "{host}") }, Validate: validHost},
		&field{Key: "model", Label: "Access model", Kind: choiceField, Options: []option{{string(store.Delegated), "each user signs in"}, {string(store.ServiceAccount), "a service account"}, {string(store.AppOnly), "app-only (no sign-in)"}}},
		&field{Key: "protocols", Label: "Protocols", Kind: multiField, Hint: "←/→ to move, space to pick.", Options: []option{{"graph", "Graph"}, {"ews", "EWS"}, {"imap", "IMAP"}, {"pop", "POP"}, {"smtp", "SMTP"}},
			Validate: func(v string) error {
				if v == "" {
					return errors.New("pick at least one protocol")
				}
				return nil
			}},
		&field{Key: "exchange", Label: "Exchange", Kind: choiceField, Options: []option{{"online", "Exchange Online"}, {"onprem", "Exchange Server on-premises"}}},
		&field{Key: "cloud", Label: "Cloud", Kind: choiceField, Options: cloudOpts},
	)
	s.load(c.Profile)
	return s
}

func (s *profileStep) preset() appreg.Preset {
	p, _ := appreg.PresetByID(s.form.Value("preset"))
	return p
}

// load fills the form from a stored profile, or from the first preset.
func (s *profileStep) load(p store.Profile) {
	if p.ID == "" {
		s.applyPreset()
		return
	}
	s.form.Set("customer", p.Customer)
	s.form.Set("environment", p.Environment)
	s.form.Set("preset", p.Preset)
	s.lastPreset = p.Preset
	s.form.Set("model", string(p.Model))
	var protos []string
	for _, pr := range p.Protocols {
		protos = append(protos, string(pr))
	}
	s.form.Set("protocols", strings.Join(protos, ","))
	if p.OnPremises {
		s.form.Set("exchange", "onprem")
	}
	if host, ok := strings.CutPrefix(p.RedirectURI, "https://"); ok {
		s.form.Set("host", strings.TrimSuffix(host, "/jsonhandler.ashx"))
	}
}

// applyPreset prefills model, protocols and Exchange from the preset.
func (s *profileStep) applyPreset() {
	pre := s.preset()
	s.lastPreset = pre.ID
	s.form.Set("model", string(pre.Scenario.Model))
	var protos []string
	for _, pr := range pre.Scenario.Protocols {
		protos = append(protos, string(pr))
	}
	s.form.Set("protocols", strings.Join(protos, ","))
	if pre.Scenario.OnPremises {
		s.form.Set("exchange", "onprem")
	} else {
		s.form.Set("exchange", "online")
	}
}

func (s *profileStep) ID() string            { return stepProfile }
func (s *profileStep) Title() string         { return "profile" }
func (s *profileStep) Busy() bool            { return false }
func (s *profileStep) Init(*Context) tea.Cmd { return nil }
func (s *profileStep) Keys() help.KeyMap     { return keyMap{keys.Next, keys.Down, keys.Left, keys.Toggle} }

func (s *profileStep) Update(c *Context, msg tea.Msg) (bool, tea.Cmd) {
	submitted, _, cmd := s.form.Update(msg)
	if s.form.Value("preset") != s.lastPreset {
		s.applyPreset()
	}
	if !submitted {
		return false, cmd
	}
	if err := s.save(c); err != nil {
		return false, errCmd(err)
	}
	return true, cmd
}

// scenario is what the form describes.
func (s *profileStep) scenario() appreg.Scenario {
	pre := s.preset()
	sc := pre.ScenarioFor(s.form.Value("environment"), s.form.Value("host"))
	sc.Model = store.AccessModel(s.form.Value("model"))
	sc.Protocols = nil
	for _, v := range s.form.Values("protocols") {
		sc.Protocols = append(sc.Protocols, store.Protocol(v))
	}
	sc.OnPremises = s.form.Value("exchange") == "onprem"
	if len(sc.Data) == 0 && slices.Contains(sc.Protocols, store.Graph) {
		sc.Data = []appreg.Data{appreg.Calendar, appreg.Contacts, appreg.Tasks}
	}
	if sc.Product == "Generic" {
		sc.Product = s.form.Value("customer")
	}
	return sc
}

// save checks the scenario with a plan and stores the profile.
func (s *profileStep) save(c *Context) error {
	sc := s.scenario()
	sc.Hosts = c.Profile.Hosts
	switch cloud := s.form.Value("cloud"); cloud {
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
	p.ID = profileID(s.form.Value("customer"), sc.Environment)
	p.Customer, p.Environment, p.Preset = s.form.Value("customer"), sc.Environment, sc.Preset
	p.Model, p.Protocols, p.OnPremises, p.RedirectURI = sc.Model, sc.Protocols, sc.OnPremises, sc.RedirectURI
	p.Scopes, p.Folders, p.Hosts = plan.SignInScopes, folders(sc), sc.Hosts
	if c.DB != nil {
		if err := c.DB.PutProfile(p); err != nil {
			return fmt.Errorf("save profile: %w", err)
		}
	}
	c.Profile = p
	return nil
}

// folders are what a profile keeps in step: what Graph syncs, and for EWS
// products (AllSolutions, Divalto) contacts, tasks and the calendar.
func folders(sc appreg.Scenario) []string {
	var out []string
	for _, d := range sc.Data {
		if d != appreg.MailSend {
			out = append(out, string(d))
		}
	}
	if len(out) == 0 && slices.Contains(sc.Protocols, store.EWS) {
		out = []string{"calendar", "contacts", "tasks"}
	}
	return out
}

var nonID = regexp.MustCompile(`[^a-z0-9]+`)

// spelledOut are the letters whose accent is not dropped but written out,
// as Germans, Danes and the French do in addresses: Müller is mueller.
var spelledOut = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "æ", "ae", "œ", "oe", "ø", "oe", "å", "aa", "ł", "l", "đ", "d", "þ", "th")

// unaccent drops the remaining accents: é is e, ç is c. A chain keeps
// state while it runs, so each use gets its own.
func unaccent() transform.Transformer {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}

// profileID makes "acme-production" from "Acme B.V." and "production",
// and "immobilien-mueller-gmbh-production" from "Immobilien Müller GmbH".
func profileID(customer, env string) string {
	ascii, _, err := transform.String(unaccent(), spelledOut.Replace(strings.ToLower(customer)))
	if err != nil {
		ascii = strings.ToLower(customer)
	}
	id := strings.Trim(nonID.ReplaceAllString(ascii, "-"), "-")
	if id == "" {
		id = "profile"
	}
	return id + "-" + env
}

func required(what string) func(string) error {
	return func(v string) error {
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("enter %s", what)
		}
		return nil
	}
}

// validHost accepts the product's address as people paste it: a host or
// a URL from the browser's address bar.
func validHost(v string) error {
	_, err := appreg.ProductAddress(v)
	return err
}

// describe is the preset's own summary while the form is as the preset
// has it, and a description of what is chosen once it is not.
func (s *profileStep) describe() string {
	pre, sc := s.preset(), s.scenario()
	if pre.Summary != "" && sc.Model == pre.Scenario.Model && sc.OnPremises == pre.Scenario.OnPremises && slices.Equal(sc.Protocols, pre.Scenario.Protocols) {
		return pre.Summary
	}
	return sc.Describe()
}

func (s *profileStep) View(c *Context) string {
	st := c.Styles
	out := st.Bold.Render("Which connection are we setting up?") + "\n\n" + s.form.View(st, c.Width)
	out += "\n" + st.Faint.Render(wrap(s.describe(), c.Width-2))
	return out
}
