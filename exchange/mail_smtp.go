package exchange

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/modauth/modauth/store"
)

// SMTP signs user in with token for SMTP submission: EHLO, STARTTLS, EHLO
// again, AUTH XOAUTH2 with the initial response, MAIL FROM the mailbox
// (where Exchange says whether the account may send as it), RSET, then
// QUIT. It sends no mail.
func (p MailProbe) SMTP(ctx context.Context, user string, token store.Secret) error {
	return p.mailRun(ctx, MailSMTP, mailSMTPAddr, false, user, token, smtpAuth)
}

// smtpReply is one SMTP reply: its code and its lines without the code.
type smtpReply struct {
	code  int
	lines []string
	bad   string // a line that is no SMTP reply, for MailError.Reply
}

// String is the reply as one line, for MailError.Reply.
func (r smtpReply) String() string {
	return strconv.Itoa(r.code) + " " + strings.Join(r.lines, " ")
}

func smtpAuth(s *mailSession) error {
	if r, err := s.smtpRead(); err != nil {
		return s.fail(mailStageGreeting, r.bad, err)
	} else if r.code != 220 {
		return s.fail(mailStageGreeting, r.String(), mailErrUnexpected)
	}
	ext, err := s.smtpHello()
	if err != nil {
		return err
	}
	if !slices.Contains(ext, "STARTTLS") {
		return s.fail(mailStageTLS, "", mailErrNoSTARTTLS)
	}
	if r, err := s.smtpCmd("STARTTLS"); err != nil {
		return s.fail(mailStageTLS, r.bad, err)
	} else if r.code != 220 {
		return s.fail(mailStageTLS, r.String(), mailErrNoSTARTTLS)
	}
	if err := s.startTLS(); err != nil {
		return err
	}
	if ext, err = s.smtpHello(); err != nil {
		return err
	}
	if !smtpOffersAuth(ext, "XOAUTH2") {
		return s.fail(mailStageAuth, "", mailErrNoXOAUTH2)
	}

	r, err := s.smtpCmd("AUTH XOAUTH2 " + s.ir)
	for challenges := 0; err == nil && r.code == 334 && challenges < 2; challenges++ {
		// The error challenge (base64 JSON): RFC 7628 and XOAUTH2 want an
		// empty line back, then the server sends the final answer.
		r, err = s.smtpCmd("")
	}
	if err != nil {
		return s.fail(mailStageAuth, r.bad, err)
	}
	if r.code != 235 {
		return s.smtpRefused(r)
	}
	return s.smtpSender()
}

// smtpSender names the mailbox as sender and takes it back: Exchange
// answers whether the account may send as it, and no mail goes out.
func (s *mailSession) smtpSender() error {
	r, err := s.smtpCmd("MAIL FROM:<" + s.user + ">")
	if err != nil {
		return s.fail(mailStageMailbox, r.bad, err)
	}
	if r.code != 250 {
		return s.smtpSendRefused(r)
	}
	if r, err = s.smtpCmd("RSET"); err != nil {
		return s.fail(mailStageMailbox, r.bad, err)
	}
	_, _ = s.smtpCmd("QUIT") // the mailbox took the sender; the goodbye does not matter
	return nil
}

// smtpSendRefused maps a refused MAIL FROM, or a refusal Exchange gives
// later in the transaction (reference §9.4).
func (s *mailSession) smtpSendRefused(r smtpReply) error {
	text, u := strings.ToLower(r.String()), s.user
	who := "the signed-in account"
	if s.probe.AppOnly {
		who = "the app's service principal (registered in Exchange with New-ServicePrincipal)"
	}
	switch {
	case strings.Contains(text, "5.2.252") || strings.Contains(text, "sendasdenied"):
		return s.failFix(mailStageMailbox, r.String(), ErrSendAsDenied, fmt.Sprintf(
			"Exchange took the sign-in but %s may not send as %s. Grant it SendAs: Add-RecipientPermission -Identity %s -Trustee <%s> -AccessRights SendAs; "+
				"or make user= the signed-in mailbox itself.", who, u, u, strings.TrimPrefix(who, "the ")))
	case strings.Contains(text, "5.7.57"):
		return s.failFix(mailStageMailbox, r.String(), ErrMailboxAccessDenied, fmt.Sprintf(
			"Exchange answered the sign-in of %s as if it had not happened: the token's mailbox may not submit mail. Check that SMTP AUTH is on for the mailbox "+
				"(Set-CASMailbox -Identity %s -SmtpClientAuthenticationDisabled $false), that user= is the mailbox's primary SMTP address, and that %s has SendAs on it.", u, u, who))
	case r.code >= 400 && r.code < 500:
		return s.fail(mailStageMailbox, r.String(), mailErrTemporary)
	}
	return s.failFix(mailStageMailbox, r.String(), ErrMailboxAccessDenied, fmt.Sprintf(
		"Exchange took the sign-in but refused %s as sender. Check that user= is the mailbox's primary SMTP address and that %s may send as it (SendAs or FullAccess).", u, who))
}

// smtpPermission is what the token must carry to submit mail, for its kind.
func (s *mailSession) smtpPermission() string {
	if s.probe.AppOnly {
		return "the application permission SMTP.SendAsApp (requested as " + exoResource(s.probe.audience()) + "/.default)"
	}
	return "the delegated scope SMTP.Send (requested as " + s.probe.audience() + "/SMTP.Send)"
}

