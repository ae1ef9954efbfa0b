package store

import (
	"fmt"
	"time"
)

// Rotation is a credential rotation under way: of the client secret or,
// with Certificate set, of the certificate. The new secret has been
// handed to the product and is sealed apart (RotationSecret); modauth
// keeps signing in with the old one, so that the sign-in log's uses of
// the new key are the product's alone. Once the product is seen on the
// new secret, modauth takes it too (PromoteRotation), and from then on a
// use of the old key is an instance of the product that still has it.
// The old secret is retired only after that.
type Rotation struct {
	// Certificate: the credential rotated is the profile's certificate;
	// the key IDs are keyCredentials', OldHint its thumbprint.
	Certificate bool      `json:"certificate,omitempty"`
	OldKeyID    string    `json:"oldKeyId"`
	OldHint     string    `json:"oldHint,omitempty"`
	OldExpiry   time.Time `json:"oldExpiry,omitzero"`
	NewKeyID    string    `json:"newKeyId"`
	Started     time.Time `json:"started"`
	// Proven is when modauth last signed in with the new secret to prove
	// it: uses of the new key up to then are modauth's own.
	Proven time.Time `json:"proven,omitzero"`
	// HandedOver is when the new value left modauth for the product: the
	// sheet was saved or the value shown.
	HandedOver time.Time `json:"handedOver,omitzero"`
	// Switched is when the product was first seen using the new secret,
	// and SwitchedBy how it was known: SwitchedBySignInLog or
	// SwitchedByAdmin. Promoted is when modauth took it as its own.
	Switched   time.Time `json:"switched,omitzero"`
	SwitchedBy string    `json:"switchedBy,omitempty"`
	Promoted   time.Time `json:"promoted,omitzero"`
}

// How a rotation's switch was known.
const (
	SwitchedBySignInLog = "sign-in log"
	SwitchedByAdmin     = "admin"
)

// Credential names what is rotated, for messages: "secret" or
// "certificate".
func (r Rotation) Credential() string {
	if r.Certificate {
		return "certificate"
	}
	return "secret"
}

// Retired is the event's words once the old credential is removed.
func (r Rotation) Retired() string {
	what := r.Credential()
	if what == "secret" {
		what = "client secret"
	}
	return fmt.Sprintf("old %s %s retired: the product uses %s since %s (%s)", what, r.OldKeyID, r.NewKeyID, r.Switched.Format(time.RFC3339), r.SwitchedBy)
}

// StartRotation records a rotation and seals its new secret, in one
// transaction. The profile's own client secret is unchanged.
func (db *DB) StartRotation(profileID string, r Rotation, next ClientSecret) error {
	return db.update(func(tx kvTx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		if err := db.putSecret(pb, rotationSecret, profileID, next); err != nil {
			return err
		}
		return putRotation(pb, profileID, r)
	})
}

// StartCertificateRotation records a certificate rotation and seals its
// new certificate, private key and all, in one transaction. The
// profile's own certificate is unchanged.
func (db *DB) StartCertificateRotation(profileID string, r Rotation, next ClientCertificate) error {
	r.Certificate = true
	return db.update(func(tx kvTx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		if err := db.putCertificate(pb, rotationCertificate, profileID, next); err != nil {
			return err
		}
		return putRotation(pb, profileID, r)
	})
}

// Rotation returns the profile's rotation under way, if there is one.
func (db *DB) Rotation(profileID string) (Rotation, bool, error) {
	var r Rotation
	var found bool
	err := db.view(func(tx kvTx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		found, err = getRotation(pb, profileID, &r)
		return err
	})
	return r, found, err
}

// RotationSecret unseals the new secret of the rotation under way.
func (db *DB) RotationSecret(profileID string) (ClientSecret, error) {
	return db.getSecret(rotationSecret, profileID)
}

// SetRotation records where the profile's rotation stands.
func (db *DB) SetRotation(profileID string, r Rotation) error {
	return db.update(func(tx kvTx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		return putRotation(pb, profileID, r)
	})
}

// MarkHandedOver records that the rotation's new secret keyID left
// modauth for the product (its sheet was saved or shown), unless that was
// recorded before or keyID is not the rotation's.
func (db *DB) MarkHandedOver(profileID, keyID string) error {
	return db.update(func(tx kvTx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		var r Rotation
		found, err := getRotation(pb, profileID, &r)
		if err != nil || !found || r.NewKeyID != keyID || !r.HandedOver.IsZero() {
			return err
		}
		r.HandedOver = db.now()
		return putRotation(pb, profileID, r)
	})
}

// PromoteRotation makes the rotation's new credential the profile's own once
// the product uses it: switched is when the product was first seen on it,
// by how that was known. A rotation already promoted is returned as it is.
func (db *DB) PromoteRotation(profileID string, switched time.Time, by string) (Rotation, error) {
	var r Rotation
	err := db.update(func(tx kvTx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		found, err := getRotation(pb, profileID, &r)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("secret rotation of profile %q: %w", profileID, ErrNotFound)
		}
		if !r.Promoted.IsZero() {
			return nil
		}
		if err := db.promote(pb, profileID, r.Certificate); err != nil {
			return err
		}
		if r.Switched.IsZero() {
			r.Switched, r.SwitchedBy = switched, by
		}
		r.Promoted = db.now()
		return putRotation(pb, profileID, r)
	})
	return r, err
}

// promote copies a rotation's new credential over the profile's own.
func (db *DB) promote(pb kvBucket, profileID string, certificate bool) error {
	if certificate {
		next, err := db.readCertificate(pb, rotationCertificate, profileID)
		if err != nil {
			return err
		}
		if err := db.putCertificate(pb, profileCertificate, profileID, next); err != nil {
			return err
		}
		return db.changeProfile(pb, profileID, func(p *Profile) error { p.Certificate = next.Info(); return nil })
	}
	next, err := db.readSecret(pb, rotationSecret, profileID)
	if err != nil {
		return err
	}
	return db.putSecret(pb, clientSecret, profileID, next)
}

// EndRotation forgets the rotation and its sealed copy of the new
// credential once the old one is retired.
func (db *DB) EndRotation(profileID string) error {
	return db.update(func(tx kvTx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		for _, k := range [][]byte{keyRotationSecret, keyRotationCertificate, keyRotation} {
			if err := pb.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

func putRotation(pb kvBucket, profileID string, r Rotation) error {
	if err := putJSON(pb, string(keyRotation), r); err != nil {
		return fmt.Errorf("secret rotation of profile %q: %w", profileID, err)
	}
	return nil
}

func getRotation(pb kvBucket, profileID string, r *Rotation) (bool, error) {
	found, err := getJSON(pb, string(keyRotation), r)
	if err != nil {
		return false, fmt.Errorf("secret rotation of profile %q: %w", profileID, err)
	}
	return found, nil
}
