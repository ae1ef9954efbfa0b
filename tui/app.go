// Package tui is modauth's terminal interface: the setup wizard and, later,
// the dashboard: the frame, the wizard's sequence and the wiring of the
// screens, which live in their own packages (common, step/*, dashboard).
// Only the root model returns a tea.View; screens render
// strings into the fixed frame: header, body, error slot, help bar.
package tui

import (
	"context"
	"errors"
	"reflect"
	"strings"

	"github.com/modauth/modauth/tui/common"
	"github.com/modauth/modauth/tui/dashboard"
	"github.com/modauth/modauth/tui/sheet"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Options wire the interface to the rest of modauth.
type Options = common.Options

// screen is what the frame shows.
type screen int

const (
	screenWizard screen = iota
	screenDashboard
)

// Model is the root of the interface: the frame around the wizard or the
// dashboard.
type Model struct {
	c        *common.Context
	screen   screen
	wiz      *wizard
	dash     *dashboard.Model // made when first shown, kept with its engine
	err      error
	note     string           // a line of news in the error slot's place
	noteWarn bool             // the news is not all good
	question *common.Question // a yes/no question the frame asks before an action
	finished bool
	// sheet is the hand-off sheet, open over the end of the setup or the
	// dashboard.
	sheet *sheet.Sheet
	spin  spinner.Model
	help  help.Model
}

// New makes the interface: the wizard for the first profile whose setup
// is not complete, else the dashboard of the first complete one, else the
// wizard for a new profile.
func New(ctx context.Context, opts common.Options) (*Model, error) {
	c := &common.Context{Options: opts, Width: 80, Height: 24, Dark: true, Styles: common.NewStyles(true), Ctx: ctx}
	if opts.DB != nil {
		ps, err := opts.DB.Profiles()
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if p.WizardStep != common.StepVerify {
				c.Profile = p
				break
			}
		}
	}
	if c.Profile.ID == "" {
		c.Profile.Hosts = opts.Hosts
	}
	m := &Model{c: c, spin: spinner.New(spinner.WithSpinner(spinner.Dot)), help: help.New()}
	m.wiz = newWizard(c)
	if c.Profile.ID == "" && opts.DB != nil {
		if ps, err := dashboard.CompleteProfiles(opts.DB); err == nil && len(ps) > 0 {
			m.screen, c.Profile = screenDashboard, ps[0]
		}
	}
	return m, nil
}

// Context exposes the shared state, for tests.
func (m *Model) Context() *common.Context { return m.c }

func (m *Model) Init() tea.Cmd {
	first := m.enter()
	if m.screen == screenDashboard {
		first = m.openDashboard(m.c.Profile)
	}
	return tea.Batch(tea.RequestBackgroundColor, first, m.spin.Tick)
}

// Close stops the dashboard's engine.
func (m *Model) Close() {
	if m.dash != nil {
		m.dash.Close()
	}
}

func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.question != nil {
		// An open question takes the keys, and its form's own messages;
		// everything else goes on as usual.
		done, yes, cmd := m.question.Update(msg)
		if done {
			// What its form still had to do is of no use now: only the
			// answer runs.
			q := m.question
			m.question = nil
			if yes {
				return m, q.OnYes()
			}
			return m, q.OnNo()
		}
		if _, ok := msg.(tea.KeyPressMsg); ok || isHuhMsg(msg) {
			return m, cmd
		}
		_, next := m.update(msg)
		return m, tea.Batch(cmd, next)
	}
	_, cmd := m.update(msg)
	return m, tea.Batch(cmd, m.askAccessibly())
}

// askAccessibly asks the wizard's open form line by line in accessible
// mode, once, saying first what was wrong with the last answers.
func (m *Model) askAccessibly() tea.Cmd {
	if !m.c.Accessible || m.screen != screenWizard || m.finished || m.question != nil {
		return nil
	}
	fh, ok := m.wiz.current().(common.FormHolder)
	if !ok {
		return nil
	}
	note := ""
	if err := fieldErr(m.wiz.current()); err != nil {
		note = "✗ " + err.Error()
	}
	return common.AskAccessibly(fh.OpenForm(), note)
}

// enter starts the step the wizard is at: sized first, so that its View
// only draws.
func (m *Model) enter() tea.Cmd {
	s := m.wiz.current()
	s.SetSize(m.c)
	return s.Init(m.c)
}

// isHuhMsg tells huh's own messages (focus moves, field redraws): every
// form gets them, so while a question is open they are its alone, or they
// would move the focus of the screen's form below it.
func isHuhMsg(msg tea.Msg) bool {
	t := reflect.TypeOf(msg)
	return t != nil && strings.HasPrefix(t.PkgPath(), "charm.land/huh/")
}

