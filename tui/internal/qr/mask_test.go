package qr

import "testing"

// TestPenalty checks the penalty rules on two symbols whose scores can be
// worked out by hand.
func TestPenalty(t *testing.T) {
	const n = 21

	// All light: every row and column is one run of 21 (rule 1: 3+16
	// each, 42 lines), every 2×2 block is uniform (rule 2: 20×20 blocks),
	// no finder-like patterns, and 0% dark is nine 5% steps from 50%.
	s := &symbol{size: n, dark: make([]bool, n*n)}
	if got, want := s.penalty(), 42*19+400*3+9*10; got != want {
		t.Errorf("all light: penalty %d, want %d", got, want)
	}

	// Checkerboard: no runs, no uniform blocks, no finder-like patterns,
	// and 221 of 441 dark is 50%.
	for i := range s.dark {
		s.dark[i] = (i%n+i/n)%2 == 0
	}
	if got := s.penalty(); got != 0 {
		t.Errorf("checkerboard: penalty %d, want 0", got)
	}
}

// TestApplyMaskInvolution checks that masking twice restores the symbol,
// which chooseMask relies on, and that function patterns are untouched.
func TestApplyMaskInvolution(t *testing.T) {
	s := newSymbol(7)
	s.drawFunctionPatterns(M)
	before := append([]bool(nil), s.dark...)
	for mask := range maskFuncs {
		s.applyMask(mask)
		for i, f := range s.fixed {
			if f && s.dark[i] != before[i] {
				t.Fatalf("mask %d changed function module %d", mask, i)
			}
		}
		s.applyMask(mask)
		for i := range before {
			if s.dark[i] != before[i] {
				t.Fatalf("mask %d applied twice changed module %d", mask, i)
			}
		}
	}
}
