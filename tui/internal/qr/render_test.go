package qr

import (
	"strings"
	"testing"
	"unicode/utf8"

	qrcode "rsc.io/qr"
)

// TestRender decodes the half-block output back into modules and checks
// it matches the symbol, quiet zone included, in both polarities, for odd
// and even numbers of module rows.
func TestRender(t *testing.T) {
	c, err := qrcode.Encode("https://microsoft.com/devicelogin", qrcode.M)
	if err != nil {
		t.Fatal(err)
	}
	for _, quiet := range []int{0, 1, 2, 4} {
		for _, invert := range []bool{false, true} {
			out := render(c, quiet, invert)
			span := c.Size + 2*quiet
			lines := strings.Split(out, "\n")
			if want := (span + 1) / 2; len(lines) != want {
				t.Fatalf("quiet=%d: %d lines, want %d", quiet, len(lines), want)
			}
			for row, line := range lines {
				if n := utf8.RuneCountInString(line); n != span {
					t.Fatalf("quiet=%d line %d: %d cells, want %d", quiet, row, n, span)
				}
				for col, r := range []rune(line) {
					top, bottom := halves(t, r)
					x, y := col-quiet, 2*row-quiet
					if want := c.Black(x, y) != invert; top != want {
						t.Fatalf("quiet=%d invert=%v: module (%d,%d) painted=%v, want %v", quiet, invert, x, y, top, want)
					}
					if y+1 >= c.Size+quiet {
						if bottom {
							t.Fatalf("quiet=%d invert=%v: half row below the quiet zone is painted", quiet, invert)
						}
						continue
					}
					if want := c.Black(x, y+1) != invert; bottom != want {
						t.Fatalf("quiet=%d invert=%v: module (%d,%d) painted=%v, want %v", quiet, invert, x, y+1, bottom, want)
					}
				}
			}
		}
	}
}

// halves reports which halves of a terminal cell a rendered rune paints.
func halves(t *testing.T, r rune) (top, bottom bool) {
	t.Helper()
	switch r {
	case '█':
		return true, true
	case '▀':
		return true, false
	case '▄':
		return false, true
	case ' ':
		return false, false
	}
	t.Fatalf("unexpected rune %q", r)
	return false, false
}

// TestTerminalFits checks the use case: every device-login address fits an
// 80x24 terminal with room to spare for instructions.
func TestTerminalFits(t *testing.T) {
	for _, url := range deviceLoginURLs {
		out, err := Terminal(url, true)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(out, "\n")
		width := utf8.RuneCountInString(lines[0])
		t.Logf("%s: %d lines × %d columns", url, len(lines), width)
		if len(lines) > 20 || width > 80 {
			t.Errorf("%s: %d lines × %d columns does not leave room in 80x24", url, len(lines), width)
		}
	}
}

func TestTerminalTooLong(t *testing.T) {
	if out, err := Terminal(strings.Repeat("z", 3000), true); err == nil {
		t.Errorf("3000 bytes encoded as %d lines, want an error", strings.Count(out, "\n")+1)
	}
}
