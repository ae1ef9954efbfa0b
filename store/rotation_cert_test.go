package store

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"
)

// TestCertificateRotation: a rotation's new certificate is sealed apart
// (its key in no dump, backup or file byte), stays apart while the
// product has not switched, becomes the profile's own when promoted, and
// is gone with the rotation's end.
func TestCertificateRotation(t *testing.T) {
	const canaryNewKey = "CANARY-newcertkey-7a1d"
	db, path := testDB(t, Options{})
	seed(t, db)
	old := ClientCertificate{KeyID: "old", Thumbprint: "AA", NotAfter: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), CertDER: []byte("old cert"), KeyPKCS8: canaryCertKey}
	next := ClientCertificate{KeyID: "new", Thumbprint: "BB", NotAfter: time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC), CertDER: []byte("new cert"), KeyPKCS8: canaryNewKey}
	must(t, db.SetClientCertificate("acme", old))
	must(t, db.StartCertificateRotation("acme", Rotation{OldKeyID: "old", NewKeyID: "new"}, next))

	rot, ok, err := db.Rotation("acme")
	if err != nil || !ok || !rot.Certificate || rot.Credential() != "certificate" {
		t.Fatalf("rotation %+v %v %v: not a certificate's", rot, ok, err)
	}
	if got, err := db.RotationCertificate("acme"); err != nil || got.KeyPKCS8.Reveal() != canaryNewKey {
		t.Fatalf("the new certificate did not come back intact: %v", err)
	}
	if p, _ := db.Profile("acme"); p.Certificate.KeyID != "old" {
		t.Fatalf("the profile took the new certificate before the product did: %+v", p.Certificate)
	}
	var dump, backup bytes.Buffer
	must(t, db.Dump(&dump))
	_, err = db.Backup(&backup)
	must(t, err)
	for name, data := range map[string][]byte{"Dump": dump.Bytes(), "Backup": backup.Bytes()} {
		if bytes.Contains(data, []byte(canaryNewKey)) {
			t.Errorf("%s holds the new certificate's key", name)
		}
	}

	rot, err = db.PromoteRotation("acme", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), SwitchedBySignInLog)
	must(t, err)
	got, err := db.ClientCertificate("acme")
	p, _ := db.Profile("acme")
	if err != nil || got.KeyPKCS8.Reveal() != canaryNewKey || p.Certificate.KeyID != "new" || !p.Certificate.NotAfter.Equal(next.NotAfter) || rot.Promoted.IsZero() {
		t.Fatalf("after promotion: certificate %s (%v), profile shows %+v", got.KeyID, err, p.Certificate)
	}
	p.Credential = CredentialCertificate
	must(t, db.PutProfile(p))
	p, _ = db.Profile("acme")
	if exp, what := p.CredentialExpiry(); what != "certificate" || !exp.Equal(next.NotAfter) {
		t.Errorf("expiry %v of %s, want the new certificate's %v", exp, what, next.NotAfter)
	}
	must(t, db.EndRotation("acme"))
	if _, err := db.RotationCertificate("acme"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the new certificate's copy outlived the rotation: %v", err)
	}
	must(t, db.Close())
	file, err := os.ReadFile(path)
	must(t, err)
	for _, canary := range []string{canaryNewKey, canaryCertKey} {
		if bytes.Contains(file, []byte(canary)) {
			t.Errorf("the database file holds %s in the clear", canary)
		}
	}
}
