package qr

import (
	"bytes"
	"testing"
)

// TestRSECCHelloWorld checks the error-correction codewords for the
// version 1-M "HELLO WORLD" example worked through in ISO/IEC 18004
// Annex I and on thonky.com. The data codewords are alphanumeric mode,
// but Reed–Solomon does not care what the bytes mean.
func TestRSECCHelloWorld(t *testing.T) {
	data := []byte{32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17}
	want := []byte{196, 35, 39, 119, 235, 215, 231, 226, 93, 23}
	if got := rsECC(data, 10); !bytes.Equal(got, want) {
		t.Errorf("rsECC = %v, want %v", got, want)
	}
}

// TestRSGenerator checks generator polynomials against the published
// table, given as exponents of α for each coefficient.
func TestRSGenerator(t *testing.T) {
	tests := map[int][]byte{
		7:  {0, 87, 229, 146, 149, 238, 102, 21},
		10: {0, 251, 67, 46, 61, 118, 70, 64, 94, 32, 45},
	}
	for degree, wantExp := range tests {
		g := rsGenerator(degree)
		if len(g) != degree+1 {
			t.Fatalf("degree %d: %d coefficients, want %d", degree, len(g), degree+1)
		}
		for i, c := range g {
			if c == 0 || gfLog[c] != wantExp[i] {
				t.Errorf("degree %d coefficient %d = α^%d (%d), want α^%d", degree, i, gfLog[c], c, wantExp[i])
			}
		}
	}
}

// TestGF checks the field tables: α^8 reduces by 0x11D to 0x1D, and
// multiplication agrees with carry-less multiplication modulo 0x11D.
func TestGF(t *testing.T) {
	if gfExp[8] != 0x1D {
		t.Errorf("α^8 = %#x, want 0x1d", gfExp[8])
	}
	slowMul := func(a, b byte) byte {
		var p uint
		for i := 0; i < 8; i++ {
			if b>>i&1 == 1 {
				p ^= uint(a) << i
			}
		}
		return byte(bchRemainder(p, gfPoly))
	}
	for a := 0; a < 256; a++ {
		for b := 0; b < 256; b++ {
			if got, want := gfMul(byte(a), byte(b)), slowMul(byte(a), byte(b)); got != want {
				t.Fatalf("gfMul(%d, %d) = %d, want %d", a, b, got, want)
			}
		}
	}
}
