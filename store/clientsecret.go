package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// secretRecord is what is sealed under profiles/<id>/secret,
// profiles/<id>/monitorsecret and profiles/<id>/newsecret. Value is a
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

// sealedSecret is one kind of client secret a profile keeps sealed in its
// own record: the product app's, the monitoring app's, or a rotation's
// new one. Each is sealed to its own place, so one record copied over
// another does not unseal.
type sealedSecret struct {
	what string // for messages: "client secret"
	key  []byte // the record's key in the profile's bucket
	// show updates what the profile shows of the secret; it fails when
	// the profile has no place for it.
	show func(p *Profile, s ClientSecret) error
}

var (
	clientSecret = sealedSecret{what: "client secret", key: keySecret, show: func(p *Profile, s ClientSecret) error {
		p.SecretKeyID = s.KeyID
		p.SecretHint = s.Value.Hint()
		p.SecretExpiry = s.Expiry
		p.SecretExpirySource = s.ExpirySource
		p.SecretCreated = s.Created
		return nil
	}}
	monitorSecret = sealedSecret{what: "monitoring app's secret", key: keyMonitorSecret, show: func(p *Profile, s ClientSecret) error {
		if p.Monitor == nil {
			return fmt.Errorf("the profile has no monitoring app: store its client ID with the profile first")
		}
		p.Monitor.SecretKeyID = s.KeyID
		p.Monitor.SecretHint = s.Value.Hint()
		p.Monitor.SecretExpiry = s.Expiry
		return nil
	}}
	// rotationSecret is the new secret of a rotation under way, handed to
	// the product but not yet modauth's own (the Rotation record shows it).
	rotationSecret = sealedSecret{what: "new client secret", key: keyRotationSecret, show: func(*Profile, ClientSecret) error { return nil }}
)

func (k sealedSecret) place(profileID string) []string {
	return []string{"profiles", profileID, string(k.key)}
}

// SetClientSecret seals a profile's client secret and, in the same
// transaction, updates what the profile shows of it: key ID, hint, expiry
// and where the expiry came from.
func (db *DB) SetClientSecret(profileID string, s ClientSecret) error {
	return db.setSecret(clientSecret, profileID, s)
}

// ClientSecret unseals a profile's client secret.
func (db *DB) ClientSecret(profileID string) (ClientSecret, error) {
	return db.getSecret(clientSecret, profileID)
}

// SetMonitorSecret seals the client secret of a profile's monitoring app
// and, in the same transaction, updates what Profile.Monitor shows of it:
// key ID, hint and expiry. The profile must have its monitoring app
// (Profile.Monitor) already.
func (db *DB) SetMonitorSecret(profileID string, s ClientSecret) error {
	return db.setSecret(monitorSecret, profileID, s)
}

// MonitorSecret unseals the client secret of a profile's monitoring app.
// With none stored it returns ErrNotFound.
func (db *DB) MonitorSecret(profileID string) (ClientSecret, error) {
	return db.getSecret(monitorSecret, profileID)
}

func (db *DB) setSecret(k sealedSecret, profileID string, s ClientSecret) error {
	return db.update(func(tx kvTx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		return db.putSecret(pb, k, profileID, s)
	})
}

// putSecret seals s into the profile's bucket pb as kind k, and updates
// what the profile shows of it.
func (db *DB) putSecret(pb kvBucket, k sealedSecret, profileID string, s ClientSecret) error {
	if s.Value.IsZero() {
		return fmt.Errorf("%s of profile %q: value is empty", k.what, profileID)
	}
	plain, err := json.Marshal(secretRecord{
		Value: s.Value.Reveal(), KeyID: s.KeyID, Expiry: s.Expiry, Source: s.ExpirySource, Created: s.Created,
	})
	if err != nil {
		return fmt.Errorf("%s of profile %q: %w", k.what, profileID, err)
	}
	defer clear(plain)
	return db.changeProfile(pb, profileID, func(p *Profile) error {
		if err := k.show(p, s); err != nil {
			return fmt.Errorf("%s of profile %q: %w", k.what, profileID, err)
		}
		if err := pb.Put(k.key, db.seal.seal(plain, k.place(profileID)...)); err != nil {
			return fmt.Errorf("%s of profile %q: %w", k.what, profileID, err)
		}
		return nil
	})
}

