package store

import (
	"fmt"
)

// PutUsers creates or replaces users of a profile, all in one transaction,
// so importing ten thousand users costs one fsync, not ten thousand.
func (db *DB) PutUsers(profileID string, users ...User) error {
	for _, u := range users {
		if err := validName("user key", u.Key); err != nil {
			return fmt.Errorf("profile %q: %w", profileID, err)
		}
	}
	return db.update(func(tx kvTx) error { return putUsers(tx, profileID, users) })
}

func putUsers(tx kvTx, profileID string, users []User) error {
	if len(users) == 0 {
		return nil
	}
	ub, err := profileSub(tx, profileID, bktUsers)
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := putJSON(ub, u.Key, u); err != nil {
			return fmt.Errorf("user %q in profile %q: %w", u.Key, profileID, err)
		}
	}
	return nil
}

// User returns one user of a profile.
func (db *DB) User(profileID, key string) (User, error) {
	var u User
	err := db.view(func(tx kvTx) error {
		ub, err := usersBucket(tx, profileID)
		if err != nil {
			return err
		}
		found, err := getJSON(ub, key, &u)
		if err != nil {
			return fmt.Errorf("user %q in profile %q: %w", key, profileID, err)
		}
		if !found || key == "" {
			return fmt.Errorf("user %q in profile %q: %w", key, profileID, ErrNotFound)
		}
		return nil
	})
	return u, err
}

// Users returns a profile's users sorted by key.
func (db *DB) Users(profileID string) ([]User, error) {
	var out []User
	err := db.ForEachUser(profileID, func(u User) error {
		out = append(out, u)
		return nil
	})
	return out, err
}

// ForEachUser calls fn for each user of a profile in key order, without
// loading them all at once, and stops at fn's first error, which it returns
// as is. fn runs inside a read transaction: it must not write to db, which
// could deadlock when bbolt needs to grow the file.
func (db *DB) ForEachUser(profileID string, fn func(User) error) error {
	return db.eachUser(profileID, func(_ string, u User, err error) error {
		if err != nil {
			return err
		}
		return fn(u)
	})
}

// UsersAndDamaged is Users for a sweep, where one damaged user record must
// cost that user, not the profile: it returns the users that decode, and
// by key why each of the others does not.
func (db *DB) UsersAndDamaged(profileID string) ([]User, map[string]error, error) {
	var users []User
	damaged := map[string]error{}
	err := db.eachUser(profileID, func(key string, u User, err error) error {
		if err != nil {
			damaged[key] = db.recordError(err)
		} else {
			users = append(users, u)
		}
		return nil
	})
	return users, damaged, err
}

// eachUser calls fn with each user of a profile in key order, or with why
// the user's record is damaged: it does not decode, or names another key.
func (db *DB) eachUser(profileID string, fn func(key string, u User, err error) error) error {
	return db.view(func(tx kvTx) error {
		ub, err := usersBucket(tx, profileID)
		if err != nil {
			return err
		}
		return eachRecord(ub, func(key string, u User, err error) error {
			if err == nil {
				err = sameKey(key, u)
			}
			if err != nil {
				err = fmt.Errorf("user %q in profile %q: %w", key, profileID, err)
			}
			return fn(key, u, err)
		})
	})
}

// DeleteUser removes a user together with their token, job and items.
func (db *DB) DeleteUser(profileID, key string) error {
	return db.update(func(tx kvTx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		if err := userExists(pb, profileID, key); err != nil {
			return err
		}
		k := []byte(key)
		for _, name := range [][]byte{bktUsers, bktTokens, bktJobs} {
			b, err := sub(pb, profileID, name)
			if err != nil {
				return err
			}
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("delete user %q in profile %q: %w", key, profileID, err)
			}
		}
		if b := pb.Bucket(bktSignIns); b != nil {
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("delete sign-ins of user %q in profile %q: %w", key, profileID, err)
			}
		}
		items, err := sub(pb, profileID, bktItems)
		if err != nil {
			return err
		}
		if items.Bucket(k) != nil {
			if err := items.DeleteBucket(k); err != nil {
				return fmt.Errorf("delete items of user %q in profile %q: %w", key, profileID, err)
			}
		}
		return nil
	})
}

func usersBucket(tx kvTx, profileID string) (kvBucket, error) {
	pb, err := profileBucket(tx, profileID)
	if err != nil {
		return nil, err
	}
	return sub(pb, profileID, bktUsers)
}

// sameKey checks that a user record is stored under the user's own key: a
// record that names another user was damaged, and writing a job or token
// for the key it names would fail the whole batch.
func sameKey(key string, u User) error {
	if u.Key != key {
		return errorf(ErrDamaged, "record names user %q", u.Key)
	}
	return nil
}

// UserKeys lists a profile's user keys without decoding their records:
// what a count, or a sync of everyone, needs.
func (db *DB) UserKeys(profileID string) ([]string, error) {
	var keys []string
	err := db.view(func(tx kvTx) error {
		ub, err := usersBucket(tx, profileID)
		if err != nil {
			return err
		}
		return ub.ForEach(func(k, _ []byte) error {
			keys = append(keys, string(k))
			return nil
		})
	})
	return keys, err
}
