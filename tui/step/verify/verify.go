package verify

import (
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// verifyStep is the wizard's last step: a connection test as one user,
// one line per protocol of the profile, with the time it took and, for a
// failure, the error, its fix and the Exchange PowerShell that fixes it
// where the fix is on the Exchange side.
type Step struct {
	users   []store.User // those who can be tested: signed in, or resolved for app-only
	loaded  bool
	loadErr error
	cursor  int

	run     common.Task    // results of an older run are dropped
	results []verifyResult // one per protocol, in the profile's order
	pending int
	ran     bool // results are for the current user

	showPS bool
	offset int // scroll of the results
	note   string

	// The mailbox outside the app's scope, asked for the scope proof.
	form    *common.Form
	outside string
	// What the profile offers after a passing run: a test message, and
	// for an app the proof of its scope.
	sends, appOnly bool
}

// The extra tests a person asks for after a passing run, shown as lines
// of their own.
const (
	protoSend  store.Protocol = "send"
	protoScope store.Protocol = "scope"
)

// verifyResult is the outcome of one protocol's test.
type verifyResult struct {
	proto store.Protocol
	done  bool
	ok    bool
	took  time.Duration
	what  string   // what a pass proved
	err   string   // the error's one line
	fix   string   // what to do about it
	ps    []string // Exchange PowerShell lines for the fix
}

type verifyUsersMsg struct {
	profile string
	users   []store.User
	err     error
}

type verifyResultMsg struct {
	run int
	res verifyResult
}

// verifyTimeout bounds one run of the test.
const verifyTimeout = 60 * time.Second

var verifyKeys = struct {
	Test, Finish, Anyway, Rerun, User, PS, Copy, Scroll, Send, Scope key.Binding
}{
	Send:   key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "send a test mail")),
	Scope:  key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "prove the scope")),
	Test:   key.NewBinding(key.WithKeys("t"), key.WithHelp("t/enter", "test")),
	Finish: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "finish")),
	Anyway: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue anyway")),
	Rerun:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "test again")),
	User:   key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "user")),
	PS:     key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "PowerShell")),
	Copy:   key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy")),
	Scroll: key.NewBinding(key.WithKeys("pgdown", "pgup"), key.WithHelp("pgdn/pgup", "scroll")),
}

func New() *Step { return &Step{} }

func (s *Step) ID() string    { return common.StepVerify }
func (s *Step) Title() string { return "connection test" }
func (s *Step) Busy() bool    { return s.pending > 0 }

func (s *Step) Keys() help.KeyMap {
	switch {
	case s.pending > 0:
		return common.KeyMap{verifyKeys.Scroll}
	case !s.ran:
		return common.KeyMap{verifyKeys.Test, verifyKeys.User}
	case s.form != nil:
		return s.form.Keys()
	case s.Failed() == 0:
		return append(common.KeyMap{verifyKeys.Finish}, append(s.extraKeys(), verifyKeys.Rerun, verifyKeys.User, verifyKeys.Scroll)...)
	}
	k := common.KeyMap{verifyKeys.Rerun}
	if s.hasPS() {
		k = append(k, verifyKeys.PS)
		if s.showPS {
			k = append(k, verifyKeys.Copy)
		}
	}
	return append(k, verifyKeys.Anyway, verifyKeys.Scroll, verifyKeys.User)
}

// hasPS reports whether a failure has PowerShell to show.
func (s *Step) hasPS() bool {
	for _, r := range s.results {
		if len(r.ps) > 0 {
			return true
		}
	}
	return false
}

// Init starts over: the profile may have changed since the last visit.
func (s *Step) Init(c *common.Context) tea.Cmd {
	s.stop()
	s.results, s.ran, s.showPS, s.offset, s.note = nil, false, false, 0, ""
	s.loaded, s.loadErr, s.form = false, nil, nil
	s.sends, s.appOnly = c.Conn(c.Profile).Sends(), c.Profile.Model == store.AppOnly
	db, p := c.DB, c.Profile
	return func() tea.Msg {
		if db == nil || p.ID == "" {
			return verifyUsersMsg{profile: p.ID}
		}
		users, err := db.Users(p.ID)
		var ok []store.User
		for _, u := range users {
			if verifyTestable(p, u) {
				ok = append(ok, u)
			}
		}
		return verifyUsersMsg{profile: p.ID, users: ok, err: err}
	}
}

