package flows

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/store"
)

var certNow = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func testCertificate(t *testing.T) *ClientCertificate {
	t.Helper()
	cert, key, err := NewCertificate("CN=modauth test", 365*24*time.Hour, certNow)
	if err != nil {
		t.Fatal(err)
	}
	return &ClientCertificate{Cert: cert, Key: key}
}

// decodeAssertion splits a JWT into its header and claims as maps, and
// the signed input and signature.
func decodeAssertion(t *testing.T, jwt string) (h, c map[string]any, input string, sig []byte) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("assertion has %d parts", len(parts))
	}
	for i, out := range []*map[string]any{&h, &c} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	return h, c, parts[0] + "." + parts[1], sig
}

func TestSignAssertionPS256(t *testing.T) {
	cc := testCertificate(t)
	const aud = "https://login.microsoftonline.com/contoso/oauth2/v2.0/token"
	jwt, err := signAssertion(cc, "app-1", aud, certNow, false)
	if err != nil {
		t.Fatal(err)
	}
	h, c, input, sig := decodeAssertion(t, jwt)
	sum := sha256.Sum256(cc.Cert.Raw)
	if h["alg"] != "PS256" || h["typ"] != "JWT" || h["x5t#S256"] != base64.StdEncoding.EncodeToString(sum[:]) || h["x5t"] != nil {
		t.Errorf("header %v", h)
	}
	if c["aud"] != aud || c["iss"] != "app-1" || c["sub"] != "app-1" || c["iat"] != nil ||
		c["nbf"] != float64(certNow.Unix()) || c["exp"] != float64(certNow.Add(10*time.Minute).Unix()) || len(c["jti"].(string)) != 36 {
		t.Errorf("claims %v", c)
	}
	digest := sha256.Sum256([]byte(input))
	if err := rsa.VerifyPSS(&cc.Key.PublicKey, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
		t.Errorf("PS256 signature: %v", err)
	}
	again, _ := signAssertion(cc, "app-1", aud, certNow, false)
	if _, c2, _, _ := decodeAssertion(t, again); c2["jti"] == c["jti"] {
		t.Error("two assertions share a jti")
	}
}

func TestSignAssertionRS256(t *testing.T) {
	cc := testCertificate(t)
	jwt, err := signAssertion(cc, "app-1", "aud", certNow, true)
	if err != nil {
		t.Fatal(err)
	}
	h, _, input, sig := decodeAssertion(t, jwt)
	sum := sha1.Sum(cc.Cert.Raw)
	if h["alg"] != "RS256" || h["x5t"] != base64.RawURLEncoding.EncodeToString(sum[:]) || h["x5t#S256"] != nil {
		t.Errorf("header %v", h)
	}
	digest := sha256.Sum256([]byte(input))
	if err := rsa.VerifyPKCS1v15(&cc.Key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
		t.Errorf("RS256 signature: %v", err)
	}
}

func TestNewCertificateAndPEMExport(t *testing.T) {
	cc := testCertificate(t)
	if !cc.Cert.NotBefore.Equal(certNow.Add(-5*time.Minute)) || !cc.Cert.NotAfter.Equal(certNow.Add(365*24*time.Hour)) || cc.Key.N.BitLen() != 2048 {
		t.Errorf("certificate %v to %v, %d bits", cc.Cert.NotBefore, cc.Cert.NotAfter, cc.Key.N.BitLen())
	}
	if err := cc.Cert.CheckSignature(cc.Cert.SignatureAlgorithm, cc.Cert.RawTBSCertificate, cc.Cert.Signature); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	sc, err := cc.Stored("kid")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "moveit.pem")
	if err := store.WriteExport(path, sc.WritePEM); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export mode %v, %v", fi.Mode(), err)
	}
	data, _ := os.ReadFile(path)
	certBlock, rest := pem.Decode(data)
	keyBlock, _ := pem.Decode(rest)
	if certBlock == nil || keyBlock == nil || certBlock.Type != "CERTIFICATE" || keyBlock.Type != "PRIVATE KEY" {
		t.Fatalf("PEM blocks %v %v", certBlock, keyBlock)
	}
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil || !cert.Equal(cc.Cert) {
		t.Errorf("certificate back: %v", err)
	}
	key, err := x509.ParsePKCS8PrivateKey(keyBlock.Bytes)
	if err != nil || !cc.Key.Equal(key) {
		t.Errorf("key back: %v", err)
	}
	// Through the store and back, it is the same key.
	back, err := CertificateFromStore(sc)
	if err != nil || !back.Key.Equal(cc.Key) || !back.Cert.Equal(cc.Cert) || sc.Thumbprint != ThumbprintSHA1(cc.Cert.Raw) {
		t.Errorf("certificate from the store: %v", err)
	}
	other := testCertificate(t)
	sc.CertDER = other.Cert.Raw
	if _, err := CertificateFromStore(sc); err == nil {
		t.Error("a key with another certificate loaded")
	}
}

// TestCertificateKeyNeverPrints looks for the private key in fmt, JSON and
// slog output of a certificate.
func TestCertificateKeyNeverPrints(t *testing.T) {
	cc := testCertificate(t)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(cc.Key)
	canaries := []string{cc.Key.D.String(), cc.Key.Primes[0].String(), base64.StdEncoding.EncodeToString(pkcs8)[:40], fmt.Sprintf("%x", cc.Key.D.Bytes())[:40]}
	var out bytes.Buffer
	for _, v := range []any{cc, *cc, struct{ C *ClientCertificate }{cc}, struct{ C ClientCertificate }{*cc}} {
		fmt.Fprintf(&out, "%v %+v %#v %s\n", v, v, v, v)
		j, _ := json.Marshal(v)
		out.Write(j)
	}
	slog.New(slog.NewJSONHandler(&out, nil)).Info("cert", "c", cc, "v", *cc)
	slog.New(slog.NewTextHandler(&out, nil)).Info("cert", "c", cc, "v", *cc)
	for _, c := range canaries {
		if strings.Contains(out.String(), c) {
			t.Fatalf("private key in output:\n%s", out.String())
		}
	}
	if !strings.Contains(out.String(), ThumbprintSHA1(cc.Cert.Raw)) {
		t.Errorf("output does not name the thumbprint:\n%s", out.String())
	}
}
