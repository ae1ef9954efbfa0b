package store

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers test them with errors.Is to choose an exit code or
// a hint; the messages returned by this package already name the file or
// record and say what to do.
var (
	// ErrNotFound: the profile, user or record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrLocked: another process holds the database file.
	ErrLocked = errors.New("database is in use by another modauth process")
	// ErrDBPermissions: the database file is open to group or others.
	ErrDBPermissions = errors.New("database file is open to group or others")
	// ErrKeyPermissions: the key file is open to group or others.
	ErrKeyPermissions = errors.New("key file is open to group or others")
	// ErrKeyDamaged: the key file is not 64 hex characters.
	ErrKeyDamaged = errors.New("key file is damaged")
	// ErrWrongKey: the key file is missing or is not the one the database
	// was sealed with.
	ErrWrongKey = errors.New("key file does not match the database")
	// ErrUnseal: a sealed value does not open, because it was damaged, moved
	// from another record, or sealed under another key.
	ErrUnseal = errors.New("sealed value does not open")
	// ErrNewerSchema: the database was written by a newer modauth.
	ErrNewerSchema = errors.New("database schema is newer than this modauth")
	// ErrInvalidID: a profile ID, user key or other record name is not allowed.
	ErrInvalidID = errors.New("invalid id")
	// ErrNoDatabase: Options.MustExist was set and there is no database file.
	ErrNoDatabase = errors.New("no database")
	// ErrDamaged: the database file, or a record in it, is damaged.
	ErrDamaged = errors.New("database is damaged")
	// ErrNotEmpty: Migrate's destination already holds profiles or events.
	ErrNotEmpty = errors.New("destination store is not empty")
)

// doctorHint is the way out of a damaged database, named in every ErrDamaged
// message about the file.
const doctorHint = "run `modauth doctor` to check it and restore the last backup"

// damagedf reports damage to the database file at path, with the way out.
func damagedf(path, format string, args ...any) error {
	return &damageError{path: path, what: fmt.Sprintf(format, args...)}
}

// damageError is ErrDamaged for the file itself: what is damaged, apart, so
// that the doctor can list it without telling the reader to run the doctor.
type damageError struct{ path, what string }

func (e *damageError) Error() string {
	return fmt.Sprintf("database %s is damaged: %s: %s", e.path, e.what, doctorHint)
}
func (e *damageError) Unwrap() error { return ErrDamaged }

// sentinelError carries a complete, human-written message while still
// matching a sentinel with errors.Is. fmt.Errorf("%w") would force the
// sentinel's text into the message at one fixed spot, which reads badly for
// messages like "key file X does not match database Y: restore ...".
type sentinelError struct {
	msg string
	err error
}

func (e *sentinelError) Error() string { return e.msg }
func (e *sentinelError) Unwrap() error { return e.err }

// errorf formats a message that wraps sentinel without repeating its text.
func errorf(sentinel error, format string, args ...any) error {
	return &sentinelError{msg: fmt.Sprintf(format, args...), err: sentinel}
}