// stop abandons a run under way: its results are dropped when they come.
func (s *Step) stop() {
	s.run.Stop()
	s.pending = 0
}

// verifyTestable: delegated users must have signed in; app-only and
// on-premises users need a resolved mailbox.
func verifyTestable(p store.Profile, u store.User) bool {
	switch u.Mapping {
	case store.MappingNotFound, store.MappingNoMailbox, store.MappingDisabled:
		return false
	}
	if p.Model == store.AppOnly || p.OnPremises {
		return u.Mapping == store.MappingOK || u.Mapping == store.MappingMismatch
	}
	return u.Consent == store.ConsentDone
}

func (s *Step) Failed() int {
	n := 0
	for _, r := range s.results {
		if r.done && !r.ok {
			n++
		}
	}
	return n
}

// verifyContinueMsg: "continue anyway?" was answered yes.
type verifyContinueMsg struct{}

func (s *Step) Update(c *common.Context, msg tea.Msg) (bool, tea.Cmd) {
	switch msg := msg.(type) {
	case verifyContinueMsg:
		return true, nil
	case verifyUsersMsg:
		if msg.profile != c.Profile.ID {
			return false, nil
		}
		var prev string
		if s.cursor < len(s.users) {
			prev = s.users[s.cursor].Key
		}
		s.users, s.loadErr, s.loaded, s.cursor = msg.users, msg.err, true, 0
		for i, u := range s.users {
			if u.Key == prev {
				s.cursor = i
			}
		}
		return false, nil
	case verifyResultMsg:
		if !s.run.Current(msg.run) || s.pending == 0 {
			return false, nil
		}
		for i := range s.results {
			if s.results[i].proto == msg.res.proto && !s.results[i].done {
				s.results[i] = msg.res
				s.results[i].done = true
				s.pending--
				break
			}
		}
		if s.pending == 0 {
			s.run.Stop()
		}
		return false, nil
	case sendMsg:
		return false, s.extra(c, protoSend, "")
	case tea.KeyPressMsg:
		if s.form != nil {
			return s.formKey(c, msg)
		}
		return s.key(c, msg)
	}
	if s.form != nil {
		return s.formUpdate(c, msg)
	}
	return false, nil
}

