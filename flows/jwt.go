package flows

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Tokens are secrets, so no error in this file quotes a token or any value
// decoded from one; JSON errors are reduced to an offset or a claim name.

// Claims are the id_token and access token claims modauth reads.
type Claims struct {
	Iss, Sub, Aud, Tid, Oid        string // store users by oid+tid; Aud is the first audience
	PreferredUsername, Name, Email string // display only: mutable, never authorize on them
	Nonce, Ver, Scp, AppID         string // AppID is appid (v1) or azp (v2)

	Roles []string

	Exp, Iat, Nbf int64 // Unix seconds; 0 when absent
}

// Expiry returns the exp claim as a time, or the zero time if there is none.
func (c Claims) Expiry() time.Time {
	if c.Exp == 0 {
		return time.Time{}
	}
	return time.Unix(c.Exp, 0)
}

// jwtPayload is the wire form of Claims.
type jwtPayload struct {
	Iss               string          `json:"iss"`
	Sub               string          `json:"sub"`
	Aud               json.RawMessage `json:"aud"` // a string or an array of strings
	Tid               string          `json:"tid"`
	Oid               string          `json:"oid"`
	PreferredUsername string          `json:"preferred_username"`
	Name              string          `json:"name"`
	Email             string          `json:"email"`
	Nonce             string          `json:"nonce"`
	Ver               string          `json:"ver"`
	Scp               string          `json:"scp"`
	AppID             string          `json:"appid"` // v1 access tokens
	Azp               string          `json:"azp"`   // v2 access tokens
	Roles             []string        `json:"roles"`
	Exp               json.Number     `json:"exp"`
	Iat               json.Number     `json:"iat"`
	Nbf               json.Number     `json:"nbf"`
}

// ParseClaims decodes a JWT's payload without verifying it. The aud claim may
// be a string or an array, of which the first element is taken.
func ParseClaims(token string) (Claims, error) {
	parts, err := splitJWT(token)
	if err != nil {
		return Claims{}, err
	}
	return jwtClaims(parts[1])
}

// JWKS is a JSON Web Key Set as served at jwks_uri.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWK is one key of a JWKS. modauth uses only RSA signing keys.
type JWK struct {
	Kty string   `json:"kty"`
	Use string   `json:"use,omitempty"`
	Kid string   `json:"kid"`
	N   string   `json:"n"`
	E   string   `json:"e"`
	X5c []string `json:"x5c,omitempty"`
}

// Verify checks the token's RS256 signature against the key of the set named
// by the token's kid, and returns the claims. It does not check iss, aud or
// exp: ValidateIDToken does.
func (s JWKS) Verify(token string) (Claims, error) {
	parts, err := splitJWT(token)
	if err != nil {
		return Claims{}, err
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment("header", parts[0], &h); err != nil {
		return Claims{}, err
	}
	// Only RS256: accepting "none" or HS256 would let anyone forge a token.
	if h.Alg != "RS256" {
		return Claims{}, errors.New("jwt: signing algorithm is not RS256")
	}
	key, err := s.key(h.Kid)
	if err != nil {
		return Claims{}, err
	}
	sig, err := jwtBase64(parts[2])
	if err != nil {
		return Claims{}, fmt.Errorf("jwt: signature is not valid base64url: %w", err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
		return Claims{}, fmt.Errorf("jwt: bad signature: %w", err)
	}
	return jwtClaims(parts[1])
}

// clockSkew is the clock difference allowed between modauth and Entra ID.
const clockSkew = 5 * time.Minute

// ValidateIDToken verifies the signature and checks that iss is wantIssuer,
// aud is clientID, the token has not expired (allowing 5 minutes of clock
// skew), and nonce is wantNonce when wantNonce is not empty. A "{tenantid}"
// in wantIssuer, as in the discovery document of /organizations and /common,
// stands for the token's tid.
func (s JWKS) ValidateIDToken(token, wantIssuer, clientID, wantNonce string, now time.Time) (Claims, error) {
	if wantIssuer == "" || clientID == "" {
		return Claims{}, errors.New("jwt: issuer and client ID are required to validate an id token")
	}
	c, err := s.Verify(token)
	if err != nil {
		return Claims{}, err
	}
	if c.Tid != "" {
		wantIssuer = strings.ReplaceAll(wantIssuer, "{tenantid}", c.Tid)
	}
	switch {
	case c.Iss != wantIssuer:
		return Claims{}, fmt.Errorf("jwt: id token was not issued by %s", wantIssuer)
	case c.Aud != clientID:
		return Claims{}, fmt.Errorf("jwt: id token is not for client ID %s", clientID)
	case c.Exp == 0:
		return Claims{}, errors.New("jwt: id token has no expiry")
	case now.After(c.Expiry().Add(clockSkew)):
		return Claims{}, errors.New("jwt: id token has expired")
	case c.Nbf != 0 && now.Add(clockSkew).Before(time.Unix(c.Nbf, 0)):
		return Claims{}, errors.New("jwt: id token is not valid yet (check the clock)")
	case wantNonce != "" && c.Nonce != wantNonce:
		return Claims{}, errors.New("jwt: id token nonce does not match the sign-in request")
	}
	return c, nil
}

// key returns the RSA public key with the given kid.
func (s JWKS) key(kid string) (*rsa.PublicKey, error) {
	for _, k := range s.Keys {
		if kid == "" || k.Kid != kid {
			continue
		}
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			return nil, errors.New("jwt: signing key is not an RSA signature key")
		}
		return k.rsa()
	}
	// Entra ID rolls its keys: a stale set is the usual reason.
	return nil, errors.New("jwt: signing key not found in the key set (refetch jwks_uri)")
}

func (k JWK) rsa() (*rsa.PublicKey, error) {
	nb, err := jwtBase64(k.N)
	if err != nil {
		return nil, fmt.Errorf("jwt: key modulus is not valid base64url: %w", err)
	}
	eb, err := jwtBase64(k.E)
	if err != nil {
		return nil, fmt.Errorf("jwt: key exponent is not valid base64url: %w", err)
	}
	n := new(big.Int).SetBytes(nb)
	e := new(big.Int).SetBytes(eb)
	// Entra ID keys are 2048 bits with e = 65537; anything far off is damage.
	if n.BitLen() < 2048 || n.BitLen() > 8192 {
		return nil, fmt.Errorf("jwt: key modulus has %d bits, want 2048 to 8192", n.BitLen())
	}
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 {
		return nil, errors.New("jwt: key exponent is not a valid RSA exponent")
	}
	return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
}

// splitJWT splits a compact JWS into its three parts.
func splitJWT(token string) ([]string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("jwt: token has %d parts, want 3", len(parts))
	}
	return parts, nil
}

