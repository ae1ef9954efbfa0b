package exchange_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/store"
)

const (
	mailUser = "anna.devries@contoso.com"
	// mailToken stands in for an access token; the probes never look inside.
	mailToken = store.Secret("eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlLmNvbSJ9.c2lnbmF0dXJl")
)

func TestMailXOAUTH2(t *testing.T) {
	for _, tc := range []struct {
		user  string
		token store.Secret
		want  string
	}{
		// Google's documented example of the format.
		{"someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="},
		// Seen on the wire against Dovecot (reference real-peers.md).
		{"alice@contoso.test", "good-token", "dXNlcj1hbGljZUBjb250b3NvLnRlc3QBYXV0aD1CZWFyZXIgZ29vZC10b2tlbgEB"},
	} {
		if got := exchange.XOAUTH2(tc.user, tc.token); got != tc.want {
			t.Errorf("XOAUTH2(%s) = %s, want %s", tc.user, got, tc.want)
		}
	}
	raw, _ := base64.StdEncoding.DecodeString(exchange.XOAUTH2(mailUser, mailToken))
	if want := "user=" + mailUser + "\x01auth=Bearer " + mailToken.Reveal() + "\x01\x01"; string(raw) != want {
		t.Errorf("decoded %q, want %q", raw, want)
	}
}

// challenge is the base64 JSON error Exchange and Dovecot send in a SASL
// continuation before the final failure.
var challenge = base64.StdEncoding.EncodeToString([]byte(`{"status":"401","schemes":"bearer","scope":"https://outlook.office.com/"}`))

// mailWant is what a probe should return: nil, or a MailError at stage
// whose cause is errors.Is target and whose fix mentions every hint.
type mailWant struct {
	stage  string
	target error
	hints  []string
}

func (w mailWant) check(t *testing.T, err error) {
	t.Helper()
	if w.stage == "" {
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		return
	}
	var me *exchange.MailError
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T) is not a *MailError", err, err)
	}
	if me.Stage != w.stage {
		t.Errorf("stage %q, want %q (%v)", me.Stage, w.stage, err)
	}
	if w.target != nil && !errors.Is(err, w.target) {
		t.Errorf("error %v is not %v", err, w.target)
	}
	for _, h := range w.hints {
		if !strings.Contains(me.Fix, h) {
			t.Errorf("fix %q does not mention %q", me.Fix, h)
		}
	}
	if strings.Contains(me.Reply, "\n") || len([]rune(me.Reply)) > 200 {
		t.Errorf("reply not one short line: %q", me.Reply)
	}
	mailNoSecrets(t, err, mailToken)
}

// mailNoSecrets fails if err, in any format, holds the token, its
// XOAUTH2 string, or a piece of either.
func mailNoSecrets(t *testing.T, err error, token store.Secret) {
	t.Helper()
	if err == nil {
		return
	}
	texts := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
	var me *exchange.MailError
	if errors.As(err, &me) {
		texts = append(texts, me.Reply, me.Fix)
	}
	for _, secret := range []string{token.Reveal(), exchange.XOAUTH2(mailUser, token), exchange.XOAUTH2("bjanssen@contoso.onmicrosoft.com", token)} {
		for i := 0; i+16 <= len(secret); i += 8 {
			for _, text := range texts {
				if strings.Contains(text, secret[i:i+16]) {
					t.Fatalf("error text leaks a secret (%q): %s", secret[i:i+16], text)
				}
			}
		}
	}
}

