package register

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// registerStep shows what to create in Entra ID and Exchange, in four
// forms (checklist, manifest, az script, PowerShell), or creates it
// through Graph when an admin signs in.
type Step struct {
	plan   *appreg.Plan
	tab    int
	texts  [4]string
	vp     viewport.Model
	note   string
	busy   bool
	device *flows.DeviceCode
	task   common.Task // "register for me": esc cancels it
	// monitor: "register for me" makes the monitoring app too.
	monitor bool
}

// registerTabs are the step's views; code is shown line for line, never
// re-flowed.
var registerTabs = [4]struct {
	name, file string
	code       bool
}{
	{"checklist", "checklist.txt", false}, {"manifest", "manifest.json", true}, {"az CLI", "register.sh", true}, {"PowerShell", "exchange.ps1", true},
}

var registerKeys = struct {
	Tab, Copy, Save, Register, Scroll key.Binding
}{
	Tab:      key.NewBinding(key.WithKeys("1", "2", "3", "4"), key.WithHelp("1-4", "view")),
	Copy:     key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy")),
	Save:     key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "save")),
	Register: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "register for me")),
	Scroll:   key.NewBinding(key.WithKeys("pgdown", "pgup", "up", "down"), key.WithHelp("↑/↓", "scroll")),
}

func New() *Step { return &Step{vp: viewport.New()} }

func (s *Step) ID() string    { return common.StepRegister }
func (s *Step) Title() string { return "register the app" }
func (s *Step) Busy() bool    { return s.busy }

func (s *Step) Keys() help.KeyMap {
	if s.busy {
		return common.KeyMap{} // the frame offers esc to cancel
	}
	k := common.KeyMap{common.Keys.Next}
	if s.plan != nil && s.plan.NeedsApp {
		k = append(k, registerKeys.Register)
	}
	return append(k, registerKeys.Tab, registerKeys.Copy, registerKeys.Save, registerKeys.Scroll)
}

func (s *Step) Init(c *common.Context) tea.Cmd {
	note, err := ensureCertificate(c)
	if err != nil {
		return common.ErrCmd(err)
	}
	if note != "" && s.note == "" {
		s.note = note
	}
	plan, err := conn.Plan(c.Profile)
	if err != nil {
		return common.ErrCmd(err)
	}
	s.plan = plan
	var b bytes.Buffer
	plan.Checklist(&b)
	s.texts[0] = b.String()
	manifest, unresolved := plan.Manifest()
	s.texts[1] = string(manifest)
	for _, p := range unresolved {
		s.texts[1] += fmt.Sprintf("(add %s on %s by hand: Microsoft does not publish its ID)\n", p.Name, p.Resource.Name)
	}
	if m := plan.Monitor; m != nil {
		s.texts[1] = "// The product's app: " + plan.DisplayName + "\n" + s.texts[1] +
			"\n// Optional second app, modauth's read-only monitoring app: " + m.DisplayName + "\n// " + appreg.MonitorWhy + "\n" + string(m.Manifest())
	}
	b.Reset()
	plan.AzScript(&b)
	s.texts[2] = b.String()
	b.Reset()
	plan.ExchangePowerShell(&b, appreg.AdminInput{AppID: c.Profile.ClientID, SPObjectID: c.Profile.ServicePrincipalID})
	s.texts[3] = b.String()
	s.show(c, s.tab)
	return nil
}

// resize gives the view the room the tabs and the note leave.
func (s *Step) resize(c *common.Context) {
	note := 0
	if s.note != "" {
		note = 1 + strings.Count(common.Wrap(s.note, c.Width-2), "\n") + 1
	}
	s.vp.SetHeight(max(c.BodyHeight()-2-note, 3))
}

func (s *Step) show(c *common.Context, tab int) {
	s.tab = tab
	s.vp.SetWidth(c.Width)
	s.resize(c)
	if registerTabs[tab].code {
		s.vp.SetContentLines(common.CodeLines(s.texts[tab], c.Width-1))
	} else {
		s.vp.SetContent(common.Wrap(s.texts[tab], c.Width-1))
	}
	s.vp.GotoTop()
}