// askFirst opens a yes/no question; yes runs then.
func (m *Model) askFirst(text, yes, no string, then tea.Cmd) tea.Cmd {
	m.question = common.Ask(m.c, text, yes, no, then)
	return m.question.Init()
}

func (m *Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := m.route(msg)
	if _, key := msg.(tea.KeyPressMsg); m.sheet != nil && !key {
		// The sheet's own answers, and the size and styles the frame
		// just took to lay out by; the screen below went on as usual.
		cmd = tea.Batch(cmd, m.sheet.Update(m.c, msg))
	}
	return m, cmd
}

func (m *Model) route(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case common.AskMsg:
		m.question = common.AskEither(m.c, msg.Text, msg.Yes, msg.No, msg.Then, msg.Else)
		return m, m.question.Init()
	case tea.WindowSizeMsg:
		m.c.Width, m.c.Height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		for _, s := range m.wiz.steps {
			s.SetSize(m.c)
		}
		if m.dash != nil {
			m.dash.SetSize(m.c)
		}
	case tea.BackgroundColorMsg:
		m.c.Dark = msg.IsDark()
		m.c.Styles = common.NewStyles(m.c.Dark)
		m.help.Styles = help.DefaultStyles(m.c.Dark)
		return m, nil
	case common.ErrMsg:
		m.err, m.note = msg.Err, ""
	case dashboard.HandOffMsg:
		return m, m.openSheet(msg.ProfileID)
	case common.NoteMsg:
		m.note, m.noteWarn = msg.Text, msg.Warn
		if m.screen == screenDashboard && m.dash != nil {
			return m, m.dash.Update(m.c, msg) // an action ended: read again
		}
		return m, nil
	case dashboard.WizardMsg:
		return m, m.openWizard(msg.Step)
	case spinner.TickMsg:
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case tea.KeyPressMsg:
		m.err, m.note = nil, ""
		switch {
		case key.Matches(msg, common.Keys.Quit):
			if (m.finished || m.screen == screenDashboard) && m.c.Throwaway == "" {
				return m, tea.Quit
			}
			return m, m.askFirst(m.quitQuestion(), "Quit", "Stay", tea.Quit)
		case key.Matches(msg, common.Keys.Help):
			m.help.ShowAll = !m.help.ShowAll
			return m, nil
		case m.sheet != nil:
			return m, m.sheetKey(msg)
		case m.finished && key.Matches(msg, common.Keys.Next):
			m.finished = false
			return m, m.openDashboard(m.c.Profile)
		case m.finished && key.Matches(msg, keysShowSheet):
			return m, m.openSheet(m.c.Profile.ID)
		case m.finished && m.c.Throwaway != "": // the demo's data goes with it
			return m, m.askFirst(m.quitQuestion(), "Quit", "Stay", tea.Quit)
		case m.finished:
			return m, tea.Quit
		case key.Matches(msg, common.Keys.Back) && m.screen == screenWizard && m.wiz.at > 0 && !m.wiz.current().Busy() && !isModal(m.wiz.current()):
			m.wiz.at, _ = m.wiz.prev(m.c.Profile)
			return m, m.enter()
		}
	}
	if m.screen == screenDashboard {
		if m.dash == nil { // a message before Init opened it
			return m, nil
		}
		return m, m.dash.Update(m.c, msg)
	}
	if m.dash != nil {
		// The wizard is open over a running dashboard: the engine's own
		// messages keep it going, and never reach a step.
		if cmd, ok := m.dash.Background(m.c, msg); ok {
			return m, cmd
		}
	}
	if m.finished {
		return m, nil
	}
	s := m.wiz.current()
	done, cmd := s.Update(m.c, msg)
	if !done {
		return m, cmd
	}
	if err := m.wiz.saveProgress(m.c, s); err != nil {
		return m, tea.Batch(cmd, common.ErrCmd(err))
	}
	next, ok := m.wiz.next(m.c.Profile)
	if !ok {
		m.finished = true
		return m, cmd
	}
	m.wiz.at = next
	return m, tea.Batch(cmd, m.enter())
}

func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = !m.c.NoAltScreen
	v.WindowTitle = "modauth"
	return v
}

