package qr

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTerminal decodes the half-block output back into modules and checks
// it matches the symbol, quiet zone included, in both polarities, for odd
// and even numbers of module rows.
func TestTerminal(t *testing.T) {
	c, err := Encode("https://microsoft.com/devicelogin", M)
	if err != nil {
		t.Fatal(err)
	}
	for _, quiet := range []int{0, 1, 2, 4} {
		for _, invert := range []bool{false, true} {
			out := c.Terminal(quiet, invert)
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
					var top, bottom bool
					switch r {
					case '█':
						top, bottom = true, true
					case '▀':
						top = true
					case '▄':
						bottom = true
					case ' ':
					default:
						t.Fatalf("unexpected rune %q", r)
					}
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

func TestASCII(t *testing.T) {
	c, err := Encode("hello", L)
	if err != nil {
		t.Fatal(err)
	}
	const quiet = 2
	lines := strings.Split(c.ASCII(quiet), "\n")
	if len(lines) != c.Size+2*quiet {
		t.Fatalf("%d lines, want %d", len(lines), c.Size+2*quiet)
	}
	for y, line := range lines {
		if len(line) != 2*(c.Size+2*quiet) {
			t.Fatalf("line %d: %d bytes, want %d", y, len(line), 2*(c.Size+2*quiet))
		}
		for x := range c.Size + 2*quiet {
			want := "  "
			if c.Black(x-quiet, y-quiet) {
				want = "##"
			}
			if got := line[2*x : 2*x+2]; got != want {
				t.Fatalf("module (%d,%d) = %q, want %q", x-quiet, y-quiet, got, want)
			}
		}
	}
}

// TestTerminalFits checks the use case: the device-code URL fits an 80x24
// terminal with room to spare for instructions.
func TestTerminalFits(t *testing.T) {
	for _, level := range []Level{L, M} {
		c, err := Encode("https://microsoft.com/devicelogin", level)
		if err != nil {
			t.Fatal(err)
		}
		out := c.Terminal(2, true)
		lines := strings.Count(out, "\n") + 1
		width := utf8.RuneCountInString(strings.SplitN(out, "\n", 2)[0])
		t.Logf("level %v: version %d, %d lines × %d columns (quiet 2)", level, c.version(), lines, width)
		if lines > 20 || width > 80 {
			t.Errorf("level %v: %d lines × %d columns does not leave room in 80x24", level, lines, width)
		}
	}
}
