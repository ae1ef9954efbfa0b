package store

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestWriteExport(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "acme-checklist.txt")
	if err := os.WriteFile(path, []byte("an older export, longer than the new one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteExport(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "new\n")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "new\n" {
		t.Fatalf("read back %q, %v: want the new text only", got, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %#o, want 0600", fi.Mode().Perm())
	}
	onlyFile(t, dir, "acme-checklist.txt")
}

// A write that fails halfway leaves the file as it was and no temporary
// file beside it.
func TestWriteExportFailureKeepsTheOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "acme-users.csv")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	broken := errors.New("disk full")
	err := WriteExport(path, func(w io.Writer) error {
		io.WriteString(w, "half a fi")
		return broken
	})
	if !errors.Is(err, broken) {
		t.Fatalf("error %v, want the writer's", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old\n" {
		t.Errorf("after a failed write the file holds %q", got)
	}
	onlyFile(t, dir, "acme-users.csv")

	if err := WriteExport(filepath.Join(dir, "no-such-dir", "x.txt"), func(io.Writer) error { return nil }); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func onlyFile(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != name {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only %s", names, name)
	}
}
