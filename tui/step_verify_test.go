package tui

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

const (
	verifyPID  = "acme-production"
	verifyAnna = "anna.devries@contoso.com"
)

var verifyGraphScopes = []string{
	"https://graph.microsoft.com/Calendars.ReadWrite", "https://graph.microsoft.com/Contacts.ReadWrite",
	"https://graph.microsoft.com/Tasks.ReadWrite", "openid", "profile", "offline_access",
}

// verifyGraphApp registers a per-user Graph app with admin consent.
func verifyGraphApp(h *harness) *m365sim.App {
	app := h.sim.RegisterApp(h.sim.Tenant, m365sim.AppSpec{
		DisplayName: "x", PublicRedirectURIs: []string{"http://localhost"}, FallbackPublicClient: true,
		Required: []string{"Calendars.ReadWrite", "Contacts.ReadWrite", "Tasks.ReadWrite", "offline_access", "openid", "profile", "User.Read"},
	})
	h.sim.GrantAdminConsent(h.sim.Tenant, app)
	return app
}

// verifyAt stores a profile that finished the consent step, with anna as
// its user, and reopens the interface on it: it resumes at the test.
func verifyAt(t *testing.T, h *harness, app *m365sim.App, p store.Profile, u store.User) {
	t.Helper()
	p.ID, p.Customer, p.Environment, p.Preset = verifyPID, "Acme", "production", "generic"
	p.TenantID, p.ClientID, p.WizardStep = h.sim.Tenant.ID, app.ClientID, common.StepConsent
	p.Folders = []string{"calendar", "contacts", "tasks"}
	hosts := h.options().Hosts
	if p.Hosts.IMAP != "" || p.Hosts.SMTP != "" {
		hosts.IMAP, hosts.SMTP = p.Hosts.IMAP, p.Hosts.SMTP
	}
	p.Hosts = hosts
	if err := h.db.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	su := h.sim.Tenant.User(verifyAnna)
	u.Key, u.Name, u.Account, u.UPN = "AV", "Anna de Vries", verifyAnna, verifyAnna
	u.ObjectID, u.PrimarySMTP, u.Mapping = su.ObjectID, su.Mail, store.MappingOK
	if err := h.db.PutUsers(verifyPID, u); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) verifyOpen() {
	h.t.Helper()
	h.open()
	if h.step() != common.StepVerify {
		h.t.Fatalf("resumed at %s:\n%s", h.step(), h.screen())
	}
}

