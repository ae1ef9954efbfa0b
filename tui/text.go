package tui

import (
	"regexp"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// listItem is the start of a numbered or bulleted line: "12. ", "- ".
var listItem = regexp.MustCompile(`^ *([0-9]{1,2}\.|[-*•]) `)

// wrap breaks text into lines of at most width cells, at spaces.
func wrap(text string, width int) string {
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

// contMark starts a code line's continuation on screen: a mark that is not
// PowerShell, shell or JSON, so a wrapped comment never reads as a command.
const contMark = "↳ "

// codeLines shows a script or document in lines of at most width cells
// without re-flowing it: each line stays a line, and one too long goes on
// below, after contMark. Copies and saved files take the text itself.
func codeLines(text string, width int) []string {
	width = max(width, 20)
	var out []string
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		for i, part := range breakAtSpaces(l, width-ansi.StringWidth(contMark)) {
			if i > 0 {
				part = contMark + part
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

// padRight pads s with spaces to n cells.
func padRight(s string, n int) string {
	return s + strings.Repeat(" ", max(n-ansi.StringWidth(s), 0))
}