func TestMailIMAPAnswers(t *testing.T) {
	pki := newMailPKI(t)
	ir := exchange.XOAUTH2(mailUser, mailToken)
	for _, tc := range []struct {
		name    string
		saslIR  bool
		answers []string
		want    mailWant
	}{
		{"ok", true, []string{"a2 OK AUTHENTICATE completed."}, mailWant{}},
		{"ok without SASL-IR", false, []string{"a2 OK AUTHENTICATE completed."}, mailWant{}},
		{"refused", true, []string{"a2 NO AUTHENTICATE failed."}, mailWant{"auth", exchange.ErrMailAuthFailed, []string{"https://outlook.office.com", "IMAP.AccessAsUser.All", "primary SMTP address", "Set-CASMailbox -Identity " + mailUser + " -ImapEnabled $true"}}},
		{"refused after challenge", true, []string{"+ " + challenge, "a2 NO AUTHENTICATE failed."}, mailWant{"auth", exchange.ErrMailAuthFailed, []string{"-ImapEnabled $true"}}},
		{"dovecot refusal", false, []string{"+ " + challenge, "a2 NO [AUTHENTICATIONFAILED] Authentication failed."}, mailWant{"auth", exchange.ErrMailAuthFailed, nil}},
		{"temporary", true, []string{"a2 NO [UNAVAILABLE] Temporary authentication failure."}, mailWant{"auth", nil, []string{"again"}}},
		{"bad command", true, []string{"a2 BAD Command Argument Error. 11"}, mailWant{"auth", nil, []string{"outlook.office365.com:993"}}},
		// Exchange Online takes a good token and refuses the mailbox at the
		// next command (reference §9.4): never an ok.
		{"authenticated but not connected", true, []string{"a2 OK AUTHENTICATE completed.", "a3 BAD User is authenticated but not connected."},
			mailWant{"mailbox", exchange.ErrMailboxAccessDenied, []string{"Add-MailboxPermission -Identity " + mailUser, "FullAccess", "primary SMTP address"}}},
		{"bye after authenticating", true, []string{"a2 OK AUTHENTICATE completed.", "* BYE Connection is closed. 13"},
			mailWant{"mailbox", exchange.ErrMailboxAccessDenied, []string{"FullAccess"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := mailFake(t, pki, true, mailFakeIMAP(ir, tc.saslIR, tc.answers...))
			err := mailProbeTo(addr, pki).IMAP(t.Context(), mailUser, mailToken)
			tc.want.check(t, err)
			if tc.want.target == nil && tc.want.stage != "" && errors.Is(err, exchange.ErrMailAuthFailed) {
				t.Errorf("%v: a temporary or protocol failure is not a refused token", err)
			}
		})
	}
}

func TestMailPOPAnswers(t *testing.T) {
	pki := newMailPKI(t)
	ir := exchange.XOAUTH2(mailUser, mailToken)
	for _, tc := range []struct {
		name    string
		answers []string
		want    mailWant
	}{
		{"ok", []string{"+OK User successfully authenticated."}, mailWant{}},
		{"refused", []string{"-ERR Authentication failure: unknown user name or bad password."}, mailWant{"auth", exchange.ErrMailAuthFailed, []string{"POP.AccessAsUser.All", "Set-CASMailbox -Identity " + mailUser + " -PopEnabled $true"}}},
		{"refused after challenge", []string{"+ " + challenge, "-ERR [AUTH] Authentication failed."}, mailWant{"auth", exchange.ErrMailAuthFailed, []string{"-PopEnabled $true"}}},
		{"temporary", []string{"-ERR [SYS/TEMP] Temporary authentication failure."}, mailWant{"auth", nil, []string{"again"}}},
		{"authenticated but not connected", []string{"+OK User successfully authenticated.", "-ERR User is authenticated but not connected."},
			mailWant{"mailbox", exchange.ErrMailboxAccessDenied, []string{"Add-MailboxPermission", "FullAccess"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := mailFake(t, pki, true, mailFakePOP(ir, tc.answers...))
			tc.want.check(t, mailProbeTo(addr, pki).POP(t.Context(), mailUser, mailToken))
		})
	}
}

func TestMailSMTPAnswers(t *testing.T) {
	pki := newMailPKI(t)
	ir := exchange.XOAUTH2(mailUser, mailToken)
	const host = "[AM0PR01CA0001.eurprd01.prod.exchangelabs.com 2026-05-04T09:12:44.103Z 08DE8A1B2C3D4E5F]"
	for _, tc := range []struct {
		name    string
		answers []string
		want    mailWant
		notTo   error // errors.Is must be false
	}{
		{"ok", []string{"235 2.7.0 Authentication successful"}, mailWant{}, nil},
		{"disabled for tenant", []string{"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. " + host},
			mailWant{"auth", exchange.ErrSMTPAuthDisabled, []string{"Set-CASMailbox -Identity " + mailUser + " -SmtpClientAuthenticationDisabled $false"}}, nil},
		{"disabled for mailbox", []string{"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information. " + host},
			mailWant{"auth", exchange.ErrSMTPAuthDisabled, []string{"-SmtpClientAuthenticationDisabled $false"}}, nil},
		{"security defaults", []string{"535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator. " + host},
			mailWant{"auth", exchange.ErrMailAuthFailed, []string{"security defaults"}}, exchange.ErrSMTPAuthDisabled},
		{"conditional access", []string{"535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator. " + host},
			mailWant{"auth", exchange.ErrMailAuthFailed, []string{"Conditional Access", "sign-in logs"}}, exchange.ErrSMTPAuthDisabled},
		// The token was not read as OAuth: turning SMTP AUTH on is the
		// wrong advice here.
		{"basic authentication disabled", []string{"535 5.7.139 Authentication unsuccessful, basic authentication is disabled. " + host},
			mailWant{"auth", exchange.ErrMailAuthFailed, []string{"as OAuth", "https://outlook.office.com", "SMTP.Send", "does not help"}}, exchange.ErrSMTPAuthDisabled},
		{"send as denied", []string{"235 2.7.0 Authentication successful", "554 5.2.252 SendAsDenied; " + mailUser + " not allowed to send as " + mailUser + "; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied " + host},
			mailWant{"mailbox", exchange.ErrSendAsDenied, []string{"Add-RecipientPermission -Identity " + mailUser, "SendAs"}}, exchange.ErrMailAuthFailed},
		{"client not authenticated", []string{"235 2.7.0 Authentication successful", "530 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 " + host},
			mailWant{"mailbox", exchange.ErrMailboxAccessDenied, []string{"SmtpClientAuthenticationDisabled $false", "primary SMTP address"}}, exchange.ErrMailAuthFailed},
		{"wrong token", []string{"535 5.7.3 Authentication unsuccessful " + host},
			mailWant{"auth", exchange.ErrMailAuthFailed, []string{"https://outlook.office.com", "SMTP.Send", "primary SMTP address"}}, exchange.ErrSMTPAuthDisabled},
		{"challenge then refusal", []string{"334 " + challenge, "535 5.7.8 Error: authentication failed: (reason unavailable)"},
			mailWant{"auth", exchange.ErrMailAuthFailed, []string{"SMTP.Send"}}, exchange.ErrSMTPAuthDisabled},
		{"temporary", []string{"454 4.7.0 Temporary authentication failure"}, mailWant{"auth", nil, []string{"again"}}, exchange.ErrMailAuthFailed},
		{"mechanism unknown", []string{"504 5.7.4 Unrecognized authentication type " + host}, mailWant{"auth", nil, []string{"XOAUTH2"}}, exchange.ErrMailAuthFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := mailFake(t, pki, false, mailFakeSMTP(ir, tc.answers...))
			err := mailProbeTo(addr, pki).SMTP(t.Context(), mailUser, mailToken)
			tc.want.check(t, err)
			if tc.notTo != nil && errors.Is(err, tc.notTo) {
				t.Errorf("%v is %v", err, tc.notTo)
			}
			var me *exchange.MailError
			if errors.As(err, &me) && strings.Contains(tc.answers[len(tc.answers)-1], "AM0PR01CA0001") && !strings.Contains(me.Reply, "AM0PR01CA0001") {
				t.Errorf("reply %q lost Exchange's diagnostic host", me.Reply)
			}
		})
	}
}

// TestMailSMTPNeedsSTARTTLS: without STARTTLS the token must not be sent.
func TestMailSMTPNeedsSTARTTLS(t *testing.T) {
	pki := newMailPKI(t)
	addr := mailFake(t, pki, false, func(c *mailFakeConn) {
		c.send("220 mail.example.com ESMTP")
		c.recv()
		c.send("250-mail.example.com", "250 AUTH XOAUTH2 PLAIN")
		if l, ok := c.recv(); ok && l != "QUIT" {
			t.Errorf("client sent %.20q to a server without STARTTLS", l)
		}
	})
	err := mailProbeTo(addr, pki).SMTP(t.Context(), mailUser, mailToken)
	mailWant{"tls", nil, []string{"STARTTLS", "smtp.office365.com:587"}}.check(t, err)
}

func TestMailNetworkFailures(t *testing.T) {
	pki := newMailPKI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	plain := mailFake(t, pki, false, func(c *mailFakeConn) { c.send("* OK IMAP4rev1 ready"); c.recv() })
	silent := mailFake(t, pki, true, func(c *mailFakeConn) { c.recv() })
	trusted := mailFake(t, pki, true, mailFakeIMAP("", true))

	for _, tc := range []struct {
		name  string
		probe exchange.MailProbe
		want  mailWant
	}{
		{"refused", exchange.MailProbe{Addr: closed}, mailWant{"connect", nil, []string{closed, "refused"}}},
		{"plain text on a TLS port", mailProbeTo(plain, pki), mailWant{"tls", nil, []string{plain, "did not answer with TLS"}}},
		{"untrusted certificate", exchange.MailProbe{Addr: trusted, TLS: &tls.Config{RootCAs: nil, ServerName: "localhost"}}, mailWant{"tls", nil, []string{trusted, "trust"}}},
		{"wrong name", exchange.MailProbe{Addr: trusted, TLS: &tls.Config{RootCAs: pki.roots, ServerName: "outlook.office365.com"}}, mailWant{"tls", nil, []string{"another name"}}},
		{"no greeting", exchange.MailProbe{Addr: silent, TLS: pki.client(), Timeout: 300 * time.Millisecond}, mailWant{"greeting", context.DeadlineExceeded, []string{silent, "300ms"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.check(t, tc.probe.IMAP(t.Context(), mailUser, mailToken))
		})
	}
}

func TestMailCanceled(t *testing.T) {
	pki := newMailPKI(t)
	addr := mailFake(t, pki, true, func(c *mailFakeConn) { c.recv() })
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now() // real time: a deadline on the cancel, not a date the probe decides on
	err := mailProbeTo(addr, pki).POP(ctx, mailUser, mailToken)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Fatalf("after %v: %v, want context.Canceled at once", time.Since(start), err)
	}
}

// TestMailCanary plants a canary token and sends it to servers that echo
// everything back, in every shape: the XOAUTH2 string, a piece of it, the
// decoded "auth=Bearer" line. No error text may carry any of it.
func TestMailCanary(t *testing.T) {
	const canary = store.Secret("CANARY-mail-Zq81xv0pLk2M-9fd1e2aa")
	pki := newMailPKI(t)
	ir := exchange.XOAUTH2(mailUser, canary)
	decoded := "user=" + mailUser + "\x01auth=Bearer " + canary.Reveal() + "\x01\x01"
	echoes := []string{
		"you sent " + ir,
		"bad base64 " + ir[:60] + " at char 61",
		"bad credentials " + decoded,
		"token " + canary.Reveal() + " is not valid",
	}
	var errs []error
	for _, echo := range echoes {
		imap := mailFake(t, pki, true, mailFakeIMAP(ir, true, "a2 NO "+echo))
		pop := mailFake(t, pki, true, mailFakePOP(ir, "-ERR "+echo))
		smtp := mailFake(t, pki, false, mailFakeSMTP(ir, "334 "+base64.StdEncoding.EncodeToString([]byte(echo)), "535 5.7.3 "+echo))
		errs = append(errs,
			mailProbeTo(imap, pki).IMAP(t.Context(), mailUser, canary),
			mailProbeTo(pop, pki).POP(t.Context(), mailUser, canary),
			mailProbeTo(smtp, pki).SMTP(t.Context(), mailUser, canary))
	}
	for _, err := range errs {
		if !errors.Is(err, exchange.ErrMailAuthFailed) {
			t.Errorf("want a refusal, got %v", err)
		}
		mailNoSecrets(t, err, canary)
		if strings.Contains(err.Error(), "CANARY") {
			t.Errorf("canary in %v", err)
		}
	}
	if len(errs) > 0 {
		t.Logf("example: %v", errs[0])
	}
}

func TestMailProbeUnknownProtocol(t *testing.T) {
	if err := (exchange.MailProbe{}).Probe(t.Context(), "ews", mailUser, mailToken); err == nil || !strings.Contains(err.Error(), "ews") {
		t.Fatalf("got %v", err)
	}
}

// A national cloud's refused token is explained with its own audience,
// not the public cloud's.
func TestMailRefusedNamesTheCloudsAudience(t *testing.T) {
	pki := newMailPKI(t)
	ir := exchange.XOAUTH2(mailUser, mailToken)
	addr := mailFake(t, pki, true, mailFakeIMAP(ir, true, "a2 NO AUTHENTICATE failed."))
	probe := mailProbeTo(addr, pki)
	probe.Audience = "https://outlook.office365.us/"
	err := probe.IMAP(t.Context(), mailUser, mailToken)
	var me *exchange.MailError
	if !errors.As(err, &me) {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(me.Fix, "request https://outlook.office365.us/IMAP.AccessAsUser.All") || strings.Contains(me.Fix, "outlook.office.com") {
		t.Errorf("fix %q", me.Fix)
	}
}

// An app-only token's refusal names what app-only needs: the .default
// request on the outlook.office365.com resource, the AccessAsApp and
// SendAsApp roles and Exchange's service principal, never the delegated
// scopes (reference §9.4).
func TestMailRefusedAppOnlyNamesApplicationPermissions(t *testing.T) {
	pki := newMailPKI(t)
	ir := exchange.XOAUTH2(mailUser, mailToken)
	for _, tc := range []struct {
		proto   exchange.MailProtocol
		fake    func(*mailFakeConn)
		tls     bool
		want    []string
		notWant string
	}{
		{exchange.MailIMAP, mailFakeIMAP(ir, true, "a2 NO AUTHENTICATE failed."), true,
			[]string{"https://outlook.office365.com/.default", "IMAP.AccessAsApp", "New-ServicePrincipal"}, "AccessAsUser"},
		{exchange.MailPOP, mailFakePOP(ir, "-ERR Authentication failure: unknown user name or bad password."), true,
			[]string{"https://outlook.office365.com/.default", "POP.AccessAsApp", "FullAccess"}, "AccessAsUser"},
		{exchange.MailSMTP, mailFakeSMTP(ir, "535 5.7.3 Authentication unsuccessful"), false,
			[]string{"SMTP.SendAsApp", "https://outlook.office365.com/.default"}, "SMTP.Send)"},
		{exchange.MailIMAP, mailFakeIMAP(ir, true, "a2 OK AUTHENTICATE completed.", "a3 BAD User is authenticated but not connected."), true,
			[]string{"service principal", "Add-MailboxPermission -Identity " + mailUser + " -User <service principal ID> -AccessRights FullAccess"}, "signed-in account"},
	} {
		t.Run(string(tc.proto), func(t *testing.T) {
			probe := mailProbeTo(mailFake(t, pki, tc.tls, tc.fake), pki)
			probe.AppOnly = true
			var me *exchange.MailError
			if err := probe.Probe(t.Context(), tc.proto, mailUser, mailToken); !errors.As(err, &me) {
				t.Fatalf("err %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(me.Fix, w) {
					t.Errorf("fix lacks %q: %s", w, me.Fix)
				}
			}
			if strings.Contains(me.Fix, tc.notWant) {
				t.Errorf("fix names %q: %s", tc.notWant, me.Fix)
			}
		})
	}
}
