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
	return db.update(func(tx *bolt.Tx) error { return putJobs(tx, profileID, jobs) })
}

// putJobs writes jobs in key order, so an error about a missing user is
// always about the same one.
func putJobs(tx *bolt.Tx, profileID string, jobs map[string]Job) error {
	keys := make([]string, 0, len(jobs))
	for k := range jobs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		jb, err := userSub(tx, profileID, k, bktJobs)
		if err != nil {
			return err
		}
		if err := putJSON(jb, k, jobs[k]); err != nil {
			return fmt.Errorf("job of user %q in profile %q: %w", k, profileID, err)
		}
	}
	return nil
}

// Job returns a user's job.
func (db *DB) Job(profileID, userKey string) (Job, error) {
	var j Job
	err := db.bolt.View(func(tx *bolt.Tx) error {
		jb, err := profileSub(tx, profileID, bktJobs)
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
		jb, err := profileSub(tx, profileID, bktJobs)
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
