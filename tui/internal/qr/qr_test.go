package qr

import (
	"errors"
	"strings"
	"testing"
)

// TestVersionGrows checks that longer data never gets a smaller symbol,
// and that the range of lengths covers several versions.
func TestVersionGrows(t *testing.T) {
	for level := L; level <= H; level++ {
		prev := 0
		for n := 0; n <= byteCapacity(maxVersion, level); n++ {
			c, err := Encode(strings.Repeat("b", n), level)
			if err != nil {
				t.Fatalf("%d bytes at %v: %v", n, level, err)
			}
			if c.version() < prev {
				t.Fatalf("%d bytes at %v: version %d after %d", n, level, c.version(), prev)
			}
			prev = c.version()
		}
		if prev != maxVersion {
			t.Errorf("%v: largest input got version %d, want %d", level, prev, maxVersion)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	_, err := Encode(strings.Repeat("z", 272), L)
	if !errors.Is(err, ErrTooLong) {
		t.Errorf("272 bytes at L: err = %v, want ErrTooLong", err)
	}
	_, err = Encode("x", Level(4))
	if err == nil || errors.Is(err, ErrTooLong) {
		t.Errorf("invalid level: err = %v, want an invalid-level error", err)
	}
}

// TestDeterministic checks that encoding does not depend on hidden state.
func TestDeterministic(t *testing.T) {
	a, _ := Encode("https://microsoft.com/devicelogin", M)
	b, _ := Encode("https://microsoft.com/devicelogin", M)
	if a.ASCII(0) != b.ASCII(0) {
		t.Error("two encodings of the same input differ")
	}
}

// TestBlackOutside checks that the quiet zone reads as light.
func TestBlackOutside(t *testing.T) {
	c, _ := Encode("x", L)
	for _, p := range [][2]int{{-1, 0}, {0, -1}, {c.Size, 0}, {0, c.Size}} {
		if c.Black(p[0], p[1]) {
			t.Errorf("Black(%d, %d) outside the symbol = true", p[0], p[1])
		}
	}
}
