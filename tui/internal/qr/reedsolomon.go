package qr

// QR codes use Reed–Solomon codes over GF(256), the field of bytes where
// addition is XOR and multiplication is polynomial multiplication modulo
// the primitive polynomial x⁸+x⁴+x³+x²+1 (0x11D). The element 2 (written
// α) generates every non-zero element, so multiplication can be done by
// adding discrete logarithms, looked up in the tables below.

// gfPoly is the field's primitive polynomial, including the x⁸ term.
const gfPoly = 0x11D

// gfExp[i] is α^i. It has 510 entries so that gfExp[log a + log b] needs
// no reduction modulo 255 (each logarithm is at most 254).
// gfLog is its inverse for non-zero elements; gfLog[0] is unused.
var gfExp, gfLog = gfTables()

func gfTables() (exp [510]byte, log [256]byte) {
	x := 1
	for i := 0; i < 255; i++ {
		exp[i] = byte(x)
		log[x] = byte(i)
		x <<= 1 // multiply by α
		if x&0x100 != 0 {
			x ^= gfPoly // reduce back into eight bits
		}
	}
	for i := 255; i < len(exp); i++ {
		exp[i] = exp[i-255] // α^255 = 1, so the sequence repeats
	}
	return exp, log
}

// gfMul multiplies two field elements.
func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// rsGenerator returns the generator polynomial of the given degree,
// (x−α⁰)(x−α¹)…(x−α^(degree−1)), as coefficients from the highest power
// down; the leading coefficient is always 1. In GF(256) subtraction is
// XOR, the same as addition, so each factor is (x + α^i).
func rsGenerator(degree int) []byte {
	g := []byte{1}
	for i := 0; i < degree; i++ {
		next := make([]byte, len(g)+1)
		for j, c := range g {
			next[j] ^= c                    // c·x
			next[j+1] ^= gfMul(c, gfExp[i]) // c·α^i
		}
		g = next
	}
	return g
}

// rsECC returns the n error-correction codewords for data: the remainder
// of data(x)·xⁿ divided by the degree-n generator polynomial. This is the
// usual long division, done with a shift register holding the remainder.
func rsECC(data []byte, n int) []byte {
	gen := rsGenerator(n)
	rem := make([]byte, n)
	for _, d := range data {
		factor := d ^ rem[0]
		copy(rem, rem[1:])
		rem[n-1] = 0
		for i := range rem {
			rem[i] ^= gfMul(gen[i+1], factor)
		}
	}
	return rem
}
