package exchange_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modauth/modauth/exchange"
)

// mailPKI is a throwaway CA and a server certificate for 127.0.0.1 and
// localhost, made at test time so no key lives in the repository.
type mailPKI struct {
	certPEM []byte // server certificate, then the CA
	keyPEM  []byte
	cert    tls.Certificate
	roots   *x509.CertPool
}

func newMailPKI(t testing.TB) *mailPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// The wall clock, not the tests' instant: crypto/tls and the real mail
	// servers check a certificate's validity against it.
	now := time.Now() // real time: crypto/tls checks the certificates on the wall clock
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "modauth test mail CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := &mailPKI{roots: x509.NewCertPool()}
	p.roots.AddCert(ca)
	p.certPEM = append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)
	p.keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if p.cert, err = tls.X509KeyPair(p.certPEM, p.keyPEM); err != nil {
		t.Fatal(err)
	}
	return p
}

// client is the TLS configuration a probe uses to trust the test CA.
func (p *mailPKI) client() *tls.Config { return &tls.Config{RootCAs: p.roots} }

// mailFakeConn is one connection to a scripted fake server.
type mailFakeConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	pki  *mailPKI
}

// send writes lines, each with CRLF.
func (c *mailFakeConn) send(lines ...string) {
	for _, l := range lines {
		if _, err := c.conn.Write([]byte(l + "\r\n")); err != nil {
			return // the client went away; its result says why
		}
	}
}

// recv reads a line; "" with ok false when the client went away.
func (c *mailFakeConn) recv() (string, bool) {
	l, err := c.r.ReadString('\n')
	if err != nil {
		return "", false
	}
	return strings.TrimRight(l, "\r\n"), true
}

// expect reads a line and fails the test unless it is want. A client
// that went away is for the probe's result to explain.
func (c *mailFakeConn) expect(want string) bool {
	got, ok := c.recv()
	if ok && got != want {
		c.t.Errorf("fake server got %.60q, want %.60q", got, want)
	}
	return ok && got == want
}

// startTLS switches to TLS as the server.
func (c *mailFakeConn) startTLS() {
	tc := tls.Server(c.conn, &tls.Config{Certificates: []tls.Certificate{c.pki.cert}})
	c.conn, c.r = tc, bufio.NewReader(tc)
}

// mailFake serves handle on 127.0.0.1 until the test ends and returns the
// address. implicitTLS starts TLS before handle runs.
func mailFake(t *testing.T, pki *mailPKI, implicitTLS bool, handle func(c *mailFakeConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				c := &mailFakeConn{t: t, conn: conn, r: bufio.NewReader(conn), pki: pki}
				if implicitTLS {
					c.startTLS()
				}
				handle(c)
			})
		}
	})
	return ln.Addr().String()
}

// mailFakeIMAP is Exchange's side of an IMAP login, answering AUTHENTICATE
// with answers (continuations take an empty line in between).
func mailFakeIMAP(ir string, saslIR bool, answers ...string) func(c *mailFakeConn) {
	return func(c *mailFakeConn) {
		c.send("* OK The Microsoft Exchange IMAP4 service is ready.")
		if !c.expect("a1 CAPABILITY") {
			return
		}
		caps := "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+"
		if saslIR {
			caps += " SASL-IR"
		}
		c.send(caps, "a1 OK CAPABILITY completed.")
		if saslIR {
			if !c.expect("a2 AUTHENTICATE XOAUTH2 " + ir) {
				return
			}
		} else {
			if !c.expect("a2 AUTHENTICATE XOAUTH2") {
				return
			}
			c.send("+ ")
			if !c.expect(ir) {
				return
			}
		}
		mailFakeAnswer(c, answers, []mailStep{
			{"a3 EXAMINE INBOX", []string{"* 12 EXISTS", "* 0 RECENT", "* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)", "a3 OK [READ-ONLY] EXAMINE completed."}},
			{"a4 LOGOUT", []string{"* BYE Microsoft Exchange Server IMAP4 server signing off.", "a4 OK LOGOUT completed."}},
		})
	}
}

