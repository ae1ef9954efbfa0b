package qr

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// deviceLoginURLs are the addresses the consent step shows as a QR code:
// the verification_uri of each Microsoft cloud, and the simulator's.
var deviceLoginURLs = []string{
	"https://microsoft.com/devicelogin",
	"https://microsoft.com/deviceloginus",
	"https://microsoft.com/deviceloginchina",
	"http://127.0.0.1:41237/devicelogin",
}

// writeScreenPNG draws text as a terminal shows it, a cell being scale
// pixels wide and two half cells of scale pixels tall, with a margin of
// background cells around it (the rest of the screen). A dark terminal
// draws light glyphs on black, a light one dark glyphs on white.
func writeScreenPNG(t *testing.T, text string, dark bool, path string, scale int) {
	t.Helper()
	const margin = 3
	fg, bg := color.Gray{Y: 0}, color.Gray{Y: 255}
	if dark {
		fg, bg = bg, fg
	}
	lines := strings.Split(text, "\n")
	cols := utf8.RuneCountInString(lines[0])
	w, h := (cols+2*margin)*scale, (2*len(lines)+4*margin)*scale
	img := image.NewGray(image.Rect(0, 0, w, h))
	for py := range h {
		for px := range w {
			img.SetGray(px, py, bg)
		}
	}
	paint := func(col, half int) {
		x0, y0 := (col+margin)*scale, (half+2*margin)*scale
		for py := y0; py < y0+scale; py++ {
			for px := x0; px < x0+scale; px++ {
				img.SetGray(px, py, fg)
			}
		}
	}
	for row, line := range lines {
		for col, r := range []rune(line) {
			top, bottom := halves(t, r)
			if top {
				paint(col, 2*row)
			}
			if bottom {
				paint(col, 2*row+1)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestZbarDecode is the end-to-end check: an independent decoder must read
// back exactly the address from what the terminal shows, on dark and light
// backgrounds, with the quiet zone the consent step draws. It needs zbarimg
// (Debian/Ubuntu package zbar-tools) and is skipped without it, so the
// package's tests never depend on anything outside the Go toolchain.
func TestZbarDecode(t *testing.T) {
	zbarimg, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Skip("zbarimg not installed (apt-get install zbar-tools); skipping end-to-end decode")
	}
	// Longer addresses reach the versions that carry version information.
	long := "https://login.example.com/oauth2/v2.0/device?user_code=ABCD-EFGH&client_id=0123456789abcdef01&tenant=contoso.onmicrosoft.com"
	inputs := slices.Concat(deviceLoginURLs, []string{long, long + "&" + long})

	dir := t.TempDir()
	for i, data := range inputs {
		for _, dark := range []bool{true, false} {
			text, err := Terminal(data, dark)
			if err != nil {
				t.Fatalf("Terminal(%d bytes): %v", len(data), err)
			}
			name := fmt.Sprintf("%s (dark=%v)", data, dark)
			path := filepath.Join(dir, fmt.Sprintf("qr%d-%v.png", i, dark))
			writeScreenPNG(t, text, dark, path, 4)
			out, err := exec.Command(zbarimg, "--raw", "-q", path).Output()
			if err != nil {
				t.Errorf("%s: zbarimg: %v", name, err)
				continue
			}
			if got := strings.TrimSuffix(string(out), "\n"); got != data {
				t.Errorf("%s: zbarimg decoded %q", name, got)
			}
		}
	}
}