func (s *Step) key(c *common.Context, k tea.KeyPressMsg) (bool, tea.Cmd) {
	s.note = ""
	switch {
	case key.Matches(k, verifyKeys.Scroll):
		lines, _ := s.region(c)
		page := max(s.regionHeight(c)-2, 1)
		if k.String() == "pgup" {
			page = -page
		}
		s.offset = min(max(s.offset+page, 0), verifyMaxOffset(len(lines), s.regionHeight(c)))
		return false, nil
	case s.pending > 0 && key.Matches(k, common.Keys.Cancel):
		s.stop()
		s.results, s.ran, s.note = nil, false, "Test cancelled. Press t to run it again."
		return false, nil
	case s.pending > 0:
		return false, nil // a test is running: keys wait for it
	case key.Matches(k, common.Keys.Up), key.Matches(k, common.Keys.Down):
		if len(s.users) < 2 {
			return false, nil
		}
		d := 1
		if key.Matches(k, common.Keys.Up) {
			d = len(s.users) - 1
		}
		s.cursor = (s.cursor + d) % len(s.users)
		s.results, s.ran, s.showPS, s.offset = nil, false, false, 0
		return false, nil
	case key.Matches(k, verifyKeys.Send) && s.canSend():
		u := s.users[s.cursor]
		return false, common.AskCmd("Send a test message from "+conn.Mailbox(u)+" to itself? Graph has no dry run: only a real message proves Mail.Send works.",
			"Send", "Don't", func() tea.Msg { return sendMsg{} })
	case key.Matches(k, verifyKeys.Scope) && s.canSend() && c.Profile.Model == store.AppOnly:
		s.outside = ""
		s.form = common.NewForm(c, huh.NewInput().Title("A mailbox the app must not reach").Value(&s.outside).
			Description("Outside the product's: the test sends as it and expects a refusal").
			Validate(common.Required("a mailbox's address")))
		s.form.SetSize(c.Width, c.BodyHeight()-4)
		return false, nil
	case key.Matches(k, verifyKeys.Test), key.Matches(k, verifyKeys.Rerun):
		return false, s.start(c)
	case key.Matches(k, verifyKeys.Finish):
		switch {
		case !s.ran && len(s.users) > 0 && len(c.Profile.Protocols) > 0:
			return false, s.start(c)
		case s.ran && s.Failed() == 0:
			return true, nil
		}
		return false, common.AskCmd("The connection is not verified. Continue anyway?", "Continue", "Stay", func() tea.Msg { return verifyContinueMsg{} })
	case key.Matches(k, verifyKeys.PS) && s.hasPS():
		s.showPS = !s.showPS
		s.offset = 0
		if lines, at := s.region(c); s.showPS && at >= 0 {
			s.offset = min(at, verifyMaxOffset(len(lines), s.regionHeight(c)))
		}
		return false, nil
	case key.Matches(k, verifyKeys.Copy) && s.showPS:
		// Each section once, though several failures share the opening.
		var blocks []string
		for _, r := range s.results {
			for _, b := range strings.Split(strings.Join(r.ps, "\n"), "\n\n") {
				if b != "" && !slices.Contains(blocks, b) {
					blocks = append(blocks, b)
				}
			}
		}
		if len(blocks) == 0 {
			return false, nil
		}
		s.note = "Copied the PowerShell to the clipboard (OSC 52: works over SSH where the terminal allows it)."
		return false, tea.SetClipboard(strings.Join(blocks, "\n\n") + "\n")
	}
	return false, nil
}

// start runs every protocol's test at once, each as its own command.
func (s *Step) start(c *common.Context) tea.Cmd {
	if len(s.users) == 0 || len(c.Profile.Protocols) == 0 {
		return nil
	}
	s.stop()
	ctx, run := s.run.StartTimeout(c.Ctx, verifyTimeout)
	p := c.Profile
	cn, u := c.Conn(p), s.users[s.cursor]
	s.results, s.ran, s.showPS, s.offset = nil, true, false, 0
	var cmds []tea.Cmd
	for _, proto := range p.Protocols {
		if slices.ContainsFunc(s.results, func(r verifyResult) bool { return r.proto == proto }) {
			continue
		}
		s.results = append(s.results, verifyResult{proto: proto})
		cmds = append(cmds, func() tea.Msg {
			start := time.Now()
			r := cn.Probe(ctx, u, proto)
			res := verifyResult{proto: proto, took: time.Since(start), ok: r.OK, what: r.Tried}
			if !r.OK {
				res.err, res.fix, res.ps = strings.SplitN(r.Message, "\n", 2)[0], r.Fix, r.PowerShell
			}
			return verifyResultMsg{run: run, res: res}
		})
	}
	s.pending = len(cmds)
	return tea.Batch(cmds...)
}

var verifyNames = map[store.Protocol]string{store.Graph: "Graph", store.EWS: "EWS", store.IMAP: "IMAP", store.POP: "POP", store.SMTP: "SMTP", protoSend: "Send", protoScope: "Scope"}

// The screen: a head (what, and the user), the results, scrollable, and a
// status line.
const (
	verifyHeadLines    = 2
	verifyFootLines    = 2
	verifyResultIndent = 19 // "✓ Graph   120ms    "
	verifyPSIndent     = 4
)

// SetSize has nothing to fit: the results are drawn to the frame's width.
func (s *Step) SetSize(*common.Context) {}
