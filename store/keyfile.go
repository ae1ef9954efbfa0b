package store

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// keySize is AES-256's key length.
const keySize = 32

// loadKey reads a key file: 64 hex characters and an optional newline. The
// error wraps fs.ErrNotExist when there is no file, so the caller can decide
// whether creating one is safe.
func loadKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	defer f.Close()
	// Stat the open file, not the path, so the mode checked is the mode of
	// the file read.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, errorf(ErrKeyDamaged, "key file %s is not a regular file", path)
	}
	if err := checkPrivate(path, fi.Mode(), ErrKeyPermissions, "key file"); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, 4*keySize))
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	key, err := parseKey(data)
	if err != nil {
		return nil, errorf(ErrKeyDamaged,
			"key file %s is damaged: want 64 hex characters; restore it from the backup made with this database", path)
	}
	return key, nil
}

func parseKey(data []byte) ([]byte, error) {
	data = bytes.TrimSpace(data)
	if len(data) != 2*keySize {
		return nil, errors.New("wrong length")
	}
	key := make([]byte, keySize)
	if _, err := hex.Decode(key, data); err != nil {
		return nil, err
	}
	return key, nil
}

// createKey writes a new random key to path, never over an existing file.
// The key is written to a temporary file first and then hard-linked into
// place: the link fails if path exists, so of two processes creating a key
// at once one wins and the other uses the winner's key, and no reader ever
// sees a half-written file.
func createKey(path string) ([]byte, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create key file directory: %w", err)
	}
	key := make([]byte, keySize)
	rand.Read(key) // never fails since Go 1.24

	tmp, err := os.CreateTemp(dir, ".modauth-key-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(hex.EncodeToString(key) + "\n")
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}

	switch err := os.Link(tmp.Name(), path); {
	case errors.Is(err, fs.ErrExist):
		return loadKey(path)
	case err != nil:
		return nil, fmt.Errorf("create key file %s: %w", path, err)
	}
	syncDir(dir)
	return key, nil
}

// syncDir makes a new directory entry durable. Best effort: not every
// platform can fsync a directory, and the file itself is already synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
