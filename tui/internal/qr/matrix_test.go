package qr

import (
	"fmt"
	"strings"
	"testing"
)

// TestFormatBits checks format information against the published table
// (ISO/IEC 18004 Annex C, thonky.com "Format and Version String Tables").
func TestFormatBits(t *testing.T) {
	tests := []struct {
		level Level
		mask  int
		want  string
	}{
		{L, 0, "111011111000100"},
		{L, 7, "110100101110110"},
		{M, 0, "101010000010010"},
		{M, 5, "100000011001110"},
		{Q, 0, "011010101011111"},
		{Q, 3, "011101000000110"},
		{H, 0, "001011010001001"},
		{H, 6, "000110100001100"},
	}
	for _, tt := range tests {
		if got := fmt.Sprintf("%015b", formatBits(tt.level, tt.mask)); got != tt.want {
			t.Errorf("formatBits(%v, %d) = %s, want %s", tt.level, tt.mask, got, tt.want)
		}
	}
}

// TestVersionBits checks version information against the published table.
func TestVersionBits(t *testing.T) {
	want := map[int]string{
		7:  "000111110010010100",
		8:  "001000010110111100",
		9:  "001001101010011001",
		10: "001010010011010011",
	}
	for v, w := range want {
		if got := fmt.Sprintf("%018b", versionBits(v)); got != w {
			t.Errorf("versionBits(%d) = %s, want %s", v, got, w)
		}
	}
}

// TestBlockTable cross-checks the block table against the number of data
// modules, counted two independent ways: the closed-form count of modules
// not taken by function patterns, and the modules drawFunctionPatterns
// actually leaves free. Both must equal 8×codewords plus the remainder
// bits of that version.
func TestBlockTable(t *testing.T) {
	remainderBits := [maxVersion + 1]int{0, 0, 7, 7, 7, 7, 7, 0, 0, 0, 0}
	for v := 1; v <= maxVersion; v++ {
		// Closed form: all modules, minus finders with separators and
		// format areas (3×64 + 31), timing (2×(size−16)), alignment
		// patterns (25 each, less the overlaps with timing) and version
		// information (2×18 from version 7).
		size := 17 + 4*v
		raw := size*size - 3*64 - 31 - 2*(size-16)
		if v >= 2 {
			n := v/7 + 2 // alignment centres per axis
			raw -= 25*(n*n-3) - 10*(n-2)
		}
		if v >= 7 {
			raw -= 36
		}

		s := newSymbol(v)
		s.drawFunctionPatterns(L)
		free := 0
		for _, f := range s.fixed {
			if !f {
				free++
			}
		}
		if free != raw {
			t.Errorf("version %d: %d free modules, closed form says %d", v, free, raw)
		}

		for level := L; level <= H; level++ {
			b := blockTable[v][level]
			if got := 8*b.totalCodewords() + remainderBits[v]; got != raw {
				t.Errorf("version %d-%v: table gives %d bits, symbol has %d", v, level, got, raw)
			}
			if b.blocks2 > 0 && b.data2 != b.data1+1 {
				t.Errorf("version %d-%v: group 2 blocks hold %d codewords, want %d", v, level, b.data2, b.data1+1)
			}
		}
	}
}

// TestCapacity checks version selection at the published byte-mode
// capacities (ISO/IEC 18004 Table 7): the capacity of each version fits in
// it, and one more byte moves to the next version or fails at version 10.
func TestCapacity(t *testing.T) {
	capacity := [4][maxVersion]int{
		L: {17, 32, 53, 78, 106, 134, 154, 192, 230, 271},
		M: {14, 26, 42, 62, 84, 106, 122, 152, 180, 213},
		Q: {11, 20, 32, 46, 60, 74, 86, 108, 130, 151},
		H: {7, 14, 24, 34, 44, 58, 64, 84, 98, 119},
	}
	for level := L; level <= H; level++ {
		for i, n := range capacity[level] {
			v := i + 1
			if got := byteCapacity(v, level); got != n {
				t.Errorf("byteCapacity(%d, %v) = %d, want %d", v, level, got, n)
			}
			c, err := Encode(strings.Repeat("a", n), level)
			if err != nil {
				t.Fatalf("%d bytes at %v: %v", n, level, err)
			}
			if c.version() != v {
				t.Errorf("%d bytes at %v: version %d, want %d", n, level, c.version(), v)
			}
			c, err = Encode(strings.Repeat("a", n+1), level)
			if v == maxVersion {
				if err == nil {
					t.Errorf("%d bytes at %v: got version %d, want ErrTooLong", n+1, level, c.version())
				}
				continue
			}
			if err != nil {
				t.Fatalf("%d bytes at %v: %v", n+1, level, err)
			}
			if c.version() != v+1 {
				t.Errorf("%d bytes at %v: version %d, want %d", n+1, level, c.version(), v+1)
			}
		}
	}
}

