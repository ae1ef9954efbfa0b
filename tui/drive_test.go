package tui

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
	"github.com/modauth/modauth/tui/dashboard"
	"github.com/modauth/modauth/tui/internal/drive"
)

// harness drives a Model the way the Bubble Tea runtime would: it feeds
// messages to Update and runs the commands that come back, feeding their
// messages in turn. Commands that block longer than wait (spinner ticks,
// timers) are dropped, so a test never sleeps on them.
type harness struct {
	t    *testing.T
	m    *Model
	sim  *m365sim.Sim
	db   *store.DB
	wait time.Duration
	// logger, when set, is the interface's log.
	logger *slog.Logger
	// record keeps every message delivered and the frame after it.
	record bool
	msgs   []tea.Msg
	frames []string
}

// newHarness starts a simulator and a store and opens the interface on
// them at 80x24, as `modauth demo` does.
func newHarness(t *testing.T) *harness {
	t.Helper()
	sim := m365sim.Start(t, m365sim.Options{})
	h := &harness{t: t, sim: sim, db: testkit.Store(t, sim), wait: 3 * time.Second}
	h.open()
	return h
}

// open (re)starts the interface on the same store, as a restart would.
func (h *harness) open() {
	h.t.Helper()
	m, err := New(context.Background(), h.options())
	if err != nil {
		h.t.Fatal(err)
	}
	h.m = m
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.run(m.Init())
}

func (h *harness) options() common.Options {
	return common.Options{
		DB:          h.db,
		Hosts:       testkit.Hosts(h.sim),
		HTTPClient:  h.sim.HTTPClient(),
		MailTLS:     testkit.Deps(h.db, h.sim).MailTLS, // the simulator's IMAP, POP and SMTP
		Now:         h.sim.Clock.Now,
		Sleep:       testkit.Sleep(h.sim),
		OpenURL:     func(string) error { return common.ErrNoBrowser },
		Demo:        h.sim.URL,
		NoAltScreen: true,
		Logger:      h.logger,
	}
}

// send delivers a message and runs what follows from it.
func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	_, cmd := h.m.Update(msg)
	if h.record {
		h.msgs, h.frames = append(h.msgs, msg), append(h.frames, h.screen())
	}
	h.run(cmd)
}

// run executes a command and feeds its message back, recursively;
// the dashboard's once-a-second tick is dropped, as it re-arms forever.
func (h *harness) run(cmd tea.Cmd) { runCmd(cmd, h.wait, h.send) }

// runCmd runs a command as the Bubble Tea runtime would (see drive.Run).
func runCmd(cmd tea.Cmd, wait time.Duration, deliver func(tea.Msg)) {
	drive.Run(cmd, wait, func(msg tea.Msg) bool { _, tick := msg.(dashboard.TickMsg); return tick }, deliver)
}

// keys types a sequence: words as text, names in angle brackets as keys,
// e.g. "Acme<enter><right><space>".
func (h *harness) keys(s string) {
	h.t.Helper()
	drive.Type(s, h.send)
}

// paste delivers text as a bracketed paste.
func (h *harness) paste(s string) { h.t.Helper(); h.send(tea.PasteMsg{Content: s}) }

func press(name string) tea.KeyPressMsg { return drive.Press(name) }

// screen is the frame as a person sees it, without colours.
func (h *harness) screen() string { return ansi.Strip(h.m.View().Content) }

// sees fails unless every text is on the screen.
func (h *harness) sees(texts ...string) {
	h.t.Helper()
	s := h.screen()
	for _, text := range texts {
		if !strings.Contains(s, text) {
			h.t.Fatalf("the screen lacks %q:\n%s", text, s)
		}
	}
}

// fits fails when the frame is larger than 80x24.
func (h *harness) fits() {
	h.t.Helper()
	lines := strings.Split(h.screen(), "\n")
	if len(lines) > 24 {
		h.t.Errorf("%d lines", len(lines))
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > 80 {
			h.t.Errorf("line %d is %d wide: %q", i, w, l)
		}
	}
}

func (h *harness) step() string { return h.m.wiz.current().ID() }
