package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Rotation is a client-secret rotation under way. The new secret is
// modauth's current one and has been handed to the product; the old one
// stays in Entra ID until the product is seen signing in with the new
// one, so the product never loses its connection in between.
type Rotation struct {
	OldKeyID  string    `json:"oldKeyId"`
	OldHint   string    `json:"oldHint,omitempty"`
	OldExpiry time.Time `json:"oldExpiry,omitzero"`
	NewKeyID  string    `json:"newKeyId"`
	Started   time.Time `json:"started"`
	// HandedOver is when the new value left modauth for the product: the
	// sheet was saved or the value shown.
	HandedOver time.Time `json:"handedOver,omitzero"`
	// Switched is when the product was first seen using the new secret,
	// and SwitchedBy how it was known: "sign-in log" or "admin".
	Switched   time.Time `json:"switched,omitzero"`
	SwitchedBy string    `json:"switchedBy,omitempty"`
}

// How a rotation's switch was known.
const (
	SwitchedBySignInLog = "sign-in log"
	SwitchedByAdmin     = "admin"
)

// Rotation returns the profile's rotation under way, if there is one.
func (db *DB) Rotation(profileID string) (Rotation, bool, error) {
	var r Rotation
	var found bool
	err := db.view(func(tx *bolt.Tx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		if found, err = getJSON(pb, string(keyRotation), &r); err != nil {
			return fmt.Errorf("secret rotation of profile %q: %w", profileID, err)
		}
		return nil
	})
	return r, found, err
}

// SetRotation records where the profile's rotation stands.
func (db *DB) SetRotation(profileID string, r Rotation) error {
	return db.update(func(tx *bolt.Tx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		if err := putJSON(pb, string(keyRotation), r); err != nil {
			return fmt.Errorf("secret rotation of profile %q: %w", profileID, err)
		}
		return nil
	})
}

// EndRotation forgets the rotation once the old secret is retired.
func (db *DB) EndRotation(profileID string) error {
	return db.update(func(tx *bolt.Tx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		return pb.Delete(keyRotation)
	})
}
