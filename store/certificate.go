package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// certificateRecord is what is sealed under profiles/<id>/certificate.
// Key is a plain []byte on purpose: Secret masks itself in JSON.
type certificateRecord struct {
	KeyID      string    `json:"keyId,omitempty"`
	Thumbprint string    `json:"thumbprint"`
	NotAfter   time.Time `json:"notAfter"`
	Cert       []byte    `json:"cert"`
	Key        []byte    `json:"key"`
}

const certificateWhat = "certificate"

func certificatePlace(profileID string) []string {
	return []string{"profiles", profileID, string(keyCertificate)}
}

// SetClientCertificate seals a profile's certificate credential, private
// key and all, in its own record and, in the same transaction, updates
// what the profile shows of it: key ID, thumbprint and expiry.
func (db *DB) SetClientCertificate(profileID string, c ClientCertificate) error {
	if c.KeyPKCS8.IsZero() || len(c.CertDER) == 0 {
		return fmt.Errorf("%s of profile %q: certificate or private key is empty", certificateWhat, profileID)
	}
	plain, err := json.Marshal(certificateRecord{
		KeyID: c.KeyID, Thumbprint: c.Thumbprint, NotAfter: c.NotAfter, Cert: c.CertDER, Key: []byte(c.KeyPKCS8.Reveal()),
	})
	if err != nil {
		return fmt.Errorf("%s of profile %q: %w", certificateWhat, profileID, err)
	}
	defer clear(plain)
	return db.updateProfile(profileID, func(_ *bolt.Tx, pb *bolt.Bucket, p *Profile) error {
		p.Certificate = &CertificateInfo{KeyID: c.KeyID, Thumbprint: c.Thumbprint, NotAfter: c.NotAfter}
		if err := pb.Put(keyCertificate, db.seal.seal(plain, certificatePlace(profileID)...)); err != nil {
			return fmt.Errorf("%s of profile %q: %w", certificateWhat, profileID, err)
		}
		return nil
	})
}

// ClientCertificate unseals a profile's certificate credential. With none
// stored it returns ErrNotFound.
func (db *DB) ClientCertificate(profileID string) (ClientCertificate, error) {
	var c ClientCertificate
	err := db.view(func(tx *bolt.Tx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		blob := pb.Get(keyCertificate)
		if blob == nil {
			return fmt.Errorf("%s of profile %q: %w", certificateWhat, profileID, ErrNotFound)
		}
		plain, err := db.seal.open(blob, certificatePlace(profileID)...)
		if err != nil {
			return fmt.Errorf("%s of profile %q: %w", certificateWhat, profileID, err)
		}
		defer clear(plain)
		var rec certificateRecord
		if err := json.Unmarshal(plain, &rec); err != nil {
			// json's error could quote the input; keep it out of the message.
			return errorf(ErrDamaged, "%s of profile %q: sealed record is malformed", certificateWhat, profileID)
		}
		c = ClientCertificate{KeyID: rec.KeyID, Thumbprint: rec.Thumbprint, NotAfter: rec.NotAfter, CertDER: rec.Cert, KeyPKCS8: Secret(rec.Key)}
		return nil
	})
	return c, err
}
