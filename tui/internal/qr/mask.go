package qr

// maskFuncs are the eight data-mask patterns from ISO/IEC 18004 Table 10:
// a data module at column x, row y is inverted when its pattern returns
// true. Masking breaks up regular structures in the data that could
// confuse a scanner, such as large flat areas or finder look-alikes.
var maskFuncs = [8]func(x, y int) bool{
	func(x, y int) bool { return (x+y)%2 == 0 },
	func(x, y int) bool { return y%2 == 0 },
	func(x, y int) bool { return x%3 == 0 },
	func(x, y int) bool { return (x+y)%3 == 0 },
	func(x, y int) bool { return (x/3+y/2)%2 == 0 },
	func(x, y int) bool { return x*y%2+x*y%3 == 0 },
	func(x, y int) bool { return (x*y%2+x*y%3)%2 == 0 },
	func(x, y int) bool { return ((x+y)%2+x*y%3)%2 == 0 },
}

// applyMask inverts the data modules selected by mask. Applying the same
// mask twice restores the original, which chooseMask relies on.
func (s *symbol) applyMask(mask int) {
	f := maskFuncs[mask]
	for y := range s.size {
		for x := range s.size {
			if !s.fixed[y*s.size+x] && f(x, y) {
				s.dark[y*s.size+x] = !s.dark[y*s.size+x]
			}
		}
	}
}

// chooseMask tries all eight masks and returns the one whose symbol
// scores the lowest penalty. Ties go to the lowest mask number. The symbol
// is left unmasked.
//
// Each candidate is scored with its own format information drawn in, as
// the finished symbol would look; the standard leaves this detail open and
// any choice yields a valid symbol, since the mask only affects how easy
// the code is to scan, never what it decodes to.
func (s *symbol) chooseMask(level Level) int {
	best, bestPenalty := 0, -1
	for mask := range maskFuncs {
		s.applyMask(mask)
		s.drawFormat(level, mask)
		if p := s.penalty(); bestPenalty < 0 || p < bestPenalty {
			best, bestPenalty = mask, p
		}
		s.applyMask(mask)
	}
	return best
}

// Penalty weights N1–N4 from ISO/IEC 18004 section 7.8.3.
const (
	penaltyRun     = 3  // N1: a run of five same-coloured modules, +1 per extra module
	penaltyBlock   = 3  // N2: each 2×2 block of one colour
	penaltyFinder  = 40 // N3: each finder-like 1:1:3:1:1 pattern with four light modules beside it
	penaltyBalance = 10 // N4: each 5% step the dark proportion strays from 50%
)

// finderLike is the 1:1:3:1:1 dark-light ratio of a finder pattern
// followed by four light modules; rule 3 also looks for its reverse.
var finderLike = [11]bool{true, false, true, true, true, false, true, false, false, false, false}

// penalty scores the symbol with the four rules of the standard. A lower
// score means the symbol looks less like function patterns and has more
// even contrast, so scanners read it more reliably.
func (s *symbol) penalty() int {
	n := s.size
	total := 0

	// Rules 1 and 3 look at each row and each column as a line; at(i)
	// reads position i along line k, horizontally or vertically.
	for _, horizontal := range []bool{true, false} {
		for k := range n {
			at := func(i int) bool {
				if horizontal {
					return s.get(i, k)
				}
				return s.get(k, i)
			}

			// Rule 1: runs of five or more modules of one colour.
			run := 1
			for i := 1; i <= n; i++ {
				if i < n && at(i) == at(i-1) {
					run++
					continue
				}
				if run >= 5 {
					total += penaltyRun + run - 5
				}
				run = 1
			}

			// Rule 3: finder-like patterns, in either direction.
			for i := 0; i+len(finderLike) <= n; i++ {
				forward, backward := true, true
				for j, want := range finderLike {
					forward = forward && at(i+j) == want
					backward = backward && at(i+len(finderLike)-1-j) == want
				}
				if forward {
					total += penaltyFinder
				}
				if backward {
					total += penaltyFinder
				}
			}
		}
	}

	// Rule 2: 2×2 blocks of one colour (overlapping blocks all count).
	for y := 0; y < n-1; y++ {
		for x := 0; x < n-1; x++ {
			c := s.get(x, y)
			if c == s.get(x+1, y) && c == s.get(x, y+1) && c == s.get(x+1, y+1) {
				total += penaltyBlock
			}
		}
	}

	// Rule 4: balance of dark and light. Take the dark percentage, find
	// the multiples of five on either side of it, and charge for the
	// one nearer 50%.
	dark := 0
	for _, d := range s.dark {
		if d {
			dark++
		}
	}
	percent := dark * 100 / (n * n)
	lower := percent - percent%5
	steps := min(abs(lower-50), abs(lower+5-50)) / 5
	total += steps * penaltyBalance

	return total
}
