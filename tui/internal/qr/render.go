// Package qr draws a QR code in a terminal, so a phone can scan the
// device-code sign-in address straight off the screen, over SSH too.
// rsc.io/qr encodes the symbol; this package only renders it in half-block
// characters, with a quiet zone and the polarity that suits the terminal's
// background.
package qr

import (
	"strings"

	qrcode "rsc.io/qr"
)

// quiet is the quiet zone drawn around the symbol, in modules. The standard
// asks for 4; 2 is enough on a screen (the zbarimg test proves it on dark
// and light backgrounds) and saves two lines of an 80x24 terminal.
const quiet = 2

// Terminal encodes text at level L, the smallest symbol: nothing damages a
// symbol on a screen, and a small one fits an 80x24 terminal. dark says the
// terminal shows light text on a dark background. The result takes
// ceil((Size+4)/2) lines of Size+4 columns, lines separated by "\n" with no
// trailing newline; it fails only when text is too long for any QR version.
func Terminal(text string, dark bool) (string, error) {
	code, err := qrcode.Encode(text, qrcode.L)
	if err != nil {
		return "", err
	}
	return render(code, quiet, dark), nil
}

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

// render draws c two modules per character cell, with quiet light modules
// on every side.
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
//     many scanners reject. The quiet zone must then be drawn, because the
//     terminal around it is dark.
func render(c *qrcode.Code, quiet int, invert bool) string {
	quiet = max(quiet, 0)

	// painted reports whether the module at (x, y), in symbol coordinates,
	// is drawn as foreground. Rows past the bottom of the quiet zone, which
	// exist when span is odd and the last line has no bottom module, are
	// left as background so they read as "outside the picture". Black is
	// false outside the symbol, so the quiet zone needs no special case.
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
