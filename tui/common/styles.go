package common

import (
	"os"

	"charm.land/lipgloss/v2"
)

// Styles are every look the screens use, made once from the theme. With
// NO_COLOR set they carry no colour at all, only bold and faint.
type Styles struct {
	Title, Step, Faint, Bold, Error, Warn, OK, Key, Code, Selected, Box lipgloss.Style
}

// NewStyles builds the styles for a dark or light terminal.
func NewStyles(dark bool) Styles {
	if os.Getenv("NO_COLOR") != "" {
		plain := lipgloss.NewStyle()
		return Styles{
			Title: plain.Bold(true), Step: plain, Faint: plain.Faint(true), Bold: plain.Bold(true),
			Error: plain.Bold(true), Warn: plain.Bold(true), OK: plain, Key: plain.Bold(true),
			Code: plain.Bold(true), Selected: plain.Reverse(true), Box: plain.Border(lipgloss.NormalBorder()).Padding(0, 1),
		}
	}
	ld := lipgloss.LightDark(dark)
	accent := ld(lipgloss.Color("#5A56E0"), lipgloss.Color("#8B87FF"))
	faint := ld(lipgloss.Color("#6B6B6B"), lipgloss.Color("#8A8A8A"))
	red := ld(lipgloss.Color("#C0262D"), lipgloss.Color("#FF5F66"))
	amber := ld(lipgloss.Color("#9A6700"), lipgloss.Color("#E3B341"))
	green := ld(lipgloss.Color("#1A7F37"), lipgloss.Color("#3FB950"))
	base := lipgloss.NewStyle()
	return Styles{
		Title:    base.Bold(true).Foreground(accent),
		Step:     base.Foreground(faint),
		Faint:    base.Foreground(faint),
		Bold:     base.Bold(true),
		Error:    base.Bold(true).Foreground(red),
		Warn:     base.Foreground(amber),
		OK:       base.Foreground(green),
		Key:      base.Bold(true).Foreground(accent),
		Code:     base.Bold(true).Foreground(accent),
		Selected: base.Bold(true).Foreground(accent),
		Box:      base.Border(lipgloss.RoundedBorder()).BorderForeground(faint).Padding(0, 1),
	}
}
