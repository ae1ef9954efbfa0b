package store

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestFileTruncatedWhileOpenIsDamageNotSIGBUS cuts the file short under
// an open database: reading the pages past the new end faults (SIGBUS),
// which must come back as ErrDamaged, and then stay that way.
func TestFileTruncatedWhileOpenIsDamageNotSIGBUS(t *testing.T) {
	db, path := testDB(t, Options{})
	seed(t, db)
	users := make([]User, 300)
	for i := range users {
		users[i] = User{Key: fmt.Sprintf("user-%03d", i), Account: strings.Repeat("x", 100)}
	}
	must(t, db.PutUsers("acme", users...))
	must(t, os.Truncate(path, 8192))

	_, err := db.Users("acme")
	wantErr(t, err, ErrDamaged, path, "modauth doctor")
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	_, err = db.Profile("acme")
	wantErr(t, err, ErrDamaged, path)
}

// TestPanicsOutsideBboltAreNotDamage: a bug in a caller's function is not
// the file's fault and must not be reported as damage.
func TestPanicsOutsideBboltAreNotDamage(t *testing.T) {
	db, _ := testDB(t, Options{})
	seed(t, db)
	defer func() {
		if r := recover(); r != "caller bug" {
			t.Errorf("recovered %v, want the caller's panic", r)
		}
		if _, err := db.Users("acme"); err != nil {
			t.Errorf("the database was marked broken by a caller's panic: %v", err)
		}
	}()
	_ = db.ForEachUser("acme", func(User) error { panic("caller bug") })
	t.Error("the panic was swallowed")
}
