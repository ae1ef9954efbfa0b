package qr

import "strings"

// Half-block characters. Each terminal cell shows two vertically stacked
// modules: the top module in the upper half, the bottom one in the lower
// half. Because a terminal cell is about twice as tall as it is wide, a
// half cell is roughly square, so the symbol keeps its proportions while
// using half the lines of one-module-per-line output.
const (
	blockFull  = "█" // both modules painted
	blockUpper = "▀" // top module painted
	blockLower = "▄" // bottom module painted
	blockNone  = " " // neither painted
)

// Terminal renders the code as text for a terminal, two modules per
// character cell, with a quiet zone of quiet light modules on every side.
// Lines are separated by "\n" with no trailing newline, so the result can
// be placed in a layout like any other block of text. It takes
// ceil((Size+2·quiet)/2) lines of Size+2·quiet columns: a version-2 code
// with quiet=2 takes 15 lines.
//
// A character cell can only show foreground (the block glyph) or
// background (a space). invert chooses which modules use the foreground:
//
//   - invert=false paints dark modules with blocks. Use it on light
//     terminals (dark text on a light background), where the background
//     supplies the light modules.
//   - invert=true paints light modules, including the quiet zone, with
//     blocks. Use it on dark terminals (light text on a dark background),
//     the common default; otherwise the phone sees a negative image, which
//     many scanners reject.
//
// Scanners need the quiet zone to find the symbol. The standard asks for
// 4 modules; 2 is usually enough on a screen and saves two lines. With
// invert=true the quiet zone must be drawn (the surrounding terminal is
// dark), so quiet should not be 0.
func (c *Code) Terminal(quiet int, invert bool) string {
	quiet = max(quiet, 0)

	// painted reports whether the module at (x, y), in symbol coordinates,
	// is drawn as foreground. Rows past the bottom of the quiet zone, which
	// exist when span is odd and the last line has no bottom module, are
	// left as background so they read as "outside the picture".
	painted := func(x, y int) bool {
		if y >= c.Size+quiet {
			return false
		}
		return c.Black(x, y) != invert
	}

	var b strings.Builder
	for y := -quiet; y < c.Size+quiet; y += 2 {
		if y > -quiet {
			b.WriteByte('\n')
		}
		for x := -quiet; x < c.Size+quiet; x++ {
			top, bottom := painted(x, y), painted(x, y+1)
			switch {
			case top && bottom:
				b.WriteString(blockFull)
			case top:
				b.WriteString(blockUpper)
			case bottom:
				b.WriteString(blockLower)
			default:
				b.WriteString(blockNone)
			}
		}
	}
	return b.String()
}

// ASCII renders the code with "##" for dark modules and "  " for light
// ones, one line per module row, for terminals that cannot show the
// half-block characters (for example NO_COLOR or plain output). Each
// module is two characters wide so it comes out roughly square. It is
// twice as tall as Terminal output: a version-3 code with quiet=2 needs
// 33 lines, so it usually scrolls, and it assumes dark text on a light
// background. Lines are separated by "\n" with no trailing newline.
func (c *Code) ASCII(quiet int) string {
	quiet = max(quiet, 0)
	var b strings.Builder
	for y := -quiet; y < c.Size+quiet; y++ {
		if y > -quiet {
			b.WriteByte('\n')
		}
		for x := -quiet; x < c.Size+quiet; x++ {
			if c.Black(x, y) {
				b.WriteString("##")
			} else {
				b.WriteString("  ")
			}
		}
	}
	return b.String()
}