// updateProfile changes a stored profile in one transaction: fn changes
// p (and may write more in tx); the profile is saved when fn succeeds.
func (db *DB) updateProfile(profileID string, fn func(tx kvTx, pb kvBucket, p *Profile) error) error {
	return db.update(func(tx kvTx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		return db.changeProfile(pb, profileID, func(p *Profile) error { return fn(tx, pb, p) })
	})
}

// changeProfile reads the profile from its bucket pb, lets fn change it,
// and saves it when fn succeeds.
func (db *DB) changeProfile(pb kvBucket, profileID string, fn func(p *Profile) error) error {
	p, err := readProfile(pb, profileID)
	if err != nil {
		return err
	}
	if err := fn(&p); err != nil {
		return err
	}
	p.Updated = db.now()
	return putJSON(pb, string(keyProfile), p)
}

// MarkSecretShown records that the value of the client secret keyID is
// being shown, and when, before it is: a value is shown once. The secret
// is the profile's own, or the new one of a rotation under way. It fails,
// and nothing may be shown, when the person typed the secret in, when it
// is neither of those any more, or when it was shown before.
func (db *DB) MarkSecretShown(profileID, keyID string) (time.Time, error) {
	var at time.Time
	err := db.updateProfile(profileID, func(tx kvTx, pb kvBucket, p *Profile) error {
		var rot Rotation
		if _, err := getRotation(pb, profileID, &rot); err != nil {
			return err
		}
		pending := rot.NewKeyID != "" && rot.NewKeyID == keyID && rot.Promoted.IsZero()
		switch {
		case !pending && p.SecretKeyID != keyID:
			return fmt.Errorf("the client secret of profile %q changed since the sheet was opened: open it again", profileID)
		case !pending && !p.SecretCreated:
			return fmt.Errorf("the client secret of profile %q was entered by a person, not made by modauth: its value is not shown", profileID)
		case p.SecretShownKeyID == keyID && !p.SecretShown.IsZero():
			return fmt.Errorf("the client secret of profile %q was shown once on %s: save the hand-off sheet to a file or rotate for a new one",
				profileID, p.SecretShown.Format("2 January 2006 15:04"))
		}
		at = db.now()
		p.SecretShownKeyID, p.SecretShown = keyID, at
		if pending && rot.HandedOver.IsZero() {
			rot.HandedOver = at // shown is handed over
			if err := putRotation(pb, profileID, rot); err != nil {
				return err
			}
		}
		// The log says it was shown, never what.
		_, err := db.appendEvents(tx, []Event{{Profile: profileID, Kind: "secret", Message: "the value of client secret " + keyID + " was shown, once"}})
		return err
	})
	return at, err
}

func (db *DB) getSecret(k sealedSecret, profileID string) (ClientSecret, error) {
	var cs ClientSecret
	err := db.view(func(tx kvTx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		cs, err = db.readSecret(pb, k, profileID)
		return err
	})
	return cs, err
}

// readSecret unseals the profile's secret of kind k from its bucket pb.
func (db *DB) readSecret(pb kvBucket, k sealedSecret, profileID string) (ClientSecret, error) {
	blob := pb.Get(k.key)
	if blob == nil {
		return ClientSecret{}, fmt.Errorf("%s of profile %q: %w", k.what, profileID, ErrNotFound)
	}
	return db.openSecret(k, profileID, blob)
}

// openSecret unseals and decodes a profile's stored secret of kind k.
func (db *DB) openSecret(k sealedSecret, profileID string, blob []byte) (ClientSecret, error) {
	plain, err := db.seal.open(blob, k.place(profileID)...)
	if err != nil {
		return ClientSecret{}, fmt.Errorf("%s of profile %q: %w", k.what, profileID, err)
	}
	defer clear(plain)
	var rec secretRecord
	if err := json.Unmarshal(plain, &rec); err != nil {
		// json's error could quote the input; keep it out of the message.
		return ClientSecret{}, errorf(ErrDamaged, "%s of profile %q: sealed record is malformed", k.what, profileID)
	}
	return ClientSecret{Value: Secret(rec.Value), KeyID: rec.KeyID, Expiry: rec.Expiry, ExpirySource: rec.Source, Created: rec.Created}, nil
}
