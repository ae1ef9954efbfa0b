package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteExport writes a file the person asked for (an export, a saved
// sheet) at path with mode 0600, never over an existing file: write fills
// a temporary file in the same directory, which is synced and then linked
// into place, so path is never seen half-written and a failed write
// leaves nothing behind.
func WriteExport(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".modauth-export-*") // mode 0600
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	werr := write(tmp)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	switch err := os.Link(tmp.Name(), path); {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("write %s: the file exists already: move it away or export again in a second", path)
	case err != nil:
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}
