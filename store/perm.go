package store

import (
	"io/fs"
	"runtime"
)

// checkPrivate refuses a file that group or others may read or write, the
// way ssh refuses a private key: fixing the mode silently would hide that the
// secret may already have been read.
func checkPrivate(path string, mode fs.FileMode, sentinel error, what string) error {
	if runtime.GOOS == "windows" { // mode bits do not describe Windows ACLs
		return nil
	}
	if mode.Perm()&0o077 == 0 {
		return nil
	}
	return errorf(sentinel, "%s %s has mode %#o, open to group or others: run chmod 600 %s",
		what, path, mode.Perm(), path)
}
