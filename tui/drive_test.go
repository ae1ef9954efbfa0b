package tui

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
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
	db, err := store.Open(filepath.Join(t.TempDir(), "modauth.db"), store.Options{Now: sim.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := &harness{t: t, sim: sim, db: db, wait: 3 * time.Second}
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

func (h *harness) options() Options {
	return Options{
		DB:         h.db,
		Hosts:      store.Hosts{Authority: h.sim.URL, Graph: h.sim.URL, GraphResource: "https://graph.microsoft.com", EWS: h.sim.URL + "/EWS/Exchange.asmx"},
		HTTPClient: h.sim.HTTPClient(),
		Now:        h.sim.Clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			h.sim.Clock.Advance(d)
			return ctx.Err()
		},
		OpenURL:     func(string) error { return errNoBrowser },
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
func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(h.wait):
		return // a ticker or a long wait: not part of this step
	}
	switch msg := msg.(type) {
	case nil, spinner.TickMsg, dashTickMsg: // these would tick forever
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
	default:
		// tea.Sequence's message type is unexported: a slice of commands.
		if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
			for i := range v.Len() {
				h.run(v.Index(i).Interface().(tea.Cmd))
			}
			return
		}
		if _, quit := msg.(tea.QuitMsg); quit {
			return
		}
		h.send(msg)
	}
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

func press(name string) tea.KeyPressMsg {
	switch name {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "f1":
		return tea.KeyPressMsg{Code: tea.KeyF1}
	}
	panic("press: unknown key " + name)
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