// verifySignIn signs anna in by device code and stores the token, as the
// consent step does.
func verifySignIn(t *testing.T, h *harness, app *m365sim.App, scopes []string) store.Token {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o := h.options()
	c, err := flows.New(ctx, flows.Config{Authority: h.sim.URL, Tenant: h.sim.Tenant.ID, ClientID: app.ClientID,
		HTTPClient: h.sim.HTTPClient(), Now: h.sim.Clock.Now, Sleep: o.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := c.StartDeviceCode(ctx, scopes)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.sim.ApproveDevice(dc.UserCode, verifyAnna); err != nil {
		t.Fatal(err)
	}
	tok, err := c.PollDeviceCode(ctx, dc)
	if err != nil {
		t.Fatal(err)
	}
	st := tok.Stored()
	st.Scopes = scopes
	if err := h.db.PutToken(verifyPID, "AV", st); err != nil {
		t.Fatal(err)
	}
	return st
}

var verifySpaces = regexp.MustCompile(`\s+`)

// verifySees is sees for text the screen may have wrapped: runs of
// spaces and line breaks count as one space.
func (h *harness) verifySees(texts ...string) {
	h.t.Helper()
	s := verifySpaces.ReplaceAllString(h.screen(), " ")
	for _, text := range texts {
		if !strings.Contains(s, text) {
			h.t.Fatalf("the screen lacks %q:\n%s", text, h.screen())
		}
	}
}

func (h *harness) verifyLacks(texts ...string) {
	h.t.Helper()
	s := verifySpaces.ReplaceAllString(h.screen(), " ")
	for _, text := range texts {
		if text != "" && strings.Contains(s, text) {
			h.t.Fatalf("the screen shows %q:\n%s", text, h.screen())
		}
	}
}

// A delegated Graph profile: the test refreshes anna's sign-in, stores
// the rotated refresh token, reads a page of her calendar, and enter
// finishes the wizard.
func TestVerifyGraphPassesAndFinishes(t *testing.T) {
	h := newHarness(t)
	app := verifyGraphApp(h)
	verifyAt(t, h, app, store.Profile{Model: store.Delegated, Protocols: []store.Protocol{store.Graph}, Scopes: verifyGraphScopes},
		store.User{Consent: store.ConsentDone})
	signedIn := verifySignIn(t, h, app, verifyGraphScopes)
	h.verifyOpen()
	h.sees("step 6 of 6", "Anna de Vries", verifyAnna, "t or enter tests")
	h.fits()

	// The test runs in a command: Update returns at once, busy.
	_, cmd := h.m.Update(press("enter"))
	if !h.m.wiz.current().Busy() || cmd == nil {
		t.Fatal("enter did not start the test as a command")
	}
	h.sees("testing…", "Testing 1 of 1 protocols")
	h.keys("<enter>") // waits for the result
	if h.m.finished {
		t.Fatal("enter finished while the test ran")
	}
	h.run(cmd)
	h.sees("✓ Graph", "read the calendar", "✓ Graph works.")
	h.lacks("All 1")
	h.fits()
	if h.m.wiz.current().Busy() {
		t.Error("still busy after every result came")
	}
	stored, err := h.db.Token(verifyPID, "AV")
	if err != nil {
		t.Fatal(err)
	}
	if stored.RefreshToken == signedIn.RefreshToken || stored.Refreshed.IsZero() {
		t.Error("the rotated refresh token was not stored")
	}
	if len(stored.Scopes) != len(verifyGraphScopes) {
		t.Errorf("stored scopes %v: the consented ones must stay", stored.Scopes)
	}
	h.verifyLacks(stored.RefreshToken.Reveal(), signedIn.RefreshToken.Reveal())

	h.keys("<enter>")
	h.sees("Setup of acme-production is complete")
	if p, _ := h.db.Profile(verifyPID); p.WizardStep != common.StepVerify {
		t.Errorf("progress %q", p.WizardStep)
	}
}

// Revoked sessions: the refresh fails with AADSTS50173 and the fix is a
// new sign-in; enter then asks before finishing unverified.
func TestVerifyRevokedSessionAsksToContinue(t *testing.T) {
	h := newHarness(t)
	app := verifyGraphApp(h)
	verifyAt(t, h, app, store.Profile{Model: store.Delegated, Protocols: []store.Protocol{store.Graph}, Scopes: verifyGraphScopes},
		store.User{Consent: store.ConsentDone})
	verifySignIn(t, h, app, verifyGraphScopes)
	h.sim.RevokeSessions(h.sim.Tenant.User(verifyAnna))
	h.verifyOpen()
	h.keys("t")
	h.sees("✗ Graph")
	h.verifySees("aadsts50173", "Fix: The user signs in again", "1 of 1 failed")
	h.fits()

	h.keys("<enter>")
	h.sees("Continue anyway?")
	h.fits()
	h.keys("n")
	if h.m.finished {
		t.Fatal("n finished the wizard")
	}
	h.keys("r") // the test again: still revoked
	h.sees("✗ Graph")
	h.keys("<enter>y")
	h.sees("Setup of acme-production is saved, but the connection test did not pass")
}

// An IMAP profile whose server does not listen: the line names the
// address and says what to check.
func TestVerifyIMAPClosedPort(t *testing.T) {
	h := newHarness(t)
	app := h.sim.App // IMAP, POP, SMTP and EWS, delegated
	h.sim.GrantAdminConsent(h.sim.Tenant, app)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	scopes := []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access", "openid", "profile"}
	verifyAt(t, h, app, store.Profile{Model: store.Delegated, Protocols: []store.Protocol{store.IMAP}, Scopes: scopes, Hosts: store.Hosts{IMAP: addr}},
		store.User{Consent: store.ConsentDone})
	verifySignIn(t, h, app, scopes)
	h.verifyOpen()
	h.keys("<enter>")
	h.sees("✗ IMAP")
	h.verifySees("imap "+addr+": connect", "Fix: "+addr+" refused the connection")
	h.verifyLacks("p shows the Exchange PowerShell") // nothing to run in Exchange for a closed port
	h.fits()
}

// App-only EWS: a client-credentials token for Exchange, and GetFolder
// impersonating anna's mailbox (the simulator refuses an app-only
// request without the impersonation header).
func TestVerifyAppOnlyEWSImpersonates(t *testing.T) {
	h := newHarness(t)
	app := h.sim.RegisterApp(h.sim.Tenant, m365sim.AppSpec{DisplayName: "x", Required: []string{"role:full_access_as_app"}})
	h.sim.GrantAdminConsent(h.sim.Tenant, app)
	sec := h.sim.AddSecret(app, 365*24*time.Hour)
	verifyAt(t, h, app, store.Profile{Model: store.AppOnly, Protocols: []store.Protocol{store.EWS}}, store.User{})
	if err := h.db.SetClientSecret(verifyPID, store.ClientSecret{Value: store.Secret(sec.Value), KeyID: sec.KeyID, Expiry: sec.End}); err != nil {
		t.Fatal(err)
	}
	h.verifyOpen()
	h.sees("Anna de Vries")
	before := h.sim.Requests("/EWS/Exchange.asmx")
	h.keys("<enter>")
	h.sees("✓ EWS", "✓ EWS works.")
	h.verifySees("as " + verifyAnna + " (impersonation)")
	if h.sim.Requests("/EWS/Exchange.asmx") == before {
		t.Error("no EWS request was made")
	}
	h.verifyLacks(sec.Value)
	h.fits()
}

// verifySMTPServer answers like Exchange Online with SMTP AUTH turned off:
// EHLO, STARTTLS with the certificate every httptest server uses, EHLO,
// then 535 5.7.139 for AUTH XOAUTH2. It records the AUTH line.
type verifySMTPServer struct {
	addr string
	mu   sync.Mutex
	auth string
}

func verifyStartSMTP(t *testing.T) (*verifySMTPServer, *http.Client) {
	t.Helper()
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.StartTLS()
	t.Cleanup(ts.Close)
	certs := ts.TLS.Certificates
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	srv := &verifySMTPServer{addr: ln.Addr().String()}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go srv.serve(conn, certs)
		}
	}()
	return srv, ts.Client()
}

