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
	"strings"
	"testing"
)

// writePNG writes c as a PNG with the given pixels per module and quiet
// zone, the way a scanner expects to see it: black on white.
func writePNG(t *testing.T, c *Code, path string, scale, quiet int) {
	t.Helper()
	span := c.Size + 2*quiet
	img := image.NewGray(image.Rect(0, 0, span*scale, span*scale))
	for py := range span * scale {
		for px := range span * scale {
			v := color.Gray{Y: 255}
			if c.Black(px/scale-quiet, py/scale-quiet) {
				v = color.Gray{Y: 0}
			}
			img.SetGray(px, py, v)
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
// back exactly what was encoded. It needs zbarimg (Debian/Ubuntu package
// zbar-tools) and is skipped without it, so the package's tests never
// depend on anything outside the Go toolchain.
func TestZbarDecode(t *testing.T) {
	zbarimg, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Skip("zbarimg not installed (apt-get install zbar-tools); skipping end-to-end decode")
	}

	url120 := "https://login.example.com/oauth2/v2.0/device?user_code=ABCD-EFGH&client_id=0123456789abcdef01&tenant=contoso.onmicrosoft"
	if len(url120) != 120 {
		t.Fatalf("url120 is %d bytes, want 120", len(url120))
	}
	type input struct {
		data  string
		level Level
	}
	inputs := []input{
		{"https://microsoft.com/devicelogin", L},
		{"https://microsoft.com/devicelogin", M},
		{"https://microsoft.com/devicelogin", Q},
		{"https://microsoft.com/devicelogin", H},
		{"https://github.com/login/device", M},
		{"A", H},
		{"", L},
		{url120, L},
		{url120, M},
		{url120, Q},
	}
	// Fill every version at every level exactly, so each row of the block
	// table, both block groups and the version information are exercised.
	for level := L; level <= H; level++ {
		for v := 1; v <= maxVersion; v++ {
			n := byteCapacity(v, level)
			data := strings.Repeat("https://example.com/", 14)[:n]
			inputs = append(inputs, input{data, level})
		}
	}

	dir := t.TempDir()
	for i, in := range inputs {
		if in.data == "" {
			continue // zbar reports nothing for empty symbols; Encode just must not fail
		}
		c, err := Encode(in.data, in.level)
		if err != nil {
			t.Fatalf("Encode(%d bytes, %v): %v", len(in.data), in.level, err)
		}
		name := fmt.Sprintf("%d-%v (%d bytes, version %d)", i, in.level, len(in.data), c.version())
		path := filepath.Join(dir, fmt.Sprintf("qr%d.png", i))
		writePNG(t, c, path, 8, 4)
		out, err := exec.Command(zbarimg, "--raw", "-q", path).Output()
		if err != nil {
			t.Errorf("%s: zbarimg: %v", name, err)
			continue
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != in.data {
			t.Errorf("%s: zbarimg decoded %q, want %q", name, got, in.data)
		}
	}
	t.Logf("zbarimg decoded %d symbols", len(inputs)-1)
}