// registeredMsg is what "register for me" did.
type registeredMsg struct {
	reg    *appreg.Registration
	graph  *exchange.Graph // on the admin's token
	tenant string          // the admin's tenant, from the token
	err    error
}

// adminCodeMsg carries the admin's device code to show, and the client
// that polls for it.
type adminCodeMsg struct {
	dc *flows.DeviceCode
	fc *flows.Client
}

func (s *Step) Update(c *common.Context, msg tea.Msg) (bool, tea.Cmd) {
	done, cmd := s.update(c, msg)
	s.resize(c) // a note may have come or gone
	return done, cmd
}

func (s *Step) update(c *common.Context, msg tea.Msg) (bool, tea.Cmd) {
	switch msg := msg.(type) {
	case monitorChoiceMsg:
		return false, s.register(c, msg.monitor)
	case adminCodeMsg:
		s.device = msg.dc
		return false, s.finishRegister(c, msg.fc, msg.dc)
	case registeredMsg:
		s.task.Stop()
		s.busy, s.device = false, nil
		if msg.err != nil {
			return false, common.ErrCmd(msg.err)
		}
		if err := msg.reg.Save(c.DB, c.Profile.ID); err != nil {
			return false, common.ErrCmd(err)
		}
		if p, err := c.DB.Profile(c.Profile.ID); err == nil {
			if p.TenantID == "" {
				p.TenantID = msg.tenant
				c.DB.PutProfile(p)
			}
			c.Profile = p
		}
		c.AdminGraph = msg.graph
		if cmd := s.Init(c); cmd != nil { // the scripts now know the app's IDs
			return false, cmd
		}
		s.note = "✓ Registered: " + msg.reg.Summary() + "; nothing else was missing"
		if len(msg.reg.Changes) == 0 {
			s.note = "✓ The registration was complete already: nothing changed."
		}
		return false, nil
	case savedMsg:
		if msg.err != nil {
			return false, common.ErrCmd(msg.err)
		}
		s.note = "Saved to " + msg.path
		return false, nil
	case tea.WindowSizeMsg:
		s.show(c, s.tab)
	case tea.KeyPressMsg:
		if s.busy {
			if key.Matches(msg, common.Keys.Back) {
				s.task.Stop()
			}
			return false, nil
		}
		switch {
		case key.Matches(msg, common.Keys.Next):
			return true, nil
		case key.Matches(msg, registerKeys.Tab):
			s.note = "" // read: the view gets its room back
			s.show(c, int(msg.String()[0]-'1'))
			return false, nil
		case key.Matches(msg, registerKeys.Copy):
			s.note = "Copied the " + registerTabs[s.tab].name + " to the clipboard (OSC 52: works over SSH where the terminal allows it)."
			return false, tea.SetClipboard(s.texts[s.tab])
		case key.Matches(msg, registerKeys.Save):
			return false, s.save(c)
		case key.Matches(msg, registerKeys.Register) && s.plan != nil && s.plan.NeedsApp:
			if s.plan.Monitor == nil || c.Profile.Monitor != nil { // nothing to ask, or completed as it is
				return false, s.register(c, c.Profile.Monitor != nil)
			}
			choose := func(monitor bool) tea.Cmd { return func() tea.Msg { return monitorChoiceMsg{monitor} } }
			return false, func() tea.Msg {
				return common.AskMsg{Text: MonitorQuestion, Yes: "Yes, both apps", No: "No, the product's only", Then: choose(true), Else: choose(false)}
			}
		}
	}
	var cmd tea.Cmd
	s.vp, cmd = s.vp.Update(msg)
	return false, cmd
}

// save writes the current view to a file where exports go; savedMsg
// tells how it went.
func (s *Step) save(c *common.Context) tea.Cmd {
	path := c.SavePath(c.Profile.ID + "-" + registerTabs[s.tab].file)
	name, text := registerTabs[s.tab].name, s.texts[s.tab]
	return func() tea.Msg {
		err := store.WriteExport(path, func(w io.Writer) error {
			_, err := io.WriteString(w, text)
			return err
		})
		if err != nil {
			err = fmt.Errorf("save %s: %w", name, err)
		}
		return savedMsg{path: path, err: err}
	}
}

