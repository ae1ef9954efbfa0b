package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync/atomic"
)

// sealVersion is the first byte of every sealed value: AES-256-GCM with a
// 12-byte random nonce. A new scheme gets a new version so old values still
// open.
const sealVersion byte = 1

const nonceSize = 12

// sealer seals values with AES-256-GCM. Every value is bound to where it is
// stored (its bucket path and key) through GCM's additional data, so a sealed
// refresh token copied into another user's record fails to open instead of
// signing in as the wrong person.
type sealer struct {
	aead  cipher.AEAD
	opens atomic.Int64 // calls of open, for DB.Unseals
}

func newSealer(key []byte) (*sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	return &sealer{aead: aead}, nil
}

// seal returns version || nonce || ciphertext, bound to place.
func (s *sealer) seal(plain []byte, place ...string) []byte {
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plain)+s.aead.Overhead())
	out[0] = sealVersion
	nonce := out[1 : 1+nonceSize]
	rand.Read(nonce) // never fails since Go 1.24
	return s.aead.Seal(out, nonce, plain, boundTo(sealVersion, place))
}

// open reverses seal. The error wraps ErrUnseal and says nothing of the value.
func (s *sealer) open(blob []byte, place ...string) ([]byte, error) {
	s.opens.Add(1)
	if len(blob) < 1+nonceSize+s.aead.Overhead() {
		return nil, fmt.Errorf("%w: too short", ErrUnseal)
	}
	if blob[0] != sealVersion {
		return nil, fmt.Errorf("%w: unknown seal version %d", ErrUnseal, blob[0])
	}
	plain, err := s.aead.Open(nil, blob[1:1+nonceSize], blob[1+nonceSize:], boundTo(blob[0], place))
	if err != nil {
		return nil, fmt.Errorf("%w: it was damaged, moved from another record, or sealed with another key", ErrUnseal)
	}
	return plain, nil
}

// boundTo builds the additional data: the version byte, then each path
// segment with its length in front, so ("a/b", "c") and ("a", "b/c") differ
// even though user keys may contain any byte.
func boundTo(version byte, place []string) []byte {
	ad := []byte{version}
	for _, p := range place {
		ad = binary.AppendUvarint(ad, uint64(len(p)))
		ad = append(ad, p...)
	}
	return ad
}

// keyCheckPlain is sealed into meta/keycheck when a database is created, so
// that Open can tell a wrong key file at once, not at the first secret.
const keyCheckPlain = "modauth key check"

func (db *DB) checkKey(tx kvTx) error {
	meta := tx.Bucket(bktMeta)
	blob := meta.Get(keyKeyCheck)
	if blob == nil {
		return meta.Put(keyKeyCheck, db.seal.seal([]byte(keyCheckPlain), "meta", "keycheck"))
	}
	plain, err := db.seal.open(blob, "meta", "keycheck")
	if err != nil || string(plain) != keyCheckPlain {
		return errorf(ErrWrongKey,
			"key file %s does not match database %s: restore the key file that was created with this database",
			db.keyFile, db.path)
	}
	return nil
}
