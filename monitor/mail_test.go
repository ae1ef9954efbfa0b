package monitor_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// A mail-protocol profile's job is a sign-in probe with the user's Outlook
// token: here the IMAP server is down, so the user is unreachable, with
// the address in the error. (The probes themselves meet real Dovecot and
// Postfix in the exchange package.)
func TestMailProbeJob(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.app = f.sim.App // the demo app: IMAP, POP, SMTP delegated
	f.sim.GrantAdminConsent(f.sim.Tenant, f.app)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	j := imapJob(f, addr)
	if j.State != store.StateUnreachable || j.LastError == nil || !strings.Contains(j.LastError.Message, addr) {
		t.Errorf("job %s %+v", j.State, j.LastError)
	}
	if n := f.eng.Stats.TokenRequests.Load(); n != 1 {
		t.Errorf("%d token requests: the Outlook token must be fetched once", n)
	}
}

// Exchange Online can take a good token and refuse the mailbox at the next
// command. The job must not end ok: it ends mailbox-access-denied with the
// probe's own fix (FullAccess for the signed-in account), which is what
// FixFor, and so the dashboard and the report, show.
func TestMailRefusalKeepsTheProbesFix(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.app = f.sim.App
	f.sim.GrantAdminConsent(f.sim.Tenant, f.app)
	addr, roots := fakeIMAP(t, "a3 BAD User is authenticated but not connected.")
	f.eng = monitor.New(f.db, monitor.Options{HTTPClient: f.sim.HTTPClient(), Now: f.sim.Clock.Now, Sleep: testkit.Sleep(f.sim),
		MailTLS: &tls.Config{RootCAs: roots, ServerName: "example.com"}})
	j := imapJob(f, addr)
	if j.State != store.StateMailboxDenied || j.LastError == nil {
		t.Fatalf("job %s %+v", j.State, j.LastError)
	}
	fix := monitor.FixFor(j)
	if !strings.Contains(fix, "Add-MailboxPermission -Identity "+anna) || strings.Contains(fix, "Consent is missing") {
		t.Errorf("fix %q", fix)
	}
	if !strings.Contains(j.LastError.Meaning, "authenticated but not connected") {
		t.Errorf("meaning %q: the server's answer", j.LastError.Meaning)
	}
}

// fakeIMAP is Exchange Online's IMAP taking any token and answering
// EXAMINE with examine. It returns its address and the roots to trust.
func fakeIMAP(t *testing.T, examine string) (string, *x509.CertPool) {
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS() // for its certificate, made for example.com and 127.0.0.1
	t.Cleanup(ts.Close)
	roots := x509.NewCertPool()
	roots.AddCert(ts.Certificate())
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: ts.TLS.Certificates})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				fmt.Fprint(c, "* OK The Microsoft Exchange IMAP4 service is ready.\r\n")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch tag, cmd, _ := strings.Cut(strings.TrimSpace(line), " "); {
					case strings.HasPrefix(cmd, "CAPABILITY"):
						fmt.Fprintf(c, "* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR\r\n%s OK CAPABILITY completed.\r\n", tag)
					case strings.HasPrefix(cmd, "AUTHENTICATE XOAUTH2 "):
						fmt.Fprintf(c, "%s OK AUTHENTICATE completed.\r\n", tag)
					case strings.HasPrefix(cmd, "EXAMINE"):
						fmt.Fprint(c, examine+"\r\n")
					default:
						fmt.Fprintf(c, "* BYE\r\n%s OK LOGOUT completed.\r\n", tag)
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), roots
}

// imapJob runs the job of Anna, signed in for IMAP on the server at addr.
func imapJob(f *fixture, addr string) store.Job {
	f.putProfile(store.Profile{Model: store.Delegated, Protocols: []store.Protocol{store.IMAP},
		Scopes: []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access", "openid", "profile"}})
	p, _ := f.db.Profile(pid)
	p.Hosts.IMAP = addr
	f.db.PutProfile(p)
	f.user("AV", anna, store.MappingOK)
	f.signInScopes("AV", anna, p.Scopes)
	f.sweep()
	return f.job("AV")
}
