package flows

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/modauth/modauth/store"
)

// certKeyBits is the RSA key size: Entra takes RSA only (no ECDSA,
// microsoft.md §9.2), and 2048 bits is what the portal's docs make.
const certKeyBits = 2048

// NewCertificate makes an RSA key pair and a self-signed certificate for
// it, valid from five minutes before now (clocks differ) for lifetime.
func NewCertificate(subject string, lifetime time.Duration, now time.Time) (*x509.Certificate, *rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, certKeyBits)
	if err != nil {
		return nil, nil, fmt.Errorf("make certificate: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("make certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: subject},
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              now.Add(lifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("make certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("make certificate: %w", err)
	}
	return cert, key, nil
}

// Stored is the certificate as the store seals it, under Entra's keyId.
func (c *ClientCertificate) Stored(keyID string) (store.ClientCertificate, error) {
	key, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return store.ClientCertificate{}, fmt.Errorf("store certificate: %w", err)
	}
	return store.ClientCertificate{KeyID: keyID, Thumbprint: ThumbprintSHA1(c.Cert.Raw), NotAfter: c.Cert.NotAfter,
		CertDER: c.Cert.Raw, KeyPKCS8: store.Secret(key)}, nil
}

// CertificateFromStore turns a sealed certificate credential back into one
// that signs.
func CertificateFromStore(sc store.ClientCertificate) (*ClientCertificate, error) {
	cert, err := x509.ParseCertificate(sc.CertDER)
	if err != nil {
		return nil, fmt.Errorf("load certificate %s: %w: make a new certificate", sc.Thumbprint, err)
	}
	key, err := x509.ParsePKCS8PrivateKey([]byte(sc.KeyPKCS8.Reveal()))
	if err != nil {
		// The parser's error does not quote the key.
		return nil, fmt.Errorf("load certificate %s: private key: %w: make a new certificate", sc.Thumbprint, err)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok || !rk.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("load certificate %s: the private key is not the certificate's: make a new certificate", sc.Thumbprint)
	}
	return &ClientCertificate{Cert: cert, Key: rk}, nil
}