// TestStructure checks the fixed parts of encoded symbols: size, finder
// patterns with separators, timing patterns, the dark module, both
// copies of the format information and, from version 7, both copies of
// the version information.
func TestStructure(t *testing.T) {
	for level := L; level <= H; level++ {
		for v := 1; v <= maxVersion; v++ {
			data := strings.Repeat("x", byteCapacity(v, level))
			c, err := Encode(data, level)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%d-%v", v, level)
			if c.Size != 17+4*v {
				t.Errorf("%s: size %d, want %d", name, c.Size, 17+4*v)
			}
			n := c.Size

			// Finder patterns (7×7 rings) plus the light separator
			// around them, at the three corners.
			for _, corner := range [][2]int{{0, 0}, {n - 7, 0}, {0, n - 7}} {
				for dy := -1; dy <= 7; dy++ {
					for dx := -1; dx <= 7; dx++ {
						x, y := corner[0]+dx, corner[1]+dy
						if x < 0 || y < 0 || x >= n || y >= n {
							continue
						}
						d := max(abs(dx-3), abs(dy-3))
						if want := d <= 1 || d == 3; c.Black(x, y) != want {
							t.Errorf("%s: finder at %v: module (%d,%d) = %v, want %v", name, corner, x, y, c.Black(x, y), want)
						}
					}
				}
			}

			// Timing patterns between the separators.
			for i := 8; i < n-8; i++ {
				if want := i%2 == 0; c.Black(i, 6) != want || c.Black(6, i) != want {
					t.Errorf("%s: timing module %d not %v", name, i, want)
				}
			}

			if !c.Black(8, 4*v+9) {
				t.Errorf("%s: dark module (8,%d) is light", name, 4*v+9)
			}

			// Format information: both copies must agree and decode to
			// this level with some mask.
			var f1, f2 uint
			copy1 := [][2]int{{8, 0}, {8, 1}, {8, 2}, {8, 3}, {8, 4}, {8, 5}, {8, 7}, {8, 8}, {7, 8}, {5, 8}, {4, 8}, {3, 8}, {2, 8}, {1, 8}, {0, 8}}
			for i, p := range copy1 {
				if c.Black(p[0], p[1]) {
					f1 |= 1 << i
				}
				var x, y int
				if i < 8 {
					x, y = n-1-i, 8
				} else {
					x, y = 8, n-15+i
				}
				if c.Black(x, y) {
					f2 |= 1 << i
				}
			}
			if f1 != f2 {
				t.Errorf("%s: format copies differ: %015b vs %015b", name, f1, f2)
			}
			found := false
			for mask := range 8 {
				found = found || f1 == formatBits(level, mask)
			}
			if !found {
				t.Errorf("%s: format %015b is not a valid %v format", name, f1, level)
			}

			// Version information, both copies.
			var v1, v2 uint
			for i := range 18 {
				a, b := n-11+i%3, i/3
				if c.Black(a, b) {
					v1 |= 1 << i
				}
				if c.Black(b, a) {
					v2 |= 1 << i
				}
			}
			if v >= 7 && (v1 != versionBits(v) || v2 != versionBits(v)) {
				t.Errorf("%s: version info %018b / %018b, want %018b", name, v1, v2, versionBits(v))
			}
		}
	}
}
