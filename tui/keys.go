package tui

import "charm.land/bubbles/v2/key"

// keys are the bindings every screen shares. Screens add their own; the
// help bar is built from the same bindings, so the two never drift apart.
var keys = struct {
	Quit, Back, Next, Up, Down, Left, Right, Toggle, Help key.Binding
}{
	Quit:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	Back:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	Next:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next")),
	Up:     key.NewBinding(key.WithKeys("up", "shift+tab"), key.WithHelp("↑", "up")),
	Down:   key.NewBinding(key.WithKeys("down", "tab"), key.WithHelp("↓/tab", "down")),
	Left:   key.NewBinding(key.WithKeys("left"), key.WithHelp("←/→", "change")),
	Right:  key.NewBinding(key.WithKeys("right")),
	Toggle: key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "toggle")),
	Help:   key.NewBinding(key.WithKeys("f1"), key.WithHelp("f1", "more help")),
}

// keyMap is a help.KeyMap made of a screen's bindings.
type keyMap []key.Binding

func (k keyMap) ShortHelp() []key.Binding  { return k }
func (k keyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k} }
