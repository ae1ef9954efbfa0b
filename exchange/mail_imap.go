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
// the server offers SASL-IR, as Exchange does), EXAMINE INBOX, then LOGOUT.
// Exchange Online can complete AUTHENTICATE and refuse the next command
// when the account has no right to the mailbox: only EXAMINE proves it.
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
			return s.imapExamine()
		default:
			return s.imapRefused(line)
		}
	}
}

// imapExamine opens the inbox read-only: the first command that needs
// the mailbox, after the token was accepted.
func (s *mailSession) imapExamine() error {
	if err := s.writeLine("a3 EXAMINE INBOX"); err != nil {
		return s.fail(mailStageMailbox, "", err)
	}
	for range 100 {
		line, err := s.readLine()
		if err != nil {
			return s.fail(mailStageMailbox, "", err)
		}
		up := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(up, "A3 OK"):
			s.logout("a4 LOGOUT", "a4 ")
			return nil
		case strings.HasPrefix(up, "* BYE"), strings.HasPrefix(up, "A3 NO"), strings.HasPrefix(up, "A3 BAD"):
			reply := strings.TrimSpace(line[min(3, len(line)):])
			return s.failFix(mailStageMailbox, reply, ErrMailboxAccessDenied, s.mailboxFix("IMAP"))
		case strings.HasPrefix(up, "* "):
			// EXISTS, FLAGS and the like
		default:
			return s.fail(mailStageMailbox, line, mailErrUnexpected)
		}
	}
	return s.fail(mailStageMailbox, "", fmt.Errorf("%w: no end to examine", mailErrUnexpected))
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
		return s.failFix(mailStageAuth, reply, ErrMailAuthFailed, s.refusedFix("IMAP", "-ImapEnabled $true"))
	}
	return s.fail(mailStageAuth, reply, fmt.Errorf("%w to authenticate xoauth2", mailErrUnexpected))
}

// refusedFix is the fix for a token that IMAP or POP refused: Exchange
// says only "failed", so it lists what to check, most likely first, for
// the token's kind.
func (s *mailSession) refusedFix(proto, enable string) string {
	aud, user := s.probe.audience(), s.user
	if s.probe.AppOnly {
		return fmt.Sprintf("Exchange refused the app's token for %s. Check that it was requested for %s/.default and that the app has the Office 365 Exchange Online application permission %s.AccessAsApp with admin consent. "+
			"The app's service principal must be registered in Exchange (New-ServicePrincipal -AppId <app ID> -ObjectId <the enterprise application's object ID, not the app registration's>) and have FullAccess on the mailbox. "+
			"Check that user= is the mailbox's primary SMTP address and that %s is on for it: Set-CASMailbox -Identity %s %s.",
			user, exoResource(aud), proto, proto, user, enable)
	}
	return fmt.Sprintf("Exchange refused the token for %s. Check that the token's audience (aud) is %s and its scp includes %s.AccessAsUser.All: request %s/%s.AccessAsUser.All, not the Microsoft Graph scope. "+
		"Check that user= is the mailbox's primary SMTP address (it can differ from the sign-in name) and that the token has not expired. "+
		"Check that %s is on for the mailbox: Set-CASMailbox -Identity %s %s.",
		user, aud, proto, aud, proto, proto, user, enable)
}

// mailboxFix is the fix for a mailbox that refused an account whose token
// it took.
func (s *mailSession) mailboxFix(proto string) string {
	user := s.user
	if s.probe.AppOnly {
		return fmt.Sprintf("Exchange accepted the app's token but not the mailbox %s: the app's service principal has no right to it. "+
			"Register the service principal in Exchange (New-ServicePrincipal -AppId <app ID> -ObjectId <the enterprise application's object ID>) and grant it the mailbox: "+
			"Add-MailboxPermission -Identity %s -User <service principal ID> -AccessRights FullAccess. Check that user= is the mailbox's primary SMTP address.", user, user)
	}
	return fmt.Sprintf("Exchange accepted the sign-in but not the mailbox %s over %s: user= must be the primary SMTP address of a mailbox the signed-in account may open. "+
		"For another person's or a shared mailbox, give the signed-in account FullAccess: Add-MailboxPermission -Identity %s -User <signed-in account> -AccessRights FullAccess.", user, proto, user)
}

// exoResource is Exchange's resource for app-only tokens: the mail
// servers' audience on the outlook.office365.com host of its cloud.
func exoResource(aud string) string {
	return strings.Replace(aud, "://outlook.office.com", "://outlook.office365.com", 1)
}
