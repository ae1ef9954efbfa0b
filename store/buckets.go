package store

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
)

// Bucket and key names; see the layout in doc.go.
var (
	bktMeta     = []byte("meta")
	bktProfiles = []byte("profiles")
	bktEvents   = []byte("events")

	keySchema   = []byte("schema")
	keyKeyCheck = []byte("keycheck")

	keyProfile = []byte("profile")
	keySecret  = []byte("secret")
	// keyMonitorSecret holds the monitoring app's secret, sealed apart
	// from the product app's.
	keyMonitorSecret = []byte("monitorsecret")
	// keyCertificate holds the certificate credential and its private
	// key, sealed.
	keyCertificate = []byte("certificate")
	bktUsers       = []byte("users")
	bktTokens      = []byte("tokens")
	bktJobs        = []byte("jobs")
	bktItems       = []byte("items")
)

// profileSubBuckets are created with every profile, so readers can rely on
// them.
var profileSubBuckets = [][]byte{bktUsers, bktTokens, bktJobs, bktItems}

// profileIDPattern keeps profile IDs safe as file names and URL segments,
// since they also name exports, logs and metrics labels.
var profileIDPattern = regexp.MustCompile(`^[a-z0-9._-]{1,64}$`)

func validProfileID(id string) error {
	if !profileIDPattern.MatchString(id) || id == "." || id == ".." {
		return fmt.Errorf("profile id %q: %w: use 1 to 64 of a-z 0-9 . _ -", id, ErrInvalidID)
	}
	return nil
}

// validName checks a user key, folder or item ID: any bytes, but not empty,
// because bbolt cannot store an empty key.
func validName(what, name string) error {
	if name == "" {
		return fmt.Errorf("%s: %w: must not be empty", what, ErrInvalidID)
	}
	return nil
}

// root returns a top-level bucket. Migrations create them all, so a missing
// one means the file was damaged, not that it is new.
func root(tx kvTx, name []byte) (kvBucket, error) {
	b := tx.Bucket(name)
	if b == nil {
		return nil, errorf(ErrDamaged, "bucket %q is missing", name)
	}
	return b, nil
}

// profileBucket returns profiles/<id>.
func profileBucket(tx kvTx, id string) (kvBucket, error) {
	if err := validProfileID(id); err != nil {
		return nil, err
	}
	profiles, err := root(tx, bktProfiles)
	if err != nil {
		return nil, err
	}
	b := profiles.Bucket([]byte(id))
	if b == nil {
		return nil, fmt.Errorf("profile %q: %w", id, ErrNotFound)
	}
	return b, nil
}

// sub returns a profile's sub-bucket (users, tokens, jobs, items).
func sub(pb kvBucket, profileID string, name []byte) (kvBucket, error) {
	b := pb.Bucket(name)
	if b == nil {
		return nil, errorf(ErrDamaged, "profile %q: bucket %q is missing", profileID, name)
	}
	return b, nil
}

// userExists returns ErrNotFound unless the user is stored, so tokens, jobs
// and items are never written for a user DeleteUser would not clean up.
func userExists(pb kvBucket, profileID, key string) error {
	if err := validName("user key", key); err != nil {
		return err
	}
	users, err := sub(pb, profileID, bktUsers)
	if err != nil {
		return err
	}
	if users.Get([]byte(key)) == nil {
		return fmt.Errorf("user %q in profile %q: %w", key, profileID, ErrNotFound)
	}
	return nil
}

func putJSON(b kvBucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}

// getJSON decodes b[key] into v and reports whether the key was there.
func getJSON(b kvBucket, key string, v any) (bool, error) {
	data := b.Get([]byte(key))
	if data == nil {
		return false, nil
	}
	return true, decode(data, v)
}

// decode reads a stored record. modauth wrote every record from a Go
// value, so one that does not decode was damaged on disk: the error wraps
// ErrDamaged.
func decode(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return errorf(ErrDamaged, "record does not decode (%v)", err)
	}
	return nil
}

// eachRecord decodes every record of b in key order and calls fn with
// it, or with why it does not decode, so a caller can choose to skip it.
func eachRecord[T any](b kvBucket, fn func(key string, rec T, err error) error) error {
	return b.ForEach(func(k, v []byte) error {
		var rec T
		err := decode(v, &rec)
		return fn(string(k), rec, err)
	})
}

// firstDamaged returns the error of the damaged record with the lowest key,
// so a strict reader always names the same one.
func firstDamaged(damaged map[string]error) error {
	if len(damaged) == 0 {
		return nil
	}
	return damaged[slices.Min(slices.Collect(maps.Keys(damaged)))]
}

// profileSub returns one of a profile's sub-buckets (users, tokens, jobs, items).
func profileSub(tx kvTx, profileID string, name []byte) (kvBucket, error) {
	pb, err := profileBucket(tx, profileID)
	if err != nil {
		return nil, err
	}
	return sub(pb, profileID, name)
}

// userSub is profileSub for a record that belongs to a stored user.
func userSub(tx kvTx, profileID, userKey string, name []byte) (kvBucket, error) {
	pb, err := profileBucket(tx, profileID)
	if err != nil {
		return nil, err
	}
	if err := userExists(pb, profileID, userKey); err != nil {
		return nil, err
	}
	return sub(pb, profileID, name)
}
