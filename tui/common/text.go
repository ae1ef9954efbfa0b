package common

import (
	"fmt"
	"regexp"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// listItem is the start of a numbered or bulleted line: "12. ", "- ".
var listItem = regexp.MustCompile(`^ *([0-9]{1,2}\.|[-*•]) `)

// Wrap breaks text into lines of at most width cells, at spaces.
func Wrap(text string, width int) string {
	if width < 20 {
		width = 20
	}
	var b strings.Builder
	for _, para := range strings.Split(text, "\n") {
		// Keep the paragraph's indent, on its continuation lines too; a
		// list item's go on under its text, not under its number.
		indent := para[:len(para)-len(strings.TrimLeft(para, " "))]
		hang := indent
		if m := listItem.FindString(para); m != "" {
			hang = strings.Repeat(" ", len(m))
		}
		b.WriteString(indent)
		n := len(indent)
		for i, w := range strings.Fields(para) {
			if i > 0 && n+1+ansi.StringWidth(w) > width {
				b.WriteString("\n" + hang)
				n = len(hang)
			} else if i > 0 {
				b.WriteString(" ")
				n++
			}
			b.WriteString(w)
			n += ansi.StringWidth(w)
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// ContMark starts a code line's continuation on screen: a mark that is not
// PowerShell, shell or JSON, so a wrapped comment never reads as a command.
const ContMark = "↳ "

// CodeLines shows a script or document in lines of at most width cells
// without re-flowing it: each line stays a line, and one too long goes on
// below, after contMark. Copies and saved files take the text itself.
func CodeLines(text string, width int) []string {
	width = max(width, 20)
	var out []string
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		for i, part := range breakAtSpaces(l, width-ansi.StringWidth(ContMark)) {
			if i > 0 {
				part = ContMark + part
			}
			out = append(out, part)
		}
	}
	return out
}

// breakAtSpaces cuts a line into pieces of at most width cells at spaces
// only (ansi's word wrap also breaks after a dash, and a dash starts a
// PowerShell parameter), and within a word only when it alone is too long.
func breakAtSpaces(line string, width int) []string {
	if ansi.StringWidth(line) <= width {
		return []string{line}
	}
	var out []string
	cur, fresh := "", true // fresh: cur is a new piece, indent and all
	for _, w := range strings.Split(line, " ") {
		switch {
		case fresh:
			cur, fresh = cur+w, w == ""
			if fresh {
				cur += " " // keep the indent
			}
		case ansi.StringWidth(cur)+1+ansi.StringWidth(w) <= width:
			cur += " " + w
		default:
			out, cur = append(out, cur), w
		}
		for ansi.StringWidth(cur) > width {
			head := ansi.Truncate(cur, width, "")
			out, cur = append(out, head), cur[len(head):]
		}
	}
	return append(out, cur)
}

// PadRight pads s with spaces to n cells.
func PadRight(s string, n int) string {
	return s + strings.Repeat(" ", max(n-ansi.StringWidth(s), 0))
}

// WrapLines wraps plain text to width and styles each line, keeping at
// most n lines.
func WrapLines(style lipgloss.Style, text string, width, n int) []string {
	lines := strings.Split(Wrap(text, width-1), "\n")
	if len(lines) > n {
		lines = lines[:n]
		lines[n-1] = ansi.Truncate(lines[n-1], width-2, "") + "…"
	}
	for i, l := range lines {
		lines[i] = style.Render(l)
	}
	return lines
}

// Count counts: "1 user", "2 users".
func Count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// FirstLine is the first line of an error, for one-line slots.
func FirstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
