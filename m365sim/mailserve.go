package m365sim

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// MailServers are the simulator's IMAP, POP and SMTP submission servers on
// loopback, speaking as Exchange Online does: implicit TLS for IMAP and
// POP, STARTTLS for SMTP, SASL XOAUTH2 against the simulator's own tokens,
// and Exchange's texts for every refusal.
type MailServers struct {
	IMAP, POP, SMTP string // host:port
	// TLS is what a client trusts the servers with: their certificate is
	// the simulator's own, for 127.0.0.1 and localhost.
	TLS *tls.Config

	sim       *Sim
	lns       []net.Listener
	serverTLS *tls.Config
	wg        sync.WaitGroup

	mu          sync.Mutex
	smtpOff     map[string]bool // user OID -> SMTP AUTH disabled for the mailbox
	smtpOffOrg  bool            // SMTP AUTH disabled for the tenant
	appDenied   map[string]bool // appID + " " + user OID -> no FullAccess/SendAs
	imapLogins  int
	smtpAccepts int
}

// StartMail starts the mail servers; they stop with the simulator. It is
// safe to call more than once: the servers start once.
func (s *Sim) StartMail() (*MailServers, error) {
	s.mailOnce.Do(func() { s.mailSrv, s.mailErr = s.startMail() })
	return s.mailSrv, s.mailErr
}

func (s *Sim) startMail() (*MailServers, error) {
	// TLS checks a certificate against the wall clock, whatever the
	// tenant's clock says: real time.
	cert, roots, err := loopbackCert(time.Now())
	if err != nil {
		return nil, fmt.Errorf("mail certificate: %w", err)
	}
	m := &MailServers{sim: s, smtpOff: map[string]bool{}, appDenied: map[string]bool{},
		serverTLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		TLS:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	for _, srv := range []struct {
		addr  *string
		tls   bool
		serve func(*mailConn)
	}{{&m.IMAP, true, m.serveIMAP}, {&m.POP, true, m.servePOP}, {&m.SMTP, false, m.serveSMTP}} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			m.Close()
			return nil, err
		}
		if srv.tls {
			ln = tls.NewListener(ln, m.serverTLS)
		}
		*srv.addr = ln.Addr().String()
		m.lns = append(m.lns, ln)
		m.wg.Add(1)
		go m.accept(ln, srv.serve)
	}
	return m, nil
}

// Close stops the servers.
func (m *MailServers) Close() {
	for _, ln := range m.lns {
		ln.Close()
	}
	m.wg.Wait()
}

// SetSMTPAuth turns SMTP AUTH on or off for u's mailbox, as
// Set-CASMailbox -SmtpClientAuthenticationDisabled does; nil u: for the
// tenant, as Set-TransportConfig does.
func (m *MailServers) SetSMTPAuth(u *User, enabled bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if u == nil {
		m.smtpOffOrg = !enabled
		return
	}
	m.smtpOff[u.ObjectID] = !enabled
}

// SetAppMailboxAccess gives or takes an app's FullAccess and SendAs on u's
// mailbox (Add-MailboxPermission, Add-RecipientPermission); apps have it
// on every mailbox until it is taken.
func (m *MailServers) SetAppMailboxAccess(appID string, u *User, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.appDenied[appID+" "+u.ObjectID] = !ok
}

func (m *MailServers) accept(ln net.Listener, serve func(*mailConn)) {
	defer m.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(time.Minute)) // a stuck client never holds a server: real time
			serve(&mailConn{c: c, r: bufio.NewReader(c)})
		}()
	}
}

// mailConn is one client connection.
type mailConn struct {
	c net.Conn
	r *bufio.Reader
}

func (c *mailConn) send(lines ...string) {
	for _, l := range lines {
		fmt.Fprint(c.c, l+"\r\n")
	}
}

func (c *mailConn) line() (string, bool) {
	l, err := c.r.ReadString('\n')
	if err != nil {
		return "", false
	}
	return strings.TrimRight(l, "\r\n"), true
}

// response is a SASL initial response: the one on the command line, or
// the line the client sends after the continuation cont.
func (c *mailConn) response(ir, cont string) (string, bool) {
	if ir != "" {
		return ir, true
	}
	c.send(cont)
	return c.line()
}

// startTLS upgrades the connection (SMTP's STARTTLS).
func (c *mailConn) startTLS(cfg *tls.Config) bool {
	tc := tls.Server(c.c, cfg)
	if tc.Handshake() != nil {
		return false
	}
	c.c, c.r = tc, bufio.NewReader(tc)
	return true
}

// mailLogin is who an XOAUTH2 response signed in, and for which mailbox.
type mailLogin struct {
	tenant  *Tenant
	user    *User // the token's user; nil for an app's token
	appID   string
	mailbox *User // user= of the response
}

// errMailRefused is every refused token: Exchange does not say why.
var errMailRefused = errors.New("refused")

// xoauth2 checks an XOAUTH2 initial response as Exchange Online does: a
// token of the simulator, unexpired, for Exchange, with the protocol's
// delegated scope or application role, for a mailbox of its tenant.
func (m *MailServers) xoauth2(ir, scope, role string) (*mailLogin, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(ir))
	if err != nil {
		return nil, errMailRefused
	}
	var user, token string
	for _, kv := range strings.Split(string(raw), "\x01") {
		if v, ok := strings.CutPrefix(kv, "user="); ok {
			user = v
		}
		if v, ok := strings.CutPrefix(kv, "auth=Bearer "); ok {
			token = v
		}
	}
	var claims accessClaims
	s := m.sim
	if user == "" || token == "" || s.verifyJWT(token, &claims) != nil ||
		!time.Unix(claims.Exp, 0).After(s.Clock.Now()) || !slices.Contains(exoAudiences, claims.Aud) {
		return nil, errMailRefused
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenant(claims.Tid)
	if t == nil {
		return nil, errMailRefused
	}
	l := &mailLogin{tenant: t, appID: claims.AppID, mailbox: t.userByAddress(user)}
	if l.mailbox == nil {
		l.mailbox = t.lookupUser(user)
	}
	if claims.Idtyp == "app" {
		if !containsFold(claims.Roles, role) {
			return nil, errMailRefused
		}
	} else if l.user = t.User(claims.Oid); l.user == nil || !containsFold(strings.Fields(claims.Scp), scope) {
		return nil, errMailRefused
	}
	if l.mailbox == nil || !l.mailbox.HasMailbox {
		return nil, errMailRefused
	}
	return l, nil
}

// mayOpen says whether the login may open its mailbox: a user their own,
// an app any it was not refused.
func (m *MailServers) mayOpen(l *mailLogin) bool {
	if l.user != nil {
		return l.user == l.mailbox
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.appDenied[l.appID+" "+l.mailbox.ObjectID]
}

// smtpAuthOff says where SMTP AUTH is off for the mailbox: "Tenant",
// "Mailbox" or "".
func (m *MailServers) smtpAuthOff(u *User) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.smtpOff[u.ObjectID]:
		return "Mailbox"
	case m.smtpOffOrg:
		return "Tenant"
	}
	return ""
}

// loopbackCert makes a self-signed certificate for 127.0.0.1 and
// localhost, valid a day either side of now, and the pool that trusts it.
func loopbackCert(now time.Time) (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "outlook.office365.com (simulated)"},
		NotBefore:    now.Add(-24 * time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots, nil
}
