package tui

import "strings"

// wrap breaks text into lines of at most width cells, at spaces.
func wrap(text string, width int) string {
	if width < 20 {
		width = 20
	}
	var b strings.Builder
	for _, para := range strings.Split(text, "\n") {
		// Keep the paragraph's indent, on its continuation lines too.
		indent := para[:len(para)-len(strings.TrimLeft(para, " "))]
		b.WriteString(indent)
		n := len(indent)
		for i, w := range strings.Fields(para) {
			if i > 0 && n+1+len([]rune(w)) > width {
				b.WriteString("\n" + indent)
				n = len(indent)
			} else if i > 0 {
				b.WriteString(" ")
				n++
			}
			b.WriteString(w)
			n += len([]rune(w))
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
