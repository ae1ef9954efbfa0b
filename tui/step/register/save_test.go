package register

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// Saving a view: the key press only returns a command; the command writes
// the file (0600) and its message puts the path on the screen.
func TestSaveWritesInTheCommandNotInUpdate(t *testing.T) {
	dir := t.TempDir()
	c := &common.Context{Options: common.Options{ExportDir: dir}, Width: 80, Height: 24}
	c.Profile = store.Profile{ID: "acme-production", Customer: "Acme", Environment: "production", Preset: "moveit-app-only", Model: store.AppOnly, Protocols: []store.Protocol{store.Graph}}
	s := New()
	if cmd := s.Init(c); cmd != nil {
		t.Fatalf("init: %v", cmd())
	}
	path := filepath.Join(dir, "acme-production-checklist.txt")

	_, cmd := s.Update(c, tea.KeyPressMsg{Code: 's', Text: "s"})
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("Update wrote the file (stat: %v)", err)
	}
	if cmd == nil {
		t.Fatal("no command to save")
	}
	msg := cmd()
	data, err := os.ReadFile(path)
	if err != nil || string(data) != s.texts[0] || !strings.Contains(string(data), "New registration") {
		t.Fatalf("the command wrote %q, %v", data, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %#o, want 0600", fi.Mode().Perm())
	}
	if _, cmd := s.Update(c, msg); cmd != nil {
		t.Errorf("a save that worked reports %v", cmd())
	}
	if got := s.View(c); !strings.Contains(strings.ReplaceAll(got, "\n", ""), path) {
		t.Errorf("the screen does not name %s:\n%s", path, got)
	}

	// A directory that is not there: the error goes to the error slot.
	c.ExportDir = filepath.Join(dir, "gone")
	_, cmd = s.Update(c, tea.KeyPressMsg{Code: 's', Text: "s"})
	_, cmd = s.Update(c, cmd())
	if cmd == nil {
		t.Fatal("a failed save reports nothing")
	}
	if e, ok := cmd().(common.ErrMsg); !ok || !strings.Contains(e.Error(), "save checklist") {
		t.Errorf("failed save: %v", e)
	}
}
