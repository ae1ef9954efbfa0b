package store

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteExportIsPrivateWholeAndNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "acme-users.csv")
	write := func(text string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, text); return err }
	}
	if err := WriteExport(path, write("key,name\n")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(path); string(b) != "key,name\n" {
		t.Errorf("content %q", b)
	}

	// A second export of the same name is refused; the first stays.
	err = WriteExport(path, write("other\n"))
	if err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("overwrite: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "key,name\n" {
		t.Errorf("overwritten: %q", b)
	}

	// A failed write leaves no file and no temporary file behind.
	failed := filepath.Join(dir, "failed.csv")
	boom := errors.New("boom")
	if err := WriteExport(failed, func(w io.Writer) error { io.WriteString(w, "half"); return boom }); !errors.Is(err, boom) {
		t.Errorf("failed write: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left: %v", names)
	}
}
