package flows

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/modauth/modauth/internal/guid"
)

// ClientCertificate is an app's certificate credential: the certificate
// uploaded to the app registration and its private key, which never
// leaves modauth except in an export the person asks for.
type ClientCertificate struct {
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
}

// String keeps the private key out of fmt: only the thumbprint shows.
func (c ClientCertificate) String() string {
	if c.Cert == nil {
		return "certificate(none)"
	}
	return "certificate(" + ThumbprintSHA1(c.Cert.Raw) + ")"
}

// GoString is String, for %#v.
func (c ClientCertificate) GoString() string { return c.String() }

// LogValue is String, for slog.
func (c ClientCertificate) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON is String, so that no encoding carries the key.
func (c ClientCertificate) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// AssertionType is the client_assertion_type of a certificate credential.
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime is how long a client assertion is valid: MSAL Go's
// ten minutes (microsoft.md §9.2).
const assertionLifetime = 10 * time.Minute

// ThumbprintSHA1 is a certificate's SHA-1 thumbprint in hex capitals, as
// the portal and Graph's customKeyIdentifier show it.
func ThumbprintSHA1(der []byte) string {
	sum := sha1.Sum(der)
	return fmt.Sprintf("%X", sum[:])
}

// assertionHeader is the JOSE header of a client assertion: PS256 with
// x5t#S256 as MSAL Go sends it today, or RS256 with x5t for tenants that
// refuse PS256 (AADSTS700027, microsoft.md §9.2).
type assertionHeader struct {
	Alg     string `json:"alg"`
	Typ     string `json:"typ"`
	X5t     string `json:"x5t,omitempty"`
	X5tS256 string `json:"x5t#S256,omitempty"`
}

// assertionClaims are a client assertion's claims: no iat, as MSAL Go.
type assertionClaims struct {
	Aud string `json:"aud"`
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Jti string `json:"jti"`
	Nbf int64  `json:"nbf"`
	Exp int64  `json:"exp"`
}

// signAssertion signs a client assertion for clientID to the token
// endpoint aud. legacy chooses RS256 with the SHA-1 x5t (base64url, RFC
// 7515) over PS256 with x5t#S256 (standard padded base64, as MSAL Go).
func signAssertion(c *ClientCertificate, clientID, aud string, now time.Time, legacy bool) (string, error) {
	if c == nil || c.Cert == nil || c.Key == nil {
		return "", fmt.Errorf("sign client assertion: no certificate: make or load the profile's certificate first")
	}
	h := assertionHeader{Alg: "PS256", Typ: "JWT"}
	if legacy {
		sum := sha1.Sum(c.Cert.Raw)
		h.Alg, h.X5t = "RS256", base64.RawURLEncoding.EncodeToString(sum[:])
	} else {
		sum := sha256.Sum256(c.Cert.Raw)
		h.X5tS256 = base64.StdEncoding.EncodeToString(sum[:])
	}
	jti, err := guid.New()
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	cl := assertionClaims{Aud: aud, Iss: clientID, Sub: clientID, Jti: jti, Nbf: now.Unix(), Exp: now.Add(assertionLifetime).Unix()}
	hj, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	cj, err := json.Marshal(cl)
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	input := base64.RawURLEncoding.EncodeToString(hj) + "." + base64.RawURLEncoding.EncodeToString(cj)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	if legacy {
		sig, err = rsa.SignPKCS1v15(rand.Reader, c.Key, crypto.SHA256, digest[:])
	} else {
		// PS256 (RFC 7518 §3.5): MGF1 with SHA-256, salt as long as the hash.
		sig, err = rsa.SignPSS(rand.Reader, c.Key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	}
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
