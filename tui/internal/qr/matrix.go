package qr

// symbol is a QR symbol under construction.
type symbol struct {
	size    int
	version int
	dark    []bool // dark[y*size+x]: module colour
	fixed   []bool // fixed[y*size+x]: part of a function pattern, so it holds no data and is never masked
}

func newSymbol(version int) *symbol {
	size := 17 + 4*version
	return &symbol{
		size:    size,
		version: version,
		dark:    make([]bool, size*size),
		fixed:   make([]bool, size*size),
	}
}

func (s *symbol) get(x, y int) bool {
	return s.dark[y*s.size+x]
}

// setFixed colours a function-pattern module and reserves it, so data
// placement and masking skip it.
func (s *symbol) setFixed(x, y int, dark bool) {
	s.dark[y*s.size+x] = dark
	s.fixed[y*s.size+x] = true
}

// drawFunctionPatterns draws everything that is not data: finder patterns
// with their separators, timing patterns, alignment patterns, version
// information, and format information for mask 0 as a placeholder. The
// placeholder matters because it reserves the format area before data is
// placed; the real format bits are drawn once the mask is chosen.
func (s *symbol) drawFunctionPatterns(level Level) {
	// Timing patterns first: the finders drawn next overwrite their ends.
	for i := range s.size {
		s.setFixed(6, i, i%2 == 0)
		s.setFixed(i, 6, i%2 == 0)
	}

	s.drawFinder(3, 3)
	s.drawFinder(s.size-4, 3)
	s.drawFinder(3, s.size-4)

	centers := alignmentCenters[s.version]
	last := len(centers) - 1
	for i, cy := range centers {
		for j, cx := range centers {
			// Skip the three corners that coincide with finder patterns.
			if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) {
				continue
			}
			s.drawAlignment(cx, cy)
		}
	}

	s.drawFormat(level, 0)
	s.drawVersion()
}

// drawFinder draws a 7×7 finder pattern centred on (cx, cy) plus its
// one-module light separator. Colour depends only on the Chebyshev
// distance from the centre: the 3×3 core (distance ≤1) and the ring at
// distance 3 are dark; distance 2 and the separator at 4 are light.
// Parts of the separator that fall outside the symbol are clipped.
func (s *symbol) drawFinder(cx, cy int) {
	for dy := -4; dy <= 4; dy++ {
		for dx := -4; dx <= 4; dx++ {
			x, y := cx+dx, cy+dy
			if x < 0 || y < 0 || x >= s.size || y >= s.size {
				continue
			}
			d := max(abs(dx), abs(dy))
			s.setFixed(x, y, d != 2 && d != 4)
		}
	}
}

// drawAlignment draws a 5×5 alignment pattern centred on (cx, cy): a dark
// centre, a light ring at distance 1 and a dark ring at distance 2.
func (s *symbol) drawAlignment(cx, cy int) {
	for dy := -2; dy <= 2; dy++ {
		for dx := -2; dx <= 2; dx++ {
			s.setFixed(cx+dx, cy+dy, max(abs(dx), abs(dy)) != 1)
		}
	}
}

// formatLevelBits maps a Level to its 2-bit code in the format
// information. The codes are not in L, M, Q, H order.
var formatLevelBits = [4]uint{L: 0b01, M: 0b00, Q: 0b11, H: 0b10}

// formatBits returns the 15-bit format information for level and mask:
// five data bits (level and mask), ten BCH(15,5) check bits with generator
// 0x537, all XORed with 0x5412 so the result is never all zeros.
func formatBits(level Level, mask int) uint {
	data := formatLevelBits[level]<<3 | uint(mask)
	return (data<<10 | bchRemainder(data<<10, 0x537)) ^ 0x5412
}

// versionBits returns the 18-bit version information for versions 7 and
// up: the 6-bit version followed by twelve BCH(18,6) check bits with
// generator 0x1F25. Unlike format information it is not masked.
func versionBits(version int) uint {
	data := uint(version)
	return data<<12 | bchRemainder(data<<12, 0x1F25)
}

// bchRemainder returns v modulo the binary polynomial gen (carry-less
// long division), which is how both BCH codes compute their check bits.
func bchRemainder(v, gen uint) uint {
	genLen := bitLen(gen)
	for bitLen(v) >= genLen {
		v ^= gen << (bitLen(v) - genLen)
	}
	return v
}

func bitLen(v uint) int {
	n := 0
	for ; v != 0; v >>= 1 {
		n++
	}
	return n
}

// drawFormat draws both copies of the format information, plus the dark
// module that sits next to the lower-left copy. Bit 14 is the most
// significant. The first copy wraps around the top-left finder (skipping
// the timing pattern at row/column 6); the second is split between the
// bottom-left and top-right finders.
func (s *symbol) drawFormat(level Level, mask int) {
	bits := formatBits(level, mask)
	bit := func(i int) bool { return bits>>i&1 == 1 }

	// Copy 1: bits 0–7 down column 8, bits 8–14 leftwards along row 8.
	for i := 0; i <= 5; i++ {
		s.setFixed(8, i, bit(i))
	}
	s.setFixed(8, 7, bit(6))
	s.setFixed(8, 8, bit(7))
	s.setFixed(7, 8, bit(8))
	for i := 9; i < 15; i++ {
		s.setFixed(14-i, 8, bit(i))
	}

	// Copy 2: bits 0–7 leftwards from the right edge along row 8,
	// bits 8–14 down column 8 ending at the bottom edge.
	for i := 0; i < 8; i++ {
		s.setFixed(s.size-1-i, 8, bit(i))
	}
	for i := 8; i < 15; i++ {
		s.setFixed(8, s.size-15+i, bit(i))
	}

	// The dark module at (8, 4V+9) is always dark and belongs to no
	// pattern; it is drawn here because it abuts the second copy.
	s.setFixed(8, s.size-8, true)
}

// drawVersion draws both copies of the version information, for versions
// 7 and up (smaller versions are identified by their size alone). Each
// copy is a 6×3 block: one above the bottom-left finder and its transpose
// left of the top-right finder. Bit i goes to row i/3 of the 6×3 block
// and column i%3 of the 3-wide strip.
func (s *symbol) drawVersion() {
	if s.version < 7 {
		return
	}
	bits := versionBits(s.version)
	for i := range 18 {
		dark := bits>>i&1 == 1
		a, b := s.size-11+i%3, i/3
		s.setFixed(a, b, dark) // top-right block
		s.setFixed(b, a, dark) // bottom-left block
	}
}

// placeCodewords writes the codewords' bits, most significant first, into
// the non-function modules. The path runs in two-module-wide columns from
// the right edge to the left, alternately upwards and downwards, taking
// the right module of each pair before the left. Column 6 holds the
// vertical timing pattern and is skipped entirely, which shifts every
// column pair left of it by one. Modules left over after the last
// codeword (the "remainder bits") stay light.
func (s *symbol) placeCodewords(codewords []byte) {
	i := 0 // index of the next bit to place
	upward := true
	for right := s.size - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		for vert := range s.size {
			y := vert
			if upward {
				y = s.size - 1 - vert
			}
			for x := right; x >= right-1; x-- {
				if s.fixed[y*s.size+x] || i >= 8*len(codewords) {
					continue
				}
				s.dark[y*s.size+x] = codewords[i/8]>>(7-i%8)&1 == 1
				i++
			}
		}
		upward = !upward
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