func (s *verifySMTPServer) serve(conn net.Conn, certs []tls.Certificate) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	say := func(w net.Conn, lines string) { w.Write([]byte(lines)) }
	read := func(r *bufio.Reader) string { l, _ := r.ReadString('\n'); return strings.TrimSpace(l) }
	say(conn, "220 fake.outlook.test Microsoft ESMTP MAIL Service ready\r\n")
	read(r) // EHLO
	say(conn, "250-fake.outlook.test Hello\r\n250-SIZE 157286400\r\n250 STARTTLS\r\n")
	if read(r) != "STARTTLS" {
		return
	}
	say(conn, "220 2.0.0 SMTP server ready\r\n")
	tc := tls.Server(conn, &tls.Config{Certificates: certs})
	if tc.Handshake() != nil {
		return
	}
	r = bufio.NewReader(tc)
	read(r) // EHLO
	say(tc, "250-fake.outlook.test Hello\r\n250 AUTH LOGIN XOAUTH2\r\n")
	line := read(r)
	s.mu.Lock()
	s.auth = line
	s.mu.Unlock()
	say(tc, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.\r\n")
}

// An SMTP profile whose mailbox has SMTP AUTH turned off: the fix says so,
// and p shows the plan's PowerShell that turns it on.
func TestVerifySMTPAuthDisabledShowsPowerShell(t *testing.T) {
	h := newHarness(t)
	app := h.sim.App
	h.sim.GrantAdminConsent(h.sim.Tenant, app)
	srv, trusting := verifyStartSMTP(t)
	scopes := []string{"https://outlook.office.com/SMTP.Send", "offline_access", "openid", "profile"}
	verifyAt(t, h, app, store.Profile{Model: store.Delegated, Protocols: []store.Protocol{store.SMTP}, Scopes: scopes, Hosts: store.Hosts{SMTP: srv.addr}},
		store.User{Consent: store.ConsentDone})
	verifySignIn(t, h, app, scopes)
	h.verifyOpen()
	h.m.c.HTTPClient, h.m.c.MailTLS = trusting, nil // trusts the test certificate, for mail too
	h.keys("<enter>")
	h.sees("✗ SMTP")
	h.verifySees("smtp client authentication is disabled", "SMTP AUTH is turned off", "p shows the PowerShell")
	h.verifyLacks("ForEach-Object { Set-CASMailbox")
	h.fits()

	srv.mu.Lock()
	auth := srv.auth
	srv.mu.Unlock()
	ir, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(auth, "AUTH XOAUTH2 "))
	if err != nil || !strings.HasPrefix(string(ir), "user="+verifyAnna+"\x01auth=Bearer ") {
		t.Fatalf("AUTH line %q", auth)
	}
	token := strings.TrimSuffix(strings.TrimPrefix(string(ir), "user="+verifyAnna+"\x01auth=Bearer "), "\x01\x01")

	h.keys("p")
	h.verifySees("Exchange Online PowerShell, after Connect-ExchangeOnline", "$Mailboxes = @('"+verifyAnna+"')",
		"ForEach-Object { Set-CASMailbox -Identity $_", common.ContMark+"-SmtpClientAuthenticationDisabled $false }")
	h.verifyLacks(token, strings.TrimPrefix(auth, "AUTH XOAUTH2 "))
	h.fits()
	h.keys("p")
	h.verifyLacks("ForEach-Object { Set-CASMailbox")

	h.keys("<enter>")
	h.sees("Continue anyway?")
}