// smtpHello sends EHLO and returns the extensions, upper-cased.
func (s *mailSession) smtpHello() ([]string, error) {
	r, err := s.smtpCmd("EHLO " + smtpHelloName(s.raw))
	if err != nil {
		return nil, s.fail(mailStageGreeting, r.bad, err)
	}
	if r.code != 250 {
		return nil, s.fail(mailStageGreeting, r.String(), mailErrUnexpected)
	}
	var ext []string
	for _, l := range r.lines[min(1, len(r.lines)):] { // the first line is the server's name
		ext = append(ext, strings.ToUpper(strings.TrimSpace(l)))
	}
	return ext, nil
}

// smtpOffersAuth reports whether the EHLO extensions list mech under AUTH.
func smtpOffersAuth(ext []string, mech string) bool {
	for _, e := range ext {
		if f := strings.Fields(e); len(f) > 0 && f[0] == "AUTH" && slices.Contains(f[1:], mech) {
			return true
		}
	}
	return false
}

// smtpHelloName is the local address as an address literal (RFC 5321
// 4.1.3): a probe has no host name of its own that the server could check.
func smtpHelloName(c net.Conn) string {
	addr, ok := c.LocalAddr().(*net.TCPAddr)
	switch {
	case !ok:
		return "localhost"
	case addr.IP.To4() != nil:
		return "[" + addr.IP.String() + "]"
	}
	return "[IPv6:" + addr.IP.String() + "]"
}

// smtpCmd sends a command line and reads the reply.
func (s *mailSession) smtpCmd(line string) (smtpReply, error) {
	if err := s.writeLine(line); err != nil {
		return smtpReply{}, err
	}
	return s.smtpRead()
}

// smtpRead reads one reply, following "250-" continuation lines.
func (s *mailSession) smtpRead() (smtpReply, error) {
	var r smtpReply
	for len(r.lines) < 100 {
		line, err := s.readLine()
		if err != nil {
			return r, err
		}
		code, err := strconv.Atoi(line[:min(3, len(line))])
		if err != nil || code < 200 || code > 599 || (r.code != 0 && code != r.code) {
			r.bad = line
			return r, fmt.Errorf("%w: not an smtp reply", mailErrUnexpected)
		}
		r.code = code
		r.lines = append(r.lines, strings.TrimSpace(line[3:][min(1, len(line)-3):]))
		if len(line) == 3 || line[3] != '-' {
			return r, nil
		}
	}
	return r, fmt.Errorf("%w: reply too long", mailErrUnexpected)
}

// smtpRefused maps an answer to AUTH other than 235. Exchange Online puts
// the reason into enhanced status codes (reference §5.2, §6.3).
func (s *mailSession) smtpRefused(r smtpReply) error {
	text := strings.ToLower(r.String())
	u := s.user
	switch {
	case r.code == 535 && strings.Contains(text, "5.7.139") && strings.Contains(text, "basic authentication is disabled"):
		// Not SMTP AUTH switched off: Exchange did not take what it got as
		// an OAuth token, and treats the attempt as Basic authentication.
		return s.failFix(mailStageAuth, r.String(), ErrMailAuthFailed, fmt.Sprintf(
			"Exchange did not take the sign-in of %s as OAuth and refused it as Basic authentication. Turning SMTP AUTH on does not help: "+
				"the token must be an access token for %s (aud) with %s, sent with AUTH XOAUTH2, and user= must be the mailbox's primary SMTP address.",
			u, s.probe.audience(), s.smtpPermission()))
	case r.code == 535 && strings.Contains(text, "5.7.139") && strings.Contains(text, "smtpclientauthentication is disabled"):
		return s.failFix(mailStageAuth, r.String(), ErrSMTPAuthDisabled, fmt.Sprintf(
			"SMTP AUTH is turned off for %s or for the whole tenant, so Exchange refuses every token, however good. "+
				"Turn it on for the mailbox: Set-CASMailbox -Identity %s -SmtpClientAuthenticationDisabled $false "+
				"(or for the organization: Set-TransportConfig -SmtpClientAuthenticationDisabled $false). The change can take an hour to apply.", u, u))
	case r.code == 535 && strings.Contains(text, "5.7.139") && strings.Contains(text, "security defaults"):
		return s.failFix(mailStageAuth, r.String(), ErrMailAuthFailed, fmt.Sprintf(
			"The tenant's security defaults block SMTP AUTH for %s. Either turn security defaults off (Entra admin center > Overview > Properties > Manage security defaults) "+
				"and protect sign-ins with Conditional Access instead, or send mail through Microsoft Graph (Mail.Send) rather than SMTP.", u))
	case r.code == 535 && strings.Contains(text, "5.7.139"):
		return s.failFix(mailStageAuth, r.String(), ErrMailAuthFailed, fmt.Sprintf(
			"Exchange refused the sign-in of %s by policy: security defaults or a Conditional Access policy block it. "+
				"Look the failure up in the user's Entra sign-in logs, then exclude this app or account from the blocking policy, or send through Microsoft Graph instead.", u))
	case r.code == 535:
		return s.failFix(mailStageAuth, r.String(), ErrMailAuthFailed, fmt.Sprintf(
			"Exchange refused the token or the user name for %s. Check that the token's audience (aud) is %s and that it carries %s, not a Microsoft Graph permission. "+
				"Check that user= is the mailbox's primary SMTP address (it can differ from the sign-in name) and that the token has not expired. "+
				"For an app-only token, the app's service principal must be registered in Exchange (New-ServicePrincipal) and have SendAs or FullAccess on the mailbox.", u, s.probe.audience(), s.smtpPermission()))
	case r.code == 504 || ((r.code == 500 || r.code == 501) && strings.Contains(text, "auth")):
		return s.fail(mailStageAuth, r.String(), mailErrNoXOAUTH2)
	case r.code >= 400 && r.code < 500:
		return s.fail(mailStageAuth, r.String(), mailErrTemporary)
	}
	return s.fail(mailStageAuth, r.String(), mailErrUnexpected)
}