// mailFakePOP is Exchange's side of a POP login.
func mailFakePOP(ir string, answers ...string) func(c *mailFakeConn) {
	return func(c *mailFakeConn) {
		c.send("+OK The Microsoft Exchange POP3 service is ready.")
		if !c.expect("AUTH XOAUTH2") {
			return
		}
		c.send("+ ")
		if !c.expect(ir) {
			return
		}
		mailFakeAnswer(c, answers, []mailStep{
			{"STAT", []string{"+OK 12 482211"}},
			{"QUIT", []string{"+OK Microsoft Exchange Server POP3 server signing off."}},
		})
	}
}

// mailFakeSMTP is Exchange's side of SMTP submission up to AUTH.
func mailFakeSMTP(ir string, answers ...string) func(c *mailFakeConn) {
	return func(c *mailFakeConn) {
		c.send("220 AM0PR01CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready")
		if got, _ := c.recv(); !strings.HasPrefix(got, "EHLO [127.0.0.1]") {
			c.t.Errorf("fake server got %q, want EHLO with an address literal", got)
			return
		}
		c.send("250-AM0PR01CA0001.outlook.office365.com Hello", "250-SIZE 157286400", "250-PIPELINING", "250-STARTTLS", "250 SMTPUTF8")
		if !c.expect("STARTTLS") {
			return
		}
		c.send("220 2.0.0 SMTP server ready")
		c.startTLS()
		if got, _ := c.recv(); !strings.HasPrefix(got, "EHLO ") {
			c.t.Errorf("fake server got %q after STARTTLS, want EHLO", got)
			return
		}
		c.send("250-AM0PR01CA0001.outlook.office365.com Hello", "250-SIZE 157286400", "250-AUTH LOGIN XOAUTH2", "250 SMTPUTF8")
		if !c.expect("AUTH XOAUTH2 " + ir) {
			return
		}
		mailFakeAnswer(c, answers, []mailStep{
			{"MAIL FROM:<" + mailUser + ">", []string{"250 2.1.0 Sender OK"}},
			{"RSET", []string{"250 2.0.0 Resetting"}},
			{"QUIT", []string{"221 2.0.0 Service closing transmission channel"}},
		})
	}
}

// mailStep is a command the client must send after signing in, and the
// server's answer to it.
type mailStep struct {
	command string
	answer  []string
}

// mailFakeAnswer sends answers to the AUTH exchange: after a continuation
// ("+" or "334") the client must send an empty line. A success is
// followed by the session's steps after signing in. Answers after the
// success replace the first step's answer: how the mailbox refuses.
func mailFakeAnswer(c *mailFakeConn, answers []string, after []mailStep) {
	for i, a := range answers {
		c.send(a)
		if strings.HasPrefix(a, "+ ") || strings.HasPrefix(a, "334 ") {
			if !c.expect("") {
				return
			}
			continue
		}
		if !strings.HasPrefix(a, "a2 OK") && !strings.HasPrefix(a, "+OK") && !strings.HasPrefix(a, "235") {
			if i != len(answers)-1 {
				c.t.Errorf("fake server: answer %q ends the exchange, but more follow", a)
			}
			return
		}
		if refusal := answers[i+1:]; len(refusal) > 0 {
			if c.expect(after[0].command) {
				c.send(refusal...)
			}
			return
		}
		for _, step := range after {
			if !c.expect(step.command) {
				return
			}
			c.send(step.answer...)
		}
		return
	}
}

// mailProbeTo is a probe of addr trusting pki, with a short timeout.
func mailProbeTo(addr string, pki *mailPKI) exchange.MailProbe {
	return exchange.MailProbe{Addr: addr, TLS: pki.client(), Timeout: 5 * time.Second}
}
