package store

import (
	"fmt"
	"maps"
	"slices"
)

// PutJobs stores jobs keyed by user key in one transaction: the monitor
// saves a whole sweep at once. Every user must exist.
func (db *DB) PutJobs(profileID string, jobs map[string]Job) error {
	return db.update(func(tx kvTx) error { return putJobs(tx, profileID, jobs) })
}

// putJobs writes jobs in key order, so an error about a missing user is
// always about the same one.
func putJobs(tx kvTx, profileID string, jobs map[string]Job) error {
	for _, k := range slices.Sorted(maps.Keys(jobs)) {
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
	err := db.view(func(tx kvTx) error {
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
	jobs, damaged, err := db.JobsAndDamaged(profileID)
	if err == nil {
		err = firstDamaged(damaged)
	}
	if err != nil {
		return nil, err
	}
	return jobs, nil
}

// JobsAndDamaged is Jobs for a sweep: the jobs that decode, and by user
// key why each of the others does not.
func (db *DB) JobsAndDamaged(profileID string) (map[string]Job, map[string]error, error) {
	jobs, damaged := map[string]Job{}, map[string]error{}
	err := db.view(func(tx kvTx) error {
		jb, err := profileSub(tx, profileID, bktJobs)
		if err != nil {
			return err
		}
		return eachRecord(jb, func(key string, j Job, err error) error {
			if err != nil {
				damaged[key] = db.recordError(fmt.Errorf("job of user %q in profile %q: %w", key, profileID, err))
			} else {
				jobs[key] = j
			}
			return nil
		})
	})
	return jobs, damaged, err
}
