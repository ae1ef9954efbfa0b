package store

import (
	"fmt"
	"testing"
)

// BenchmarkPutUsers measures importing 10,000 users in one call, the size
// of a large customer's user list.
func BenchmarkPutUsers(b *testing.B) {
	db, _ := testDB(b, Options{})
	must(b, db.PutProfile(Profile{ID: "acme"}))
	users := make([]User, 10_000)
	for i := range users {
		users[i] = User{
			Key: fmt.Sprintf("user-%05d", i), Name: fmt.Sprintf("User %d", i),
			Account: fmt.Sprintf("user%d@acme.example", i), Mapping: MappingOK,
		}
	}
	for b.Loop() {
		must(b, db.PutUsers("acme", users...))
	}
}
