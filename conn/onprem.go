package conn

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/store"
)

// On-premises Exchange has no Entra: the connection is an EWS URL, a
// service account and its password (the profile's sealed secret), and
// perhaps one certificate trusted by its fingerprint.

// FindEWS asks Autodiscover for the EWS URL of email with the profile's
// service account.
func (c *Conn) FindEWS(ctx context.Context, email string) (string, error) {
	cs, _ := c.Secret()
	ad := exchange.Autodiscover{HTTP: c.onPremHTTP(), Username: c.prof.ServiceAccount, Password: cs.Value}
	if c.hosts.Autodiscover != "" {
		ad.URLs = []string{c.hosts.Autodiscover}
	}
	return ad.EWSURL(ctx, email)
}

// ServerCheck is what CheckServer found.
type ServerCheck struct {
	OK bool
	// Message says what happened; Fix what to do when not OK.
	Message, Fix string
	// Fingerprint is the SHA-256 of the certificate this machine does not
	// trust, for the person to compare and trust explicitly.
	Fingerprint string
	Err         error
}

// CheckServer signs the service account in to the profile's EWS: one
// GetFolder of its own inbox. An answer that it has no mailbox still
// proves the password; a refused password, a login page, an unoffered
// scheme or an untrusted certificate each say what to do.
func (c *Conn) CheckServer(ctx context.Context) ServerCheck {
	x, _ := c.EWS(store.User{})
	_, err := x.GetFolder(ctx, nil, "inbox")
	var ee *exchange.EWSError
	switch {
	case err == nil:
		return ServerCheck{OK: true, Message: c.prof.ServiceAccount + " signed in to " + c.hosts.EWS}
	case errors.As(err, &ee) && ee.Code != "" && ee.Status != http.StatusUnauthorized:
		// Exchange answered the request: the sign-in worked.
		return ServerCheck{OK: true, Message: c.prof.ServiceAccount + " signed in to " + c.hosts.EWS + " (it has no mailbox of its own: " + ee.Code + ")"}
	}
	chk := ServerCheck{Err: err, Message: err.Error()}
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	switch {
	case errors.As(err, &unknown), errors.As(err, &hostname):
		chk.Fingerprint = c.peerFingerprint(ctx)
		chk.Fix = "This machine does not trust the server's certificate (self-signed, an internal CA, or another name). Install the issuing CA in the system's trust store, " +
			"or compare the fingerprint below with the certificate on the server (IIS Manager > Server Certificates) and trust exactly that certificate."
	case errors.As(err, &ee):
		chk.Fix = ee.Fix()
	default:
		chk.Fix = "Check the EWS URL (https://<server>/EWS/Exchange.asmx), that the server answers from this machine, and its firewall."
	}
	return chk
}

// Fingerprint is a certificate's SHA-256, as hex.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// peerFingerprint is the fingerprint of the certificate the EWS server
// presents, read without trusting it, only to show it.
func (c *Conn) peerFingerprint(ctx context.Context) string {
	u, err := url.Parse(c.hosts.EWS)
	if err != nil {
		return ""
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "443")
	}
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, ServerName: u.Hostname()}} //nolint:gosec // read to show, never to trust
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return ""
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return ""
	}
	return Fingerprint(certs[0])
}

// onPremHTTP is the HTTP client for on-premises servers: the usual one,
// or with the profile's one trusted certificate accepted by its
// fingerprint, and only that certificate.
func (c *Conn) onPremHTTP() *http.Client {
	want := strings.ToLower(strings.ReplaceAll(c.hosts.TrustedCert, ":", ""))
	if want == "" {
		return c.d.HTTP
	}
	base, _ := c.d.HTTP.Transport.(*http.Transport)
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	t := base.Clone()
	cfg := &tls.Config{}
	if t.TLSClientConfig != nil {
		cfg = t.TLSClientConfig.Clone()
	}
	roots := cfg.RootCAs
	var name string
	if u, err := url.Parse(c.hosts.EWS); err == nil {
		name = u.Hostname()
	}
	cfg.InsecureSkipVerify = true //nolint:gosec // VerifyPeerCertificate below does the verifying
	cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("no certificate")
		}
		leaf, err := x509.ParseCertificate(raw[0])
		if err != nil {
			return err
		}
		if Fingerprint(leaf) == want {
			return nil // the one the person compared and trusted
		}
		// Any other certificate must be trusted the usual way.
		inter := x509.NewCertPool()
		for _, r := range raw[1:] {
			if ic, err := x509.ParseCertificate(r); err == nil {
				inter.AddCert(ic)
			}
		}
		_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: name})
		if err != nil {
			return fmt.Errorf("the certificate is not the trusted one (%s) and not trusted otherwise: %w", want[:min(16, len(want))], err)
		}
		return nil
	}
	t.TLSClientConfig = cfg
	hc := *c.d.HTTP
	hc.Transport = t
	return &hc
}
