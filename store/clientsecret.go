package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// secretRecord is what is sealed under profiles/<id>/secret. Value is a
// plain string on purpose: Secret masks itself in JSON.
type secretRecord struct {
	Value  string       `json:"value"`
	KeyID  string       `json:"keyId,omitempty"`
	Expiry time.Time    `json:"expiry,omitzero"`
	Source ExpirySource `json:"source,omitempty"`
	// Created: modauth made it; kept with the value, so that a record
	// saved again (a new expiry) stays what it was.
	Created bool `json:"created,omitempty"`
}

// SetClientSecret seals a profile's client secret and, in the same
// transaction, updates what the profile shows of it: key ID, hint, expiry
// and where the expiry came from.
func (db *DB) SetClientSecret(profileID string, s ClientSecret) error {
	if s.Value.IsZero() {
		return fmt.Errorf("client secret of profile %q: value is empty", profileID)
	}
	plain, err := json.Marshal(secretRecord{
		Value: s.Value.Reveal(), KeyID: s.KeyID, Expiry: s.Expiry, Source: s.ExpirySource, Created: s.Created,
	})
	if err != nil {
		return fmt.Errorf("client secret of profile %q: %w", profileID, err)
	}
	defer clear(plain)
	return db.updateProfile(profileID, func(_ *bolt.Tx, pb *bolt.Bucket, p *Profile) error {
		sealed := db.seal.seal(plain, secretPlace(profileID)...)
		if err := pb.Put(keySecret, sealed); err != nil {
			return fmt.Errorf("client secret of profile %q: %w", profileID, err)
		}
		p.SecretKeyID = s.KeyID
		p.SecretHint = s.Value.Hint()
		p.SecretExpiry = s.Expiry
		p.SecretExpirySource = s.ExpirySource
		p.SecretCreated = s.Created
		return nil
	})
}

// updateProfile changes a stored profile in one transaction: fn changes
// p (and may write more in tx); the profile is saved when fn succeeds.
func (db *DB) updateProfile(profileID string, fn func(tx *bolt.Tx, pb *bolt.Bucket, p *Profile) error) error {
	return db.update(func(tx *bolt.Tx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		p, err := readProfile(pb, profileID)
		if err != nil {
			return err
		}
		if err := fn(tx, pb, &p); err != nil {
			return err
		}
		p.Updated = db.now()
		return putJSON(pb, string(keyProfile), p)
	})
}

// MarkSecretShown records that the value of the profile's client secret
// keyID is being shown, and when, before it is: a value is shown once. It
// fails, and nothing may be shown, when the person typed the secret in,
// when it is no longer the profile's secret, or when it was shown before.
func (db *DB) MarkSecretShown(profileID, keyID string) (time.Time, error) {
	var at time.Time
	err := db.updateProfile(profileID, func(tx *bolt.Tx, _ *bolt.Bucket, p *Profile) error {
		switch {
		case !p.SecretCreated:
			return fmt.Errorf("the client secret of profile %q was entered by a person, not made by modauth: its value is not shown", profileID)
		case p.SecretKeyID != keyID:
			return fmt.Errorf("the client secret of profile %q changed since the sheet was opened: open it again", profileID)
		case p.SecretWasShown():
			return fmt.Errorf("the client secret of profile %q was shown once on %s: save the hand-off sheet to a file or rotate for a new one",
				profileID, p.SecretShown.Format("2 January 2006 15:04"))
		}
		at = db.now()
		p.SecretShownKeyID, p.SecretShown = keyID, at
		// The log says it was shown, never what.
		_, err := db.appendEvents(tx, []Event{{Profile: profileID, Kind: "secret", Message: "the value of client secret " + keyID + " was shown, once"}})
		return err
	})
	return at, err
}

// ClientSecret unseals a profile's client secret.
func (db *DB) ClientSecret(profileID string) (ClientSecret, error) {
	var cs ClientSecret
	err := db.view(func(tx *bolt.Tx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		blob := pb.Get(keySecret)
		if blob == nil {
			return fmt.Errorf("client secret of profile %q: %w", profileID, ErrNotFound)
		}
		cs, err = db.openSecret(profileID, blob)
		return err
	})
	return cs, err
}

// openSecret unseals and decodes a profile's stored client secret.
func (db *DB) openSecret(profileID string, blob []byte) (ClientSecret, error) {
	plain, err := db.seal.open(blob, secretPlace(profileID)...)
	if err != nil {
		return ClientSecret{}, fmt.Errorf("client secret of profile %q: %w", profileID, err)
	}
	defer clear(plain)
	var rec secretRecord
	if err := json.Unmarshal(plain, &rec); err != nil {
		// json's error could quote the input; keep it out of the message.
		return ClientSecret{}, errorf(ErrDamaged, "client secret of profile %q: sealed record is malformed", profileID)
	}
	return ClientSecret{Value: Secret(rec.Value), KeyID: rec.KeyID, Expiry: rec.Expiry, ExpirySource: rec.Source, Created: rec.Created}, nil
}

func secretPlace(profileID string) []string {
	return []string{"profiles", profileID, "secret"}
}
