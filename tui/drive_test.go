package tui

import (
	"context"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
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
		Now:         h.sim.Clock.Now,
		Sleep:       testkit.Sleep(h.sim),
		OpenURL:     func(string) error { return common.ErrNoBrowser },
		Demo:        h.sim.URL,
		NoAltScreen: true,
	}
}

// send delivers a message and runs what follows from it.
func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	_, cmd := h.m.Update(msg)
	h.run(cmd)
}

// run executes a command and feeds its message back, recursively.
func (h *harness) run(cmd tea.Cmd) { runCmd(cmd, h.wait, h.send) }

// runCmd runs a command as the Bubble Tea runtime would and hands its
// messages to deliver: batches and sequences are unfolded, commands that
// block longer than wait (timers, long waits) are dropped, and so are
// ticks that would re-arm forever and quitting.
func runCmd(cmd tea.Cmd, wait time.Duration, deliver func(tea.Msg)) {
	if cmd == nil || isBlink(cmd) {
		return
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(wait):
		return // a ticker or a long wait: not part of this step
	}
	switch msg := msg.(type) {
	case nil, spinner.TickMsg, dashTickMsg, tea.QuitMsg:
	case tea.BatchMsg:
		for _, c := range msg {
			runCmd(c, wait, deliver)
		}
	default:
		// tea.Sequence's message type is unexported: a slice of commands.
		if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
			for i := range v.Len() {
				runCmd(v.Index(i).Interface().(tea.Cmd), wait, deliver)
			}
			return
		}
		deliver(msg)
	}
}

// isBlink tells the text cursor's blink timer: it re-arms forever, every
// half second, and changes nothing a test reads, so it is never run.
func isBlink(cmd tea.Cmd) bool {
	fn := runtime.FuncForPC(reflect.ValueOf(cmd).Pointer())
	return fn != nil && strings.HasPrefix(fn.Name(), "charm.land/bubbles/v2/cursor.")
}

// keys types a sequence: words as text, names in angle brackets as keys,
// e.g. "Acme<enter><right><space>".
func (h *harness) keys(s string) {
	h.t.Helper()
	typeKeys(s, h.send)
}

// typeKeys turns "Acme<enter>" into key presses for send.
func typeKeys(s string, send func(tea.Msg)) {
	for s != "" {
		if strings.HasPrefix(s, "<") {
			end := strings.IndexByte(s, '>')
			send(press(s[1:end]))
			s = s[end+1:]
			continue
		}
		r := []rune(s)[0]
		send(tea.KeyPressMsg{Code: r, Text: string(r)})
		s = s[len(string(r)):]
	}
}

// paste delivers text as a bracketed paste.
func (h *harness) paste(s string) { h.t.Helper(); h.send(tea.PasteMsg{Content: s}) }

// named are the keys tests press by name.
var named = map[string]tea.KeyPressMsg{
	"enter":     {Code: tea.KeyEnter},
	"esc":       {Code: tea.KeyEscape},
	"tab":       {Code: tea.KeyTab},
	"shift+tab": {Code: tea.KeyTab, Mod: tea.ModShift},
	"up":        {Code: tea.KeyUp},
	"down":      {Code: tea.KeyDown},
	"left":      {Code: tea.KeyLeft},
	"right":     {Code: tea.KeyRight},
	"space":     {Code: tea.KeySpace, Text: " "},
	"pgup":      {Code: tea.KeyPgUp},
	"pgdown":    {Code: tea.KeyPgDown},
	"home":      {Code: tea.KeyHome},
	"end":       {Code: tea.KeyEnd},
	"backspace": {Code: tea.KeyBackspace},
	"ctrl+c":    {Code: 'c', Mod: tea.ModCtrl},
	"f1":        {Code: tea.KeyF1},
}

func press(name string) tea.KeyPressMsg {
	k, ok := named[name]
	if !ok {
		panic("press: unknown key " + name)
	}
	return k
}

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
