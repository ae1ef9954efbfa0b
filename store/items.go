package store

import (
	"fmt"
)

// PutItems stores the sync-ids of items in one folder of a user's mailbox,
// in one transaction. The user must exist.
func (db *DB) PutItems(profileID, userKey, folder string, items ...Item) error {
	return db.update(func(tx kvTx) error { return putItems(tx, profileID, userKey, folder, items) })
}

func putItems(tx kvTx, profileID, userKey, folder string, items []Item) error {
	if err := validName("folder", folder); err != nil {
		return err
	}
	for _, it := range items {
		if err := validName("item id", it.ID); err != nil {
			return fmt.Errorf("folder %q of user %q: %w", folder, userKey, err)
		}
	}
	ib, err := userSub(tx, profileID, userKey, bktItems)
	if err != nil {
		return err
	}
	ub, err := ib.CreateBucketIfNotExists([]byte(userKey))
	if err != nil {
		return fmt.Errorf("items of user %q in profile %q: %w", userKey, profileID, err)
	}
	fb, err := ub.CreateBucketIfNotExists([]byte(folder))
	if err != nil {
		return fmt.Errorf("folder %q of user %q in profile %q: %w", folder, userKey, profileID, err)
	}
	for _, it := range items {
		if err := putJSON(fb, it.ID, it); err != nil {
			return fmt.Errorf("item in folder %q of user %q in profile %q: %w", folder, userKey, profileID, err)
		}
	}
	return nil
}

// DeleteItems removes items from a folder. IDs that are not stored are
// skipped, so replaying a sync's deletions is harmless.
func (db *DB) DeleteItems(profileID, userKey, folder string, ids ...string) error {
	return db.update(func(tx kvTx) error { return deleteItems(tx, profileID, userKey, folder, ids) })
}

func deleteItems(tx kvTx, profileID, userKey, folder string, ids []string) error {
	ib, err := profileSub(tx, profileID, bktItems)
	if err != nil {
		return err
	}
	fb := folderBucket(ib, userKey, folder)
	if fb == nil {
		return nil
	}
	for _, id := range ids {
		if id == "" {
			continue
		}
		if err := fb.Delete([]byte(id)); err != nil {
			return fmt.Errorf("delete item in folder %q of user %q in profile %q: %w", folder, userKey, profileID, err)
		}
	}
	return nil
}

// Items returns the items of one folder sorted by ID; none for a folder never
// synced. The user must exist.
func (db *DB) Items(profileID, userKey, folder string) ([]Item, error) {
	var out []Item
	err := db.view(func(tx kvTx) error {
		ib, err := userItemsBucket(tx, profileID, userKey)
		if err != nil || ib == nil {
			return err
		}
		fb := ib.Bucket([]byte(folder))
		if fb == nil || folder == "" {
			return nil
		}
		return fb.ForEach(func(k, v []byte) error {
			var it Item
			if err := decode(v, &it); err != nil {
				return fmt.Errorf("item in folder %q of user %q in profile %q: %w", folder, userKey, profileID, err)
			}
			it.ID = string(k)
			out = append(out, it)
			return nil
		})
	})
	return out, err
}

// StoredItems reports which of ids are stored in a folder, reading their
// keys and nothing else: a delta sync asks about the items it changes
// rather than reading every item the folder holds. The user must exist.
func (db *DB) StoredItems(profileID, userKey, folder string, ids []string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	err := db.view(func(tx kvTx) error {
		ib, err := userItemsBucket(tx, profileID, userKey)
		if err != nil || ib == nil || folder == "" {
			return err
		}
		fb := ib.Bucket([]byte(folder))
		if fb == nil {
			return nil
		}
		for _, id := range ids {
			if id != "" && fb.Get([]byte(id)) != nil {
				out[id] = true
			}
		}
		return nil
	})
	return out, err
}

// CountItems returns the number of items per folder of a user. The user must
// exist.
func (db *DB) CountItems(profileID, userKey string) (map[string]int, error) {
	out := make(map[string]int)
	err := db.view(func(tx kvTx) error {
		ib, err := userItemsBucket(tx, profileID, userKey)
		if err != nil || ib == nil {
			return err
		}
		return ib.ForEachBucket(func(folder []byte) error {
			// KeyN walks the pages without decoding values.
			n, err := keyCount(ib, folder, profileID)
			out[string(folder)] = n
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// userItemsBucket returns items/<userKey>, or nil if the user has none yet.
func userItemsBucket(tx kvTx, profileID, userKey string) (kvBucket, error) {
	ib, err := userSub(tx, profileID, userKey, bktItems)
	if err != nil {
		return nil, err
	}
	return ib.Bucket([]byte(userKey)), nil
}

func folderBucket(items kvBucket, userKey, folder string) kvBucket {
	if userKey == "" || folder == "" {
		return nil
	}
	ub := items.Bucket([]byte(userKey))
	if ub == nil {
		return nil
	}
	return ub.Bucket([]byte(folder))
}

// ItemCounts returns, in one read, the number of stored items per user
// and folder of a profile.
func (db *DB) ItemCounts(profileID string) (map[string]map[string]int, error) {
	out := map[string]map[string]int{}
	err := db.view(func(tx kvTx) error {
		ib, err := profileSub(tx, profileID, bktItems)
		if err != nil {
			return err
		}
		return ib.ForEachBucket(func(user []byte) error {
			ub := ib.Bucket(user)
			if ub == nil {
				return errorf(ErrDamaged, "items of user %q of profile %q: listed as a bucket but none is there", user, profileID)
			}
			counts := map[string]int{}
			err := ub.ForEachBucket(func(folder []byte) error {
				n, err := keyCount(ub, folder, profileID)
				counts[string(folder)] = n
				return err
			})
			out[string(user)] = counts
			return err
		})
	})
	return out, err
}

// keyCount is the number of keys in the nested bucket name of b. A name
// that b lists as a bucket but cannot open is damage: bbolt panicked on it
// before the store had its own bucket interface, and guard made that
// ErrDamaged.
func keyCount(b kvBucket, name []byte, profileID string) (int, error) {
	nb := b.Bucket(name)
	if nb == nil {
		return 0, errorf(ErrDamaged, "items folder %q of profile %q: listed as a bucket but none is there", name, profileID)
	}
	return nb.KeyN(), nil
}
