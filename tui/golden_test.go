package tui

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden screens in testdata")

// golden compares the screen with testdata/golden/<name>.txt: the frame
// at 80x24 as a person sees it, so a layout change shows up as a diff.
// Run with -update after a deliberate change and read the diff.
func (h *harness) golden(name string) {
	h.t.Helper()
	got := h.screen()
	path := filepath.Join("testdata", "golden", name+".txt")
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			h.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatalf("%v (run go test ./tui -run %s -update)", err, h.t.Name())
	}
	if got != string(want) {
		h.t.Errorf("screen %s differs from %s:\n--- got ---\n%s\n--- want ---\n%s", name, path, got, want)
	}
}

func TestGoldenScreens(t *testing.T) {
	h := newHarness(t)
	h.m.c.Demo = "simulated tenant"
	h.golden("profile")
	h.keys("<enter>")
	h.golden("profile-error")
	h.keys("Acme<enter><enter><right><right><right><right><right><right><enter><enter><enter><enter><enter>")
	h.golden("register")
}
