package consent

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// TestConsentFitBreaksByCells: a word too wide for the frame is broken by
// cells, never inside a character, so a long address with umlauts or CJK
// still reads whole when the lines are put together.
func TestConsentFitBreaksByCells(t *testing.T) {
	for _, word := range []string{
		"https://contoso.com/x" + strings.Repeat("ü", 60),
		"https://例え.jp/a" + strings.Repeat("東京", 30),
	} {
		text := "Open " + word
		got := consentFit(text, 30)
		for _, l := range strings.Split(got, "\n") {
			if !utf8.ValidString(l) || ansi.StringWidth(l) > 30 {
				t.Errorf("line %q: valid %v, %d cells wide", l, utf8.ValidString(l), ansi.StringWidth(l))
			}
		}
		if joined := strings.Replace(strings.ReplaceAll(got, "\n", ""), "Open", "Open ", 1); joined != text {
			t.Errorf("the lines read %q, want %q", joined, text)
		}
	}
}
