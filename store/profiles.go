package store

import (
	"fmt"
	"time"
)

// PutProfile creates or replaces a profile. Created is set on the first put
// and kept after; Updated is set on every put.
//
// The secret fields (SecretKeyID, SecretHint, SecretExpiry,
// SecretExpirySource) are taken from the stored profile, never from p:
// SetClientSecret owns them, so saving an older copy of a profile cannot make
// them disagree with the sealed secret. The same holds for the monitoring
// app's secret fields, which SetMonitorSecret owns; p.Monitor's IDs are
// p's, and a nil p.Monitor keeps the stored monitoring app, so a copy of
// the profile read before the app was registered cannot forget it.
func (db *DB) PutProfile(p Profile) error {
	if err := validProfileID(p.ID); err != nil {
		return err
	}
	return db.update(func(tx kvTx) error {
		profiles, err := root(tx, bktProfiles)
		if err != nil {
			return err
		}
		pb, err := profiles.CreateBucketIfNotExists([]byte(p.ID))
		if err != nil {
			return fmt.Errorf("profile %q: %w", p.ID, err)
		}
		for _, name := range profileSubBuckets {
			if _, err := pb.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("profile %q: %w", p.ID, err)
			}
		}
		var old Profile
		found, err := getJSON(pb, string(keyProfile), &old)
		if err != nil {
			return fmt.Errorf("profile %q: %w", p.ID, err)
		}
		now := db.now()
		p.Created, p.Updated = now, now
		if found {
			p.Created = old.Created
		}
		p.SecretKeyID, p.SecretHint = old.SecretKeyID, old.SecretHint
		p.SecretExpiry, p.SecretExpirySource = old.SecretExpiry, old.SecretExpirySource
		p.Monitor = keepMonitorSecret(p.Monitor, old.Monitor)
		p.Certificate = old.Certificate // set with the sealed record only
		if old.Monitor != nil && p.Monitor.ClientID != old.Monitor.ClientID {
			// Another monitoring app: the old one's secret is not its.
			if err := pb.Delete(keyMonitorSecret); err != nil {
				return fmt.Errorf("profile %q: %w", p.ID, err)
			}
		}
		p.SecretCreated, p.SecretShownKeyID, p.SecretShown = old.SecretCreated, old.SecretShownKeyID, old.SecretShown
		return putJSON(pb, string(keyProfile), p)
	})
}

// Profile returns one profile.
func (db *DB) Profile(id string) (Profile, error) {
	var p Profile
	err := db.view(func(tx kvTx) error {
		pb, err := profileBucket(tx, id)
		if err != nil {
			return err
		}
		p, err = readProfile(pb, id)
		return err
	})
	return p, err
}

// Profiles returns every profile, sorted by ID (bbolt's key order is byte
// order, which is Go's string order).
func (db *DB) Profiles() ([]Profile, error) {
	var out []Profile
	err := db.view(func(tx kvTx) error {
		profiles, err := root(tx, bktProfiles)
		if err != nil {
			return err
		}
		return profiles.ForEachBucket(func(k []byte) error {
			p, err := readProfile(profiles.Bucket(k), string(k))
			if err != nil {
				return err
			}
			out = append(out, p)
			return nil
		})
	})
	return out, err
}

// DeleteProfile removes a profile with its secret, users, tokens, jobs and
// items. Its events stay: the log is history.
func (db *DB) DeleteProfile(id string) error {
	return db.update(func(tx kvTx) error {
		if _, err := profileBucket(tx, id); err != nil {
			return err
		}
		return tx.Bucket(bktProfiles).DeleteBucket([]byte(id))
	})
}

func readProfile(pb kvBucket, id string) (Profile, error) {
	var p Profile
	if pb == nil { // listed as a bucket, but none is there
		return p, errorf(ErrDamaged, "profile %q: its bucket is missing", id)
	}
	found, err := getJSON(pb, string(keyProfile), &p)
	if err != nil {
		return p, fmt.Errorf("profile %q: %w", id, err)
	}
	if !found {
		return p, fmt.Errorf("profile %q: %w", id, ErrNotFound)
	}
	return p, nil
}

// keepMonitorSecret is the monitoring app to store: the new one's IDs with
// the stored one's secret fields, or the stored one when none is given.
func keepMonitorSecret(m, old *MonitorApp) *MonitorApp {
	if m == nil {
		return old
	}
	n := *m
	n.SecretKeyID, n.SecretHint, n.SecretExpiry = "", "", time.Time{}
	if old != nil && old.ClientID == m.ClientID {
		n.SecretKeyID, n.SecretHint, n.SecretExpiry = old.SecretKeyID, old.SecretHint, old.SecretExpiry
	}
	return &n
}
