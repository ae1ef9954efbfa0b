package m365sim

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// assertionType is the only client_assertion_type Entra takes.
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionSkew is how far nbf may lie ahead of the service's clock.
const assertionSkew = 5 * time.Minute

type assertionHeader struct {
	Alg     string `json:"alg"`
	X5t     string `json:"x5t"`
	X5tS256 string `json:"x5t#S256"`
}

type assertionClaims struct {
	Aud string `json:"aud"`
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Jti string `json:"jti"`
	Nbf int64  `json:"nbf"`
	Exp int64  `json:"exp"`
}

// errAssertionKey is AADSTS700027 as Entra words it when it finds no
// usable key for the assertion.
func errAssertionKey(reason, thumbprint, appID string) *Error {
	return aad(401, "invalid_client", 700027, "Client assertion contains an invalid signature. [Reason - %s, Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]", reason, thumbprint, appID)
}

// checkAssertion verifies a client assertion sent by app to the token
// endpoint of tenant t, as Entra does: the key by thumbprint among the
// app's certificates, the signature (PS256 or RS256), iss and sub, aud,
// the time range on the simulator's clock, and jti against replay. It
// returns the keyId of the certificate that signed.
func (s *Sim) checkAssertion(t *Tenant, app *App, r *http.Request) (string, *Error) {
	form := r.PostForm
	if form.Get("client_assertion_type") != assertionType {
		return "", aad(400, "invalid_request", 50027, "Invalid JWT token: client_assertion_type must be '%s'.", assertionType)
	}
	parts := strings.Split(form.Get("client_assertion"), ".")
	var h assertionHeader
	var c assertionClaims
	if len(parts) != 3 || decodeSegment(parts[0], &h) != nil || decodeSegment(parts[1], &c) != nil {
		return "", aad(400, "invalid_request", 50027, "Invalid JWT token. Token format not valid.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", aad(400, "invalid_request", 50027, "Invalid JWT token. Token format not valid.")
	}
	kc, thumb := app.certificateFor(h)
	now := s.Clock.Now()
	switch {
	case kc == nil || (h.Alg == "PS256" && app.refusePS256):
		return "", errAssertionKey("The key was not found.", thumb, app.ClientID)
	case !now.Before(kc.End):
		return "", errAssertionKey("The key used is expired.", thumb, app.ClientID)
	}
	cert, err := x509.ParseCertificate(kc.Cert)
	if err != nil {
		return "", errAssertionKey("The key was not found.", thumb, app.ClientID)
	}
	if !verifySignature(cert, h.Alg, parts[0]+"."+parts[1], sig) {
		return "", errAssertionKey("The provided signature value did not match the expected signature value.", thumb, app.ClientID)
	}
	if c.Iss != app.ClientID || c.Sub != app.ClientID {
		return "", aad(401, "invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .")
	}
	if !s.tokenEndpointOf(t, r, c.Aud) {
		return "", aad(401, "invalid_client", 700023, "Client assertion audience claim does not match Realm issuer. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .")
	}
	nbf, exp := time.Unix(c.Nbf, 0), time.Unix(c.Exp, 0)
	if c.Exp == 0 || !now.Before(exp) || nbf.After(now.Add(assertionSkew)) {
		return "", aad(401, "invalid_client", 700024, "Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .",
			aadTime(now), aadTime(nbf), aadTime(exp))
	}
	for id, until := range s.assertionIDs {
		if !now.Before(until) {
			delete(s.assertionIDs, id)
		}
	}
	key := app.ClientID + "/" + c.Jti
	if _, seen := s.assertionIDs[key]; seen || c.Jti == "" {
		return "", aad(401, "invalid_client", 50013, "Assertion failed signature validation. [Reason - The assertion was already used: its jti was seen before.]")
	}
	s.assertionIDs[key] = exp
	return kc.KeyID, nil
}

func aadTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

func decodeSegment(seg string, out any) error {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// certificateFor finds the app's certificate the header names: by
// x5t#S256 (SHA-256, standard or URL base64) or by x5t (SHA-1). thumb is
// the SHA-1 thumbprint in hex when known, for messages.
func (a *App) certificateFor(h assertionHeader) (kc *KeyCredential, thumb string) {
	for _, c := range a.Certificates {
		if c.Cert == nil {
			continue
		}
		s256, s1 := sha256.Sum256(c.Cert), sha1.Sum(c.Cert)
		if (h.X5tS256 != "" && anyBase64(s256[:], h.X5tS256)) || (h.X5tS256 == "" && h.X5t != "" && anyBase64(s1[:], h.X5t)) {
			return c, fmt.Sprintf("%X", s1[:])
		}
	}
	return nil, h.X5t + h.X5tS256
}

// anyBase64 reports whether enc is sum in standard or URL base64, padded
// or not: clients send both (microsoft.md §9.2).
func anyBase64(sum []byte, enc string) bool {
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if e.EncodeToString(sum) == enc {
			return true
		}
	}
	return false
}

func verifySignature(cert *x509.Certificate, alg, input string, sig []byte) bool {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return false // Entra takes RSA keys only
	}
	digest := sha256.Sum256([]byte(input))
	switch alg {
	case "PS256":
		return rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	case "RS256":
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
	}
	return false
}

// tokenEndpointOf reports whether aud is the v2 token endpoint of tenant
// t on this host, named by tenant ID or any of its domains.
func (s *Sim) tokenEndpointOf(t *Tenant, r *http.Request, aud string) bool {
	u, err := url.Parse(aud)
	if err != nil || u.Host != r.Host {
		return false
	}
	seg := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	return len(seg) == 4 && seg[1] == "oauth2" && seg[2] == "v2.0" && seg[3] == "token" && s.tenant(seg[0]) == t
}
