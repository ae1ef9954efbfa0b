package exchange

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/modauth/modauth/store"
)

// IMAP signs user in with token over IMAP with implicit TLS: CAPABILITY,
// AUTHENTICATE XOAUTH2 (with the initial response on the command line when
// the server offers SASL-IR, as Exchange does), then LOGOUT.
func (p MailProbe) IMAP(ctx context.Context, user string, token store.Secret) error {
	return p.mailRun(ctx, MailIMAP, mailIMAPAddr, true, user, token, imapAuth)
}

func imapAuth(s *mailSession) error {
	line, err := s.readLine()
	if err != nil {
		return s.fail(mailStageGreeting, "", err)
	}
	if !strings.HasPrefix(strings.ToUpper(line), "* OK") {
		return s.fail(mailStageGreeting, line, mailErrUnexpected)
	}

	caps, err := s.imapCapabilities()
	if err != nil {
		return err
	}
	if !slices.Contains(caps, "AUTH=XOAUTH2") {
		return s.fail(mailStageAuth, "CAPABILITY "+strings.Join(caps, " "), mailErrNoXOAUTH2)
	}

	if err := s.imapStartAuth(slices.Contains(caps, "SASL-IR")); err != nil {
		return err
	}
	for challenges := 0; ; {
		line, err := s.readLine()
		if err != nil {
			return s.fail(mailStageAuth, "", err)
		}
		switch {
		case strings.HasPrefix(line, "+"):
			// A failed XOAUTH2 exchange sends base64 JSON with the error;
			// the client must answer with an empty line to get the result.
			if challenges++; challenges > 2 {
				return s.fail(mailStageAuth, line, mailErrUnexpected)
			}
			if err := s.writeLine(""); err != nil {
				return s.fail(mailStageAuth, "", err)
			}
		case strings.HasPrefix(strings.ToUpper(line), "* BYE"):
			return s.fail(mailStageAuth, line, mailErrUnexpected)
		case strings.HasPrefix(line, "* "):
			// post-login CAPABILITY and the like
		case strings.HasPrefix(strings.ToUpper(line), "A2 OK"):
			s.logout("a3 LOGOUT", "a3 ")
			return nil
		default:
			return s.imapRefused(line)
		}
	}
}

// imapCapabilities asks for the capabilities, upper-cased. Exchange does
// not put them in its greeting.
func (s *mailSession) imapCapabilities() ([]string, error) {
	if err := s.writeLine("a1 CAPABILITY"); err != nil {
		return nil, s.fail(mailStageGreeting, "", err)
	}
	var caps []string
	for {
		line, err := s.readLine()
		if err != nil {
			return nil, s.fail(mailStageGreeting, "", err)
		}
		up := strings.ToUpper(line)
		switch c, isCaps := strings.CutPrefix(up, "* CAPABILITY "); {
		case isCaps:
			caps = append(caps, strings.Fields(c)...)
		case strings.HasPrefix(up, "* "):
		case strings.HasPrefix(up, "A1 OK"):
			return caps, nil
		default:
			return nil, s.fail(mailStageGreeting, line, mailErrUnexpected)
		}
	}
}

// imapStartAuth sends AUTHENTICATE XOAUTH2 and the initial response: on
// the command line with SASL-IR (RFC 4959), else after the server's "+".
func (s *mailSession) imapStartAuth(saslIR bool) error {
	if saslIR {
		if err := s.writeLine("a2 AUTHENTICATE XOAUTH2 " + s.ir); err != nil {
			return s.fail(mailStageAuth, "", err)
		}
		return nil
	}
	if err := s.writeLine("a2 AUTHENTICATE XOAUTH2"); err != nil {
		return s.fail(mailStageAuth, "", err)
	}
	line, err := s.readLine()
	if err != nil {
		return s.fail(mailStageAuth, "", err)
	}
	if !strings.HasPrefix(line, "+") {
		return s.imapRefused(line)
	}
	if err := s.writeLine(s.ir); err != nil {
		return s.fail(mailStageAuth, "", err)
	}
	return nil
}

// imapRefused maps a tagged NO or BAD, or anything else in their place.
func (s *mailSession) imapRefused(line string) error {
	reply := line
	if _, rest, ok := strings.Cut(line, " "); ok && strings.HasPrefix(strings.ToLower(line), "a") {
		reply = rest // drop the tag
	}
	up := strings.ToUpper(reply)
	switch {
	case strings.HasPrefix(up, "NO") && strings.Contains(up, "[UNAVAILABLE]"):
		return s.fail(mailStageAuth, reply, mailErrTemporary)
	case strings.HasPrefix(up, "NO"):
		return s.failFix(mailStageAuth, reply, ErrMailAuthFailed, mailRefusedFix(s.probe.audience(), s.user, "IMAP", "IMAP.AccessAsUser.All", "-ImapEnabled $true"))
	}
	return s.fail(mailStageAuth, reply, fmt.Errorf("%w to authenticate xoauth2", mailErrUnexpected))
}

// mailRefusedFix is the fix for a token that IMAP or POP refused: Exchange
// says only "failed", so it lists what to check, most likely first.
func mailRefusedFix(audience, user, proto, scope, enable string) string {
	return fmt.Sprintf("Exchange refused the token for %s. Check that the token's audience (aud) is %s and its scp includes %s: request %s/%s, not the Microsoft Graph scope. "+
		"Check that user= is the mailbox's primary SMTP address (it can differ from the sign-in name) and that the token has not expired. "+
		"Check that %s is on for the mailbox: Set-CASMailbox -Identity %s %s. "+
		"For an app-only token, the app's service principal must be registered in Exchange (New-ServicePrincipal) and have FullAccess on the mailbox.",
		user, audience, scope, audience, scope, proto, user, enable)
}
