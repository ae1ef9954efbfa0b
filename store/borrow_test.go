package store

import (
	"reflect"
	"testing"
)

// TestBorrowedHandleLeavesTheFileOpen: a command closes the handle it is
// lent and the lender goes on reading and writing; a borrower's diagnosis
// is the one Diagnose gives of the closed file.
func TestBorrowedHandleLeavesTheFileOpen(t *testing.T) {
	db, path := testDB(t, Options{})
	must(t, db.PutProfile(Profile{ID: "acme", TenantID: "t", ClientID: "c"}))
	b := db.Borrow()
	must(t, b.PutProfile(Profile{ID: "beta", TenantID: "t", ClientID: "c"}))
	lent, err := b.Borrow().Diagnose()
	must(t, err)
	must(t, b.Close())
	ps, err := db.Profiles()
	if err != nil || len(ps) != 2 {
		t.Fatalf("after the borrower closed: %v, %d profiles", err, len(ps))
	}
	must(t, db.Close())
	closed, err := Diagnose(path, Options{})
	must(t, err)
	if !reflect.DeepEqual(lent, closed) || len(closed.Profiles) != 2 {
		t.Errorf("diagnosis of the open file %+v, of the closed file %+v", lent, closed)
	}
}
