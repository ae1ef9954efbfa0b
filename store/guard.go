package store

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// guard runs fn, which reaches into bbolt, and turns what a damaged file
// makes bbolt do into ErrDamaged: an assertion that panics, or a fault
// reading the memory-mapped file (SIGBUS past the end of a file truncated
// while open), which SetPanicOnFault turns into a panic for this goroutine.
// Any other panic is a bug, not damage, and goes on.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if !damagePanic(r) {
				panic(r)
			}
			err = panicDamage{damagedf(path, "reading it failed (%s)", firstLine(fmt.Sprint(r)))}
		}
	}()
	return fn()
}

// panicDamage is damage that made bbolt panic.
type panicDamage struct{ error }

func (p panicDamage) Unwrap() error { return p.error }

// damagePanic tells a panic caused by the file's content from a bug: a
// fault at a mapped address, or a panic raised inside bbolt.
func damagePanic(r any) bool {
	var fault interface{ Addr() uintptr }
	if err, ok := r.(error); ok && errors.As(err, &fault) {
		return true
	}
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(1, pcs)])
	panicking := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			panicking = true
		case panicking && !strings.HasPrefix(f.Function, "runtime."):
			return strings.HasPrefix(f.Function, "go.etcd.io/bbolt")
		}
		if !more {
			return false
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// view runs fn in a read transaction, guarded, and counts it.
func (db *DB) view(fn func(tx kvTx) error) error {
	db.reads.Add(1)
	return db.guarded(func() error { return db.kv.View(fn) })
}

// boltView runs fn in a bbolt read transaction, for what only a bbolt file
// has (its bytes, its pages); on another backend it says what is missing.
func (db *DB) boltView(what string, fn func(tx *bolt.Tx) error) error {
	if db.bolt == nil {
		return fmt.Errorf("%s is not available on etcd: use etcd's own tools (etcdctl snapshot save, etcdctl check)", what)
	}
	db.reads.Add(1)
	return db.guarded(func() error { return db.bolt.View(fn) })
}

// update runs fn in a write transaction, guarded, and counts the commit.
func (db *DB) update(fn func(tx kvTx) error) error {
	err := db.guarded(func() error { return db.kv.Update(fn) })
	if err == nil {
		db.writes.Add(1)
	}
	return err
}

// guarded runs a transaction under guard. After a panic inside bbolt its
// state in memory may be half-changed, so the DB refuses all further work
// with the same error rather than write more damage. A damaged record gets
// the file's path and the way out added to its message.
func (db *DB) guarded(fn func() error) error {
	broken := &db.broken
	if db.lender != nil {
		broken = &db.lender.broken // a borrower breaks the lender's state too
	}
	if err := broken.Load(); err != nil {
		return *err
	}
	err := guard(db.path, fn)
	if errors.As(err, new(panicDamage)) {
		broken.Store(&err)
		return err
	}
	return db.recordError(err)
}

// recordError adds the file's path and the way out to the error of a
// damaged record; other errors pass as they are.
func (db *DB) recordError(err error) error {
	if errors.Is(err, ErrDamaged) && !strings.Contains(err.Error(), db.path) {
		return fmt.Errorf("database %s is damaged: %w: %s", db.path, err, doctorHint)
	}
	return err
}