// No user has signed in yet: nothing to test, and enter asks before the
// wizard ends unverified.
func TestVerifyWithoutUsers(t *testing.T) {
	h := newHarness(t)
	app := verifyGraphApp(h)
	verifyAt(t, h, app, store.Profile{Model: store.Delegated, Protocols: []store.Protocol{store.Graph}, Scopes: verifyGraphScopes},
		store.User{Consent: store.ConsentPending})
	h.verifyOpen()
	h.verifySees("No user can be tested yet", "the consent step")
	h.fits()
	h.keys("t")
	if h.m.wiz.current().Busy() {
		t.Fatal("a test started without a user")
	}
	h.keys("<enter>")
	h.sees("Continue anyway?")
}

// Four protocols at once, their commands run in parallel as the runtime
// runs a batch: Graph and EWS pass, IMAP and SMTP fail, and the results
// scroll.
func TestVerifyProtocolsConcurrentlyAndScroll(t *testing.T) {
	h := newHarness(t)
	app := h.sim.App
	h.sim.GrantAdminConsent(h.sim.Tenant, app)
	srv, trusting := verifyStartSMTP(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	imap := ln.Addr().String()
	ln.Close()
	scopes := []string{"https://outlook.office.com/SMTP.Send", "https://outlook.office.com/IMAP.AccessAsUser.All",
		"https://outlook.office365.com/EWS.AccessAsUser.All", "https://graph.microsoft.com/Calendars.ReadWrite",
		"https://graph.microsoft.com/Contacts.ReadWrite", "https://graph.microsoft.com/Tasks.ReadWrite", "offline_access", "openid", "profile"}
	verifyAt(t, h, app, store.Profile{Model: store.Delegated, Protocols: []store.Protocol{store.Graph, store.EWS, store.IMAP, store.SMTP},
		Scopes: scopes, Hosts: store.Hosts{SMTP: srv.addr, IMAP: imap}}, store.User{Consent: store.ConsentDone})
	if err := h.db.PutUsers(verifyPID, store.User{Key: "BJ", Name: "Bram", Account: "bram@contoso.com", Consent: store.ConsentNone, Mapping: store.MappingOK}); err != nil {
		t.Fatal(err)
	}
	verifySignIn(t, h, app, scopes)
	h.verifyOpen()
	h.verifyLacks("1 of 2")                         // Bram has not signed in
	h.m.c.HTTPClient, h.m.c.MailTLS = trusting, nil // the test certificate, for mail too

	_, cmd := h.m.Update(press("enter"))
	batch, ok := cmd().(tea.BatchMsg)
	if !ok || len(batch) != 4 {
		t.Fatalf("want one command per protocol, got %T", cmd())
	}
	msgs := make([]tea.Msg, len(batch))
	var wg sync.WaitGroup
	for i, c := range batch {
		wg.Go(func() { msgs[i] = c() })
	}
	wg.Wait()
	for _, m := range msgs {
		h.send(m)
	}
	h.sees("✓ Graph", "✓ EWS", "✗ IMAP", "2 of 4 failed", "lines 1–")
	h.fits()
	h.send(tea.KeyPressMsg{Code: tea.KeyPgDown})
	h.verifySees("SMTP AUTH is turned off")
	h.fits()
	if _, err := h.db.Token(verifyPID, "AV"); err != nil {
		t.Fatal(err)
	}
	h.keys("r") // the stored sign-in still works after four concurrent tests
	h.sees("✓ Graph", "✓ EWS", "✗ IMAP")
}

// Consent withdrawn after the sign-in: the test says consent is missing
// and how to grant it.
func TestVerifyConsentMissing(t *testing.T) {
	h := newHarness(t)
	app := verifyGraphApp(h)
	verifyAt(t, h, app, store.Profile{Model: store.Delegated, Protocols: []store.Protocol{store.Graph}, Scopes: verifyGraphScopes},
		store.User{Consent: store.ConsentDone})
	verifySignIn(t, h, app, verifyGraphScopes)
	h.sim.RevokeConsent(h.sim.Tenant, app)
	h.verifyOpen()
	h.keys("t")
	h.sees("✗ Graph")
	h.verifySees("aadsts65001", "admin consent")
	h.fits()
}

// TestVerifySendTestAndScopeProof (moveIT app-only, Mail.Send only): after
// a passing test the consultant may send a real test message, after a
// question, and prove the app's scope with a mailbox outside it: refused
// is the pass; reached is a failure with the PowerShell that narrows it.
func TestVerifySendTestAndScopeProof(t *testing.T) {
	h := newHarness(t)
	p, app, _ := verifyPreset(t, h, "moveit-app-only")
	su := h.sim.Tenant.User(verifyAnna)
	if err := h.db.PutUsers(p.ID, store.User{Key: "AV", Name: "Anna de Vries", Account: verifyAnna, UPN: verifyAnna, ObjectID: su.ObjectID, PrimarySMTP: su.Mail, Mapping: store.MappingOK}); err != nil {
		t.Fatal(err)
	}
	h.verifyOpen()
	h.keys("<enter>")
	h.sees("✓ Graph", "s test mail", "o scope proof")
	if n := len(h.sim.Sent()); n != 0 {
		t.Fatalf("%d messages sent by the test itself", n)
	}
	h.keys("s")
	h.sees("Send a test message from " + su.Mail + " to itself?")
	h.keys("y")
	h.sees("✓ Send")
	if sent := h.sim.Sent(); len(sent) != 1 || sent[0].To != su.Mail {
		t.Fatalf("sent %+v", sent)
	}
	claire := h.sim.Tenant.User("claire.dubois@contoso.com").Mail
	h.keys("o")
	h.sees("A mailbox the app must not reach")
	h.fits()
	h.keys(claire + "<enter>")
	h.sees("✗ Scope")
	h.verifySees("New-ManagementScope")
	h.sim.RestrictAppAccess(app.ClientID, su)
	h.keys("o")
	h.keys(claire + "<enter>")
	h.sees("✓ Scope")
	h.verifySees("refused, as it should be")
	h.fits()
}

// The end of the setup shows the hand-off sheet (h): the product's fields
// with the secret masked; s saves it, after a question, with the secret's
// value to a file only the owner can read. The screen never shows it.
func TestHandOffSheetAtTheEnd(t *testing.T) {
	h := newHarness(t)
	p, app, sec := verifyPreset(t, h, "flowfact")
	h.open()
	h.m.c.ExportDir = t.TempDir()
	h.m.finished = true // the setup ended
	h.keys("h")
	h.sees("Hand-off", "Tenant Id (Mandanten ID)", h.sim.Tenant.ID, "Client ID", app.ClientID, "Client Secret (Wert)", "s save", "esc back")
	// The secret was typed in (the person has it): never shown.
	h.sees("You entered this secret yourself")
	h.lacks(sec.Value, "v show secret")
	h.fits()
	h.keys("s")
	h.sees("Save the sheet with the secret's value")
	h.keys("y")
	h.sees("✓ Saved to")
	h.lacks(sec.Value)
	path := filepath.Join(h.m.c.ExportDir, p.ID+"-handoff.txt")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the file: %v %v", fi, err)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), sec.Value) || !strings.Contains(string(b), app.ClientID) {
		t.Errorf("the file lacks the secret or the client ID:\n%s", b)
	}
}

// verifyPreset stores a preset's profile registered by its plan, with its
// secret, as the consent step leaves it: the wizard resumes at the test.
func verifyPreset(t *testing.T, h *harness, preset string) (store.Profile, *m365sim.App, m365sim.PasswordCredential) {
	t.Helper()
	pre, _ := appreg.PresetByID(preset)
	p := testkit.Profile(t, h.sim, pre)
	plan, err := conn.Plan(p)
	if err != nil {
		t.Fatal(err)
	}
	app, sec := testkit.RegisterPlan(h.sim, plan)
	p.TenantID, p.ClientID, p.WizardStep, p.Hosts = h.sim.Tenant.ID, app.ClientID, common.StepConsent, h.options().Hosts
	if err := h.db.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	if err := h.db.SetClientSecret(p.ID, store.ClientSecret{Value: store.Secret(sec.Value), KeyID: sec.KeyID, Expiry: sec.End}); err != nil {
		t.Fatal(err)
	}
	return p, app, sec
}
