package store

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// certificateRecord is what is sealed under profiles/<id>/certificate and
// profiles/<id>/newcertificate. Key is a plain []byte on purpose: Secret
// masks itself in JSON.
type certificateRecord struct {
	KeyID      string    `json:"keyId,omitempty"`
	Thumbprint string    `json:"thumbprint"`
	NotAfter   time.Time `json:"notAfter"`
	Cert       []byte    `json:"cert"`
	Key        []byte    `json:"key"`
}

// sealedCertificate is one kind of certificate a profile keeps sealed:
// the profile's own, or the new one of a rotation under way.
type sealedCertificate struct {
	what string
	key  []byte
}

var (
	profileCertificate  = sealedCertificate{what: "certificate", key: keyCertificate}
	rotationCertificate = sealedCertificate{what: "new certificate", key: keyRotationCertificate}
)

func (k sealedCertificate) place(profileID string) []string {
	return []string{"profiles", profileID, string(k.key)}
}

// SetClientCertificate seals a profile's certificate credential, private
// key and all, in its own record and, in the same transaction, updates
// what the profile shows of it: key ID, thumbprint and expiry.
func (db *DB) SetClientCertificate(profileID string, c ClientCertificate) error {
	return db.updateProfile(profileID, func(_ kvTx, pb kvBucket, p *Profile) error {
		p.Certificate = c.Info()
		return db.putCertificate(pb, profileCertificate, profileID, c)
	})
}

// Info is what may be shown of the certificate.
func (c ClientCertificate) Info() *CertificateInfo {
	return &CertificateInfo{KeyID: c.KeyID, Thumbprint: c.Thumbprint, NotAfter: c.NotAfter}
}

// WritePEM writes the certificate and its private key (PKCS#8) as PEM,
// for a product that signs in with the certificate itself: write it only
// to a file its owner alone can read (WriteExport).
func (c ClientCertificate) WritePEM(w io.Writer) error {
	if len(c.CertDER) == 0 || c.KeyPKCS8.IsZero() {
		return fmt.Errorf("export certificate: no certificate or private key: make the profile's certificate first")
	}
	if err := pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: c.CertDER}); err != nil {
		return err
	}
	key := []byte(c.KeyPKCS8.Reveal())
	defer clear(key)
	return pem.Encode(w, &pem.Block{Type: "PRIVATE KEY", Bytes: key})
}

// WritePFX writes the certificate and its private key as PKCS#12 under
// password, with the modern algorithms (AES-256-CBC, PBKDF2 and an
// HMAC-SHA-256 MAC) that Windows 10 and Server 2019 on, and OpenSSL 1.1
// on, import.
func (c ClientCertificate) WritePFX(w io.Writer, password string) error {
	cert, err := x509.ParseCertificate(c.CertDER)
	if err != nil {
		return fmt.Errorf("export certificate: %w", err)
	}
	der := []byte(c.KeyPKCS8.Reveal())
	defer clear(der)
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return fmt.Errorf("export certificate: the sealed private key does not parse: make a new certificate")
	}
	pfx, err := pkcs12.Modern2023.Encode(key, cert, nil, password)
	if err != nil {
		return fmt.Errorf("export certificate: %w", err)
	}
	_, err = w.Write(pfx)
	return err
}

func (db *DB) putCertificate(pb kvBucket, k sealedCertificate, profileID string, c ClientCertificate) error {
	if c.KeyPKCS8.IsZero() || len(c.CertDER) == 0 {
		return fmt.Errorf("%s of profile %q: certificate or private key is empty", k.what, profileID)
	}
	plain, err := json.Marshal(certificateRecord{
		KeyID: c.KeyID, Thumbprint: c.Thumbprint, NotAfter: c.NotAfter, Cert: c.CertDER, Key: []byte(c.KeyPKCS8.Reveal()),
	})
	if err != nil {
		return fmt.Errorf("%s of profile %q: %w", k.what, profileID, err)
	}
	defer clear(plain)
	if err := pb.Put(k.key, db.seal.seal(plain, k.place(profileID)...)); err != nil {
		return fmt.Errorf("%s of profile %q: %w", k.what, profileID, err)
	}
	return nil
}

// ClientCertificate unseals a profile's certificate credential. With none
// stored it returns ErrNotFound.
func (db *DB) ClientCertificate(profileID string) (ClientCertificate, error) {
	return db.getCertificate(profileCertificate, profileID)
}

// RotationCertificate unseals the new certificate of the rotation under
// way.
func (db *DB) RotationCertificate(profileID string) (ClientCertificate, error) {
	return db.getCertificate(rotationCertificate, profileID)
}

func (db *DB) getCertificate(k sealedCertificate, profileID string) (ClientCertificate, error) {
	var c ClientCertificate
	err := db.view(func(tx kvTx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		c, err = db.readCertificate(pb, k, profileID)
		return err
	})
	return c, err
}

func (db *DB) readCertificate(pb kvBucket, k sealedCertificate, profileID string) (ClientCertificate, error) {
	blob := pb.Get(k.key)
	if blob == nil {
		return ClientCertificate{}, fmt.Errorf("%s of profile %q: %w", k.what, profileID, ErrNotFound)
	}
	plain, err := db.seal.open(blob, k.place(profileID)...)
	if err != nil {
		return ClientCertificate{}, fmt.Errorf("%s of profile %q: %w", k.what, profileID, err)
	}
	defer clear(plain)
	var rec certificateRecord
	if err := json.Unmarshal(plain, &rec); err != nil {
		// json's error could quote the input; keep it out of the message.
		return ClientCertificate{}, errorf(ErrDamaged, "%s of profile %q: sealed record is malformed", k.what, profileID)
	}
	return ClientCertificate{KeyID: rec.KeyID, Thumbprint: rec.Thumbprint, NotAfter: rec.NotAfter, CertDER: rec.Cert, KeyPKCS8: Secret(rec.Key)}, nil
}
