// Package qr is a small, dependency-free QR code encoder.
//
// It exists so the TUI can show a device-code sign-in URL as a QR code that
// a phone can scan straight off the terminal, including over SSH, without
// pulling a third-party module into the build. It therefore implements only
// what that needs: byte mode, versions 1–10 (about 270 bytes at level L,
// 119 at level H) and all four error-correction levels, following
// ISO/IEC 18004.
//
// The encoding pipeline is split across files in the order the standard
// describes it: codewords.go builds the data codewords, reedsolomon.go adds
// error correction, tables.go holds the per-version block layout,
// matrix.go places everything in the symbol, mask.go picks the mask, and
// render.go turns the result into terminal text.
package qr

import (
	"errors"
	"fmt"
)

// Level is the error-correction level. Higher levels survive more damage
// (roughly 7%, 15%, 25% and 30% of codewords) at the cost of capacity,
// which means a bigger symbol for the same data.
type Level int

// Error-correction levels, from least to most redundant. For a terminal
// display nothing gets physically damaged, so L or M keeps the symbol
// small enough to fit an 80x24 screen.
const (
	L Level = iota
	M
	Q
	H
)

// String returns the level's letter, as used in the standard.
func (l Level) String() string {
	switch l {
	case L:
		return "L"
	case M:
		return "M"
	case Q:
		return "Q"
	case H:
		return "H"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// maxVersion is the largest version Encode will produce. Version 10 already
// holds URLs far longer than any device-code verification URI, and stopping
// there keeps the block table short and the character count indicator at
// the sizes used by versions 1–26.
const maxVersion = 10

// ErrTooLong is returned by Encode when the data does not fit in a
// version-10 symbol at the requested level.
var ErrTooLong = errors.New("qr: data too long")

// Code is an encoded symbol: a Size×Size grid of modules.
type Code struct {
	// Size is the number of modules along each side, 17+4×version,
	// not counting the quiet zone.
	Size int

	// dark holds the modules row by row: dark[y*Size+x] is true for a
	// dark module.
	dark []bool
}

// Black reports whether the module at column x, row y is dark. (0, 0) is
// the top-left corner. Coordinates outside the symbol report false, because
// everything around a symbol is quiet zone, which is light; this lets
// renderers draw the quiet zone without special cases.
func (c *Code) Black(x, y int) bool {
	if x < 0 || y < 0 || x >= c.Size || y >= c.Size {
		return false
	}
	return c.dark[y*c.Size+x]
}

// version returns the symbol's version, derived from its size.
func (c *Code) version() int {
	return (c.Size - 17) / 4
}

// Encode encodes data in byte mode at the smallest version (1–10) that
// holds it at the given level. It returns ErrTooLong (wrapped) if even
// version 10 is too small. The bytes are stored as-is; scanners assume
// ISO-8859-1 or UTF-8, so plain ASCII such as a URL is always safe.
func Encode(data string, level Level) (*Code, error) {
	if level < L || level > H {
		return nil, fmt.Errorf("qr: invalid error-correction level %d", int(level))
	}
	version := 0
	for v := 1; v <= maxVersion; v++ {
		if dataBits(v, len(data)) <= 8*blockTable[v][level].dataCodewords() {
			version = v
			break
		}
	}
	if version == 0 {
		return nil, fmt.Errorf("%w: %d bytes exceed the %d-byte capacity of version %d-%v",
			ErrTooLong, len(data), byteCapacity(maxVersion, level), maxVersion, level)
	}

	codewords := interleave(dataCodewords([]byte(data), version, level), blockTable[version][level])

	s := newSymbol(version)
	s.drawFunctionPatterns(level)
	s.placeCodewords(codewords)
	mask := s.chooseMask(level)
	s.applyMask(mask)
	s.drawFormat(level, mask)

	return &Code{Size: s.size, dark: s.dark}, nil
}