// jwtBase64 decodes base64url, tolerating the padding some encoders add.
func jwtBase64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// decodeSegment decodes one base64url JSON part of a token into v.
func decodeSegment(what, part string, v any) error {
	b, err := jwtBase64(part)
	if err != nil {
		return fmt.Errorf("jwt: %s is not valid base64url: %w", what, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return fmt.Errorf("jwt: %s is not valid JSON (at byte %d)", what, syn.Offset)
		case errors.As(err, &typ) && typ.Field != "":
			return fmt.Errorf("jwt: %s field %s has the wrong type", what, typ.Field)
		}
		return fmt.Errorf("jwt: %s is not a JSON object", what)
	}
	return nil
}

func jwtClaims(payload string) (Claims, error) {
	var p jwtPayload
	if err := decodeSegment("payload", payload, &p); err != nil {
		return Claims{}, err
	}
	aud, err := audience(p.Aud)
	if err != nil {
		return Claims{}, err
	}
	c := Claims{
		Iss: p.Iss, Sub: p.Sub, Aud: aud, Tid: p.Tid, Oid: p.Oid,
		PreferredUsername: p.PreferredUsername, Name: p.Name, Email: p.Email,
		Nonce: p.Nonce, Ver: p.Ver, Scp: p.Scp, AppID: p.AppID, Roles: p.Roles,
	}
	if c.AppID == "" {
		c.AppID = p.Azp
	}
	for _, t := range []struct {
		name string
		num  json.Number
		dst  *int64
	}{{"exp", p.Exp, &c.Exp}, {"iat", p.Iat, &c.Iat}, {"nbf", p.Nbf, &c.Nbf}} {
		if *t.dst, err = numericTime(t.num); err != nil {
			return Claims{}, fmt.Errorf("jwt: payload field %s is not a time", t.name)
		}
	}
	return c, nil
}

// audience takes the aud claim, or its first element when it is an array.
func audience(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one, nil
	}
	var many []string
	if json.Unmarshal(raw, &many) != nil {
		return "", errors.New("jwt: payload field aud has the wrong type")
	}
	if len(many) == 0 {
		return "", nil
	}
	return many[0], nil
}

// numericTime reads a NumericDate, which RFC 7519 allows to have a fraction.
func numericTime(n json.Number) (int64, error) {
	if n == "" {
		return 0, nil
	}
	if i, err := n.Int64(); err == nil {
		return i, nil
	}
	f, err := n.Float64()
	if err != nil || f < -1<<62 || f > 1<<62 {
		return 0, errors.New("out of range")
	}
	return int64(f), nil
}
