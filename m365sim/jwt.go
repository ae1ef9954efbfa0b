package m365sim

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
)

// sign returns an RS256 JWT over claims, signed with the simulator's key.
func (s *Sim) sign(claims map[string]any) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": s.kid})
	payload, _ := json.Marshal(claims)
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, s.key, crypto.SHA256, sum[:])
	if err != nil {
		panic("m365sim: sign: " + err.Error()) // only on a broken key
	}
	return signing + "." + enc.EncodeToString(sig)
}

// PublicKey returns the key tokens are signed with, for tests and for
// mail servers that validate tokens locally.
func (s *Sim) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// handleKeys serves the JWKS.
func (s *Sim) handleKeys(w http.ResponseWriter, r *http.Request) {
	if s.tenant(r.PathValue("tenant")) == nil {
		s.writeError(w, errTenantNotFound(r.PathValue("tenant")))
		return
	}
	enc := base64.RawURLEncoding
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
		"kty": "RSA",
		"use": "sig",
		"kid": s.kid,
		"n":   enc.EncodeToString(s.key.PublicKey.N.Bytes()),
		"e":   enc.EncodeToString(big.NewInt(int64(s.key.PublicKey.E)).Bytes()),
	}}})
}
