package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/modauth/modauth/tui/common"
)

// helpSep is what the help bar puts between two bindings.
const helpSep = " • "

var sepWidth = ansi.StringWidth(helpSep)

// keysMore opens the full help; the bar names it only when some of the
// screen's bindings had no room.
var keysMore = key.NewBinding(key.WithKeys("f1"), key.WithHelp("f1", "more keys"))

// keysCloseHelp is the bar while the full help is open.
var keysCloseHelp = key.NewBinding(key.WithKeys("f1"), key.WithHelp("f1", "close help"))

func helpWidth(b key.Binding) int { return ansi.StringWidth(b.Help().Key + " " + b.Help().Desc) }

// fitBar chooses the bindings of a one-line help bar of the given width:
// the screen's own in order of use, as many as fit in front of the tail
// (esc, quit), which always shows. When some do not fit, "f1 more keys"
// joins the tail: the full help lists them all.
func fitBar(width int, own, tail []key.Binding) common.KeyMap {
	visible := func(bs []key.Binding) []key.Binding {
		var out []key.Binding
		for _, b := range bs {
			if b.Enabled() && b.Help().Key != "" {
				out = append(out, b)
			}
		}
		return out
	}
	own, tail = visible(own), visible(tail)
	total := func(bs []key.Binding) int {
		w := 0
		for i, b := range bs {
			if i > 0 {
				w += sepWidth
			}
			w += helpWidth(b)
		}
		return w
	}
	if total(append(append([]key.Binding{}, own...), tail...)) <= width {
		return append(append(common.KeyMap{}, own...), tail...)
	}
	tail = append([]key.Binding{keysMore}, tail...)
	room := width - total(tail)
	var out common.KeyMap
	used := 0
	for _, b := range own {
		w := helpWidth(b) + sepWidth
		if used+w > room {
			continue // a shorter one further on may still fit
		}
		out = append(out, b)
		used += w
	}
	return append(out, tail...)
}

// fullHelp lays out every binding of a screen in columns of at most rows
// lines, side by side while they fit the width and in bands below
// otherwise, for the body while F1 is held open.
func fullHelp(h help.Model, groups [][]key.Binding, width, rows int) string {
	const gap = 4
	rows = max(rows, 1)
	var cols [][]key.Binding
	for _, g := range groups {
		var bs []key.Binding
		for _, b := range g {
			if b.Enabled() && b.Help().Key != "" {
				bs = append(bs, b)
			}
		}
		for len(bs) > rows {
			cols, bs = append(cols, bs[:rows]), bs[rows:]
		}
		if len(bs) > 0 {
			cols = append(cols, bs)
		}
	}
	var bands, band []string
	used := 0
	flush := func() {
		if len(band) > 0 {
			bands = append(bands, lipgloss.JoinHorizontal(lipgloss.Top, band...))
		}
		band, used = nil, 0
	}
	for _, col := range cols {
		view := h.FullHelpView([][]key.Binding{col})
		w := lipgloss.Width(view)
		if len(band) > 0 && used+gap+w > width {
			flush()
		}
		if len(band) > 0 {
			band, used = append(band, strings.Repeat(" ", gap)), used+gap
		}
		band, used = append(band, view), used+w
	}
	flush()
	return strings.Join(bands, "\n\n")
}
