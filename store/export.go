package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteExport writes a file a person exports or saves (instructions, a
// script, a CSV) with mode 0600: write fills it. It writes a temporary
// file in the same directory, syncs it and renames it over path, so a
// crash or a failed write never leaves half a file, and an existing file
// is replaced whole. An export may hold what only the admin should read,
// hence 0600 whatever the umask.
func WriteExport(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	werr := write(tmp)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}
