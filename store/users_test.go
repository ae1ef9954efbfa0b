package store

import (
	"slices"
	"testing"
)

// UserKeys lists the keys of the records there are, in order, and reads
// none: a record that does not decode is listed too.
func TestUserKeysReadNoRecord(t *testing.T) {
	backends(t, Options{}, func(t *testing.T, db *DB) {
		seed(t, db)
		users, err := db.Users("acme")
		must(t, err)
		var want []string
		for _, u := range users {
			want = append(want, u.Key)
		}
		must(t, db.update(func(tx kvTx) error {
			ub, err := profileSub(tx, "acme", bktUsers)
			if err != nil {
				return err
			}
			return ub.Put([]byte("zz"), []byte("\x07garbage{"))
		}))
		got, err := db.UserKeys("acme")
		must(t, err)
		if !slices.Equal(got, append(want, "zz")) {
			t.Fatalf("UserKeys = %v, want %v and zz", got, want)
		}
	})
}
