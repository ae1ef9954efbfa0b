package store

import (
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// PutJobs stores jobs keyed by user key in one transaction: the monitor
// saves a whole sweep at once. Every user must exist.
func (db *DB) PutJobs(profileID string, jobs map[string]Job) error {
	// Write in key order so an error about a missing user is always about
	// the same one.
	keys := make([]string, 0, len(jobs))
	for k := range jobs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return db.bolt.Update(func(tx *bolt.Tx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		jb, err := sub(pb, profileID, bktJobs)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := userExists(pb, profileID, k); err != nil {
				return err
			}
			if err := putJSON(jb, k, jobs[k]); err != nil {
				return fmt.Errorf("job of user %q in profile %q: %w", k, profileID, err)
			}
		}
		return nil
	})
}

// Job returns a user's job.
func (db *DB) Job(profileID, userKey string) (Job, error) {
	var j Job
	err := db.bolt.View(func(tx *bolt.Tx) error {
		jb, err := jobsBucket(tx, profileID)
		if err != nil {
			return err
		}
		found, err := getJSON(jb, userKey, &j)
		if err != nil {
			return fmt.Errorf("job of user %q in profile %q: %w", userKey, profileID, err)
		}
		if !found || userKey == "" {
			return fmt.Errorf("job of user %q in profile %q: %w", userKey, profileID, ErrNotFound)
		}
		return nil
	})
	return j, err
}

// Jobs returns every job of a profile, keyed by user key.
func (db *DB) Jobs(profileID string) (map[string]Job, error) {
	out := make(map[string]Job)
	err := db.bolt.View(func(tx *bolt.Tx) error {
		jb, err := jobsBucket(tx, profileID)
		if err != nil {
			return err
		}
		return jb.ForEach(func(k, v []byte) error {
			var j Job
			if err := json.Unmarshal(v, &j); err != nil {
				return fmt.Errorf("job of user %q in profile %q: %w", k, profileID, err)
			}
			out[string(k)] = j
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func jobsBucket(tx *bolt.Tx, profileID string) (*bolt.Bucket, error) {
	pb, err := profileBucket(tx, profileID)
	if err != nil {
		return nil, err
	}
	return sub(pb, profileID, bktJobs)
}
