package store

import (
	"bytes"
	"strings"
	"testing"
)

// TestSealedValueBoundToItsRecord copies a sealed value to another record,
// as someone editing the file might, and expects it not to open there.
func TestSealedValueBoundToItsRecord(t *testing.T) {
	db, _ := testDB(t, Options{})
	seed(t, db)
	must(t, db.PutProfile(Profile{ID: "other"}))
	must(t, db.PutToken("acme", "u1", Token{RefreshToken: "rt-of-ann"}))
	must(t, db.PutToken("acme", "u2", Token{RefreshToken: "rt-of-bob"}))
	must(t, db.SetClientSecret("acme", ClientSecret{Value: "secret-of-acme"}))

	must(t, db.update(func(tx kvTx) error {
		acme := tx.Bucket(bktProfiles).Bucket([]byte("acme"))
		tokens := acme.Bucket(bktTokens)
		if err := tokens.Put([]byte("u2"), bytes.Clone(tokens.Get([]byte("u1")))); err != nil {
			return err
		}
		return tx.Bucket(bktProfiles).Bucket([]byte("other")).Put(keySecret, bytes.Clone(acme.Get(keySecret)))
	}))

	_, err := db.Token("acme", "u2")
	wantErr(t, err, ErrUnseal, `refresh token of user "u2" in profile "acme"`, "moved from another record")
	if strings.Contains(err.Error(), "rt-of-ann") {
		t.Errorf("error leaks the token: %v", err)
	}
	_, err = db.ClientSecret("other")
	wantErr(t, err, ErrUnseal, `client secret of profile "other"`)

	if tok, err := db.Token("acme", "u1"); err != nil || tok.RefreshToken.Reveal() != "rt-of-ann" {
		t.Errorf("the original token no longer opens: %v", err)
	}
}

func TestSealRejectsTampering(t *testing.T) {
	s, err := newSealer(bytes.Repeat([]byte{7}, keySize))
	must(t, err)
	blob := s.seal([]byte("value"), "a", "b")
	if plain, err := s.open(blob, "a", "b"); err != nil || string(plain) != "value" {
		t.Fatalf("open = %q, %v", plain, err)
	}
	if bytes.Equal(blob, s.seal([]byte("value"), "a", "b")) {
		t.Error("sealing twice gave the same bytes: nonce not random")
	}
	for i := range blob {
		bad := bytes.Clone(blob)
		bad[i] ^= 1
		if _, err := s.open(bad, "a", "b"); err == nil {
			t.Fatalf("flipping byte %d went unnoticed", i)
		}
	}
	if _, err := s.open(blob[:10], "a", "b"); err == nil {
		t.Error("a truncated value opened")
	}
	// Segment boundaries are part of the binding.
	if _, err := s.open(s.seal([]byte("v"), "a/b", "c"), "a", "b/c"); err == nil {
		t.Error(`("a/b","c") and ("a","b/c") bind to the same place`)
	}
	other, err := newSealer(bytes.Repeat([]byte{8}, keySize))
	must(t, err)
	if _, err := other.open(blob, "a", "b"); err == nil {
		t.Error("a value opened under another key")
	}
}
