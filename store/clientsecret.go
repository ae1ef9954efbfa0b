package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// secretRecord is what is sealed under profiles/<id>/secret and
// profiles/<id>/monitorsecret. Value is a plain string on purpose: Secret
// masks itself in JSON.
type secretRecord struct {
	Value  string       `json:"value"`
	KeyID  string       `json:"keyId,omitempty"`
	Expiry time.Time    `json:"expiry,omitzero"`
	Source ExpirySource `json:"source,omitempty"`
}

// sealedSecret is one kind of client secret a profile keeps sealed in its
// own record: the product app's, or the monitoring app's. Each is sealed
// to its own place, so one record copied over the other does not unseal.
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
	return db.update(func(tx *bolt.Tx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		return db.putSecret(pb, k, profileID, s)
	})
}

// putSecret seals s into the profile's bucket pb as kind k, and updates
// what the profile shows of it.
func (db *DB) putSecret(pb *bolt.Bucket, k sealedSecret, profileID string, s ClientSecret) error {
	if s.Value.IsZero() {
		return fmt.Errorf("%s of profile %q: value is empty", k.what, profileID)
	}
	plain, err := json.Marshal(secretRecord{
		Value: s.Value.Reveal(), KeyID: s.KeyID, Expiry: s.Expiry, Source: s.ExpirySource,
	})
	if err != nil {
		return fmt.Errorf("%s of profile %q: %w", k.what, profileID, err)
	}
	defer clear(plain)
	p, err := readProfile(pb, profileID)
	if err != nil {
		return err
	}
	if err := k.show(&p, s); err != nil {
		return fmt.Errorf("%s of profile %q: %w", k.what, profileID, err)
	}
	sealed := db.seal.seal(plain, k.place(profileID)...)
	if err := pb.Put(k.key, sealed); err != nil {
		return fmt.Errorf("%s of profile %q: %w", k.what, profileID, err)
	}
	p.Updated = db.now()
	return putJSON(pb, string(keyProfile), p)
}

func (db *DB) getSecret(k sealedSecret, profileID string) (ClientSecret, error) {
	var cs ClientSecret
	err := db.view(func(tx *bolt.Tx) error {
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
func (db *DB) readSecret(pb *bolt.Bucket, k sealedSecret, profileID string) (ClientSecret, error) {
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
	return ClientSecret{Value: Secret(rec.Value), KeyID: rec.KeyID, Expiry: rec.Expiry, ExpirySource: rec.Source}, nil
}
