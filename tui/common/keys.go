package common

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Keys are the bindings every screen shares. Screens add their own; the
// help bar is built from the same bindings, so the two never drift apart.
var Keys = struct {
	Quit, Back, Cancel, Next, Up, Down, Left, Right, Toggle, Help key.Binding
}{
	Quit:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	Back:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	Next:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next")),
	Up:     key.NewBinding(key.WithKeys("up", "shift+tab"), key.WithHelp("↑", "up")),
	Down:   key.NewBinding(key.WithKeys("down", "tab"), key.WithHelp("↓/tab", "down")),
	Left:   key.NewBinding(key.WithKeys("left"), key.WithHelp("←/→", "change")),
	Right:  key.NewBinding(key.WithKeys("right")),
	Toggle: key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "toggle")),
	Help:   key.NewBinding(key.WithKeys("f1"), key.WithHelp("f1", "more help")),
}

// KeyMap is a help.KeyMap made of a screen's bindings.
type KeyMap []key.Binding

func (k KeyMap) ShortHelp() []key.Binding  { return k }
func (k KeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k} }

// listKeys move the cursor of a table, the same in every table.
var listKeys = struct{ Up, Down, PageUp, PageDown, Home, End key.Binding }{
	Up:       key.NewBinding(key.WithKeys("up", "k")),
	Down:     key.NewBinding(key.WithKeys("down", "j")),
	PageUp:   key.NewBinding(key.WithKeys("pgup")),
	PageDown: key.NewBinding(key.WithKeys("pgdown")),
	Home:     key.NewBinding(key.WithKeys("home", "g")),
	End:      key.NewBinding(key.WithKeys("end", "G")),
}

// MoveCursor applies a cursor key to a cursor over n rows shown page at a
// time; ok is false when k moves nothing.
func MoveCursor(k tea.KeyPressMsg, cursor, n, page int) (int, bool) {
	page, last := max(page, 1), max(n-1, 0)
	switch {
	case key.Matches(k, listKeys.Up):
		return max(cursor-1, 0), true
	case key.Matches(k, listKeys.Down):
		return min(cursor+1, last), true
	case key.Matches(k, listKeys.PageUp):
		return max(cursor-page, 0), true
	case key.Matches(k, listKeys.PageDown):
		return min(cursor+page, last), true
	case key.Matches(k, listKeys.Home):
		return 0, true
	case key.Matches(k, listKeys.End):
		return last, true
	}
	return cursor, false
}
