// Package drive runs Bubble Tea commands the way the runtime would, for
// the interface's tests: batches and sequences unfolded, timers and
// blinking cursors dropped, and keys typed from a short notation.
package drive

import (
	"reflect"
	"runtime"
	"strings"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
)

// Run runs a command and hands its messages to deliver: batches and
// sequences are unfolded, commands that block longer than wait (timers,
// long waits) are dropped, and so are spinner ticks, quitting and what
// skip names (ticks that would re-arm forever).
func Run(cmd tea.Cmd, wait time.Duration, skip func(tea.Msg) bool, deliver func(tea.Msg)) {
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
	case nil, spinner.TickMsg, tea.QuitMsg:
	case tea.BatchMsg:
		for _, c := range msg {
			Run(c, wait, skip, deliver)
		}
	default:
		if skip != nil && skip(msg) {
			return
		}
		// tea.Sequence's message type is unexported: a slice of commands.
		if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
			for i := range v.Len() {
				Run(v.Index(i).Interface().(tea.Cmd), wait, skip, deliver)
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

// Type turns "Acme<enter>" into key presses for send: words as text,
// names in angle brackets as keys.
func Type(s string, send func(tea.Msg)) {
	for s != "" {
		if strings.HasPrefix(s, "<") {
			end := strings.IndexByte(s, '>')
			send(Press(s[1:end]))
			s = s[end+1:]
			continue
		}
		r := []rune(s)[0]
		send(tea.KeyPressMsg{Code: r, Text: string(r)})
		s = s[len(string(r)):]
	}
}

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
	"ctrl+u":    {Code: 'u', Mod: tea.ModCtrl},
	"f1":        {Code: tea.KeyF1},
}

// Press is the key of the given name; it panics on a name it lacks.
func Press(name string) tea.KeyPressMsg {
	k, ok := named[name]
	if !ok {
		panic("press: unknown key " + name)
	}
	return k
}