// savedMsg: a view was saved to path, or err says why not.
type savedMsg struct {
	path string
	err  error
}

// MonitorQuestion is asked before "register for me": the second app is
// optional, and the answer offered first is yes.
const MonitorQuestion = "Also create a read-only monitoring app for modauth? It reads the product app's secret expiry and sign-ins, so the product's own app needs no directory-wide rights."

// monitorChoiceMsg is the answer to MonitorQuestion.
type monitorChoiceMsg struct{ monitor bool }

// register signs an admin in by device code and creates or completes
// the registration, and the monitoring app with it when monitor is set.
func (s *Step) register(c *common.Context, monitor bool) tea.Cmd {
	s.busy, s.note, s.monitor = true, "", monitor
	ctx, _ := s.task.Start(c.Ctx)
	return func() tea.Msg {
		fc, dc, err := common.StartAdminSignIn(ctx, c, appreg.AdminPermissions)
		if err != nil {
			return registeredMsg{err: err}
		}
		return adminCodeMsg{dc, fc}
	}
}

// finishRegister waits for the admin's sign-in, then registers.
func (s *Step) finishRegister(c *common.Context, fc *flows.Client, dc *flows.DeviceCode) tea.Cmd {
	ctx, plan := s.task.Context(), s.plan
	clientID, db, profileID, p := c.Profile.ClientID, c.DB, c.Profile.ID, c.Profile
	opts := appreg.RegisterOptions{ClientID: clientID, Monitor: s.monitor, Now: c.Now}
	if m := c.Profile.Monitor; m != nil {
		opts.MonitorClientID = m.ClientID
	}
	return func() tea.Msg {
		g, tenant, err := common.FinishAdminSignIn(ctx, c, fc, dc)
		if err != nil {
			return registeredMsg{err: err}
		}
		_, noSecret := db.ClientSecret(profileID)
		_, noMonitorSecret := db.MonitorSecret(profileID)
		opts.HaveSecret, opts.HaveMonitorSecret = noSecret == nil, noMonitorSecret == nil
		if p.UsesCertificate() {
			if opts.Certificate, err = certificateToUpload(db, p); err != nil {
				return registeredMsg{err: err}
			}
			opts.HaveSecret = opts.Certificate == nil
		}
		reg, err := appreg.Register(ctx, g, plan, opts)
		if errors.Is(err, context.Canceled) {
			return registeredMsg{err: errors.New("registration cancelled")}
		}
		return registeredMsg{reg: reg, graph: g, tenant: tenant, err: err}
	}
}

func (s *Step) View(c *common.Context) string {
	st := c.Styles
	var tabs []string
	for i, t := range registerTabs {
		label := fmt.Sprintf("%d %s", i+1, t.name)
		if i == s.tab {
			tabs = append(tabs, st.Selected.Render("["+label+"]"))
		} else {
			tabs = append(tabs, st.Faint.Render(" "+label+" "))
		}
	}
	if s.device != nil {
		return common.AdminCodeView(c, s.device, "create the registration", "a Privileged Role Administrator or Global Administrator")
	}
	if s.busy {
		return "Registering the app through Microsoft Graph…"
	}
	head := strings.Join(tabs, " ")
	note := ""
	if s.note != "" {
		note = "\n" + st.OK.Render(common.Wrap(s.note, c.Width-2))
	}
	return head + "\n\n" + s.vp.View() + note
}

// SetSize has nothing to fit: the checklist is drawn to the frame's width.
func (s *Step) SetSize(*common.Context) {}

// Device is the device code of the admin sign-in under way, if any.
func (s *Step) Device() *flows.DeviceCode { return s.device }

// Applies: Exchange Server on-premises has no Entra step.
func (s *Step) Applies(p store.Profile) bool { return !p.OnPremises }