// render draws the frame: header, body clipped to the room there is, the
// error slot and the help bar, always at the same place.
func (m *Model) render() string {
	c, st := m.c, m.c.Styles
	if m.screen == screenDashboard && m.dash != nil {
		if m.sheet != nil {
			return m.frame(m.dash.Header(c), m.sheet.View(c), m.err, m.sheet.Keys(), common.Keys.Back, common.Keys.Quit)
		}
		return m.frame(m.dash.Header(c), m.dash.View(c), m.err, m.dash.Keys(), common.Keys.Quit)
	}
	header := m.wiz.header(c)
	if c.Demo != "" {
		header += "  " + st.Warn.Render("demo: "+c.Demo)
	}
	if m.finished && m.sheet != nil {
		return m.frame(header, m.sheet.View(c), m.err, m.sheet.Keys(), common.Keys.Back, common.Keys.Quit)
	}
	if m.finished {
		return m.frame(header, m.finishedView(), m.err, finishedKeys, common.Keys.Quit)
	}
	body := m.wiz.current().View(c)
	if m.wiz.current().Busy() {
		body = m.spin.View() + " " + body
	}
	var tail []key.Binding
	switch {
	case m.wiz.current().Busy():
		tail = append(tail, common.Keys.Cancel) // every long task stops on esc
	case m.wiz.at > 0:
		tail = append(tail, common.Keys.Back)
	}
	err := m.err
	if err == nil {
		err = fieldErr(m.wiz.current())
	}
	return m.frame(header, body, err, m.wiz.current().Keys(), append(tail, common.Keys.Quit)...)
}

// frame lays out a header, a body clipped to the room there is, the
// error slot and the help bar, always at the same place. The bar shows
// the screen's keys that fit before tail; F1 shows all of them instead of
// the body. err is what goes in the error slot.
func (m *Model) frame(header, body string, err error, km help.KeyMap, tail ...key.Binding) string {
	c, st := m.c, m.c.Styles
	if m.question != nil {
		km, tail = m.question.Keys(), nil // the keys answer it now
	}
	bar := fitBar(c.Width, km.ShortHelp(), tail)
	if m.help.ShowAll {
		groups := append(km.FullHelp(), append(tail, keysCloseHelp))
		body = st.Bold.Render("Keys on this screen") + "\n\n" + fullHelp(m.help, groups, c.Width, c.BodyHeight()-2)
		bar = common.KeyMap{keysCloseHelp}
	}
	// The error slot has errorLines; a question may take up to twice as
	// many more from the body, so that what it asks is never cut.
	var slot []string
	switch {
	case m.question != nil:
		slot = strings.Split(strings.TrimRight(m.question.View(), "\n"), "\n")
	case err != nil:
		slot = strings.Split(common.Wrap("✗ "+common.FirstLine(err), c.Width-1), "\n")
		for i := range slot {
			slot[i] = st.Error.Render(slot[i])
		}
	case m.note != "":
		slot = strings.Split(common.Wrap(m.note, c.Width-1), "\n")
		style := st.OK
		if m.noteWarn {
			style = st.Warn
		}
		for i := range slot {
			slot[i] = style.Render(slot[i])
		}
	}
	slotLines := common.ErrorLines
	if m.question != nil {
		slotLines = min(max(len(slot), common.ErrorLines), 3*common.ErrorLines)
	}
	for len(slot) < slotLines {
		slot = append(slot, "")
	}
	if m.question != nil && len(slot) > slotLines {
		// Too long a question loses the end of its text, never its
		// answers (the last line).
		last := slot[len(slot)-1]
		slot = append(slot[:slotLines-1:slotLines-1], last)
		slot[slotLines-2] = ansi.Truncate(slot[slotLines-2], c.Width-1, "") + "…"
	}
	slot = slot[:slotLines]
	for i := range slot {
		slot[i] = ansi.Truncate(slot[i], c.Width, "…")
	}
	room := c.BodyHeight() - (slotLines - common.ErrorLines)
	lines := strings.Split(strings.TrimRight(body, "\n"), "\n")
	if len(lines) > room {
		lines = lines[:room]
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, c.Width, "…")
	}
	for len(lines) < room {
		lines = append(lines, "")
	}
	return lipgloss.JoinVertical(lipgloss.Left,
		ansi.Truncate(header, c.Width, "…"), "", strings.Join(lines, "\n"),
		strings.Join(slot, "\n"), ansi.Truncate(m.help.ShortHelpView(bar), c.Width, "…"))
}

// Run shows the interface until the person leaves it.
func Run(ctx context.Context, opts common.Options, progOpts ...tea.ProgramOption) error {
	m, err := New(ctx, opts)
	if err != nil {
		return err
	}
	defer m.Close()
	p := tea.NewProgram(m, append([]tea.ProgramOption{tea.WithContext(ctx)}, progOpts...)...)
	if opts.Service != nil && opts.Service.Resize != nil {
		// An attached client's terminal: no signal here says it changed
		// size, so its sizes come as messages the program itself takes
		// (its renderer must know them, not only the screens).
		go func() {
			for size := range opts.Service.Resize {
				p.Send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			}
		}()
	}
	_, err = p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
