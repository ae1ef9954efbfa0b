package exchange

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/modauth/modauth/store"
)

// MailProtocol names a mail protocol a token can be probed against.
type MailProtocol string

// The protocols a MailProbe speaks.
const (
	MailIMAP MailProtocol = "imap"
	MailPOP  MailProtocol = "pop"
	MailSMTP MailProtocol = "smtp"
)

// Exchange Online's endpoints, used when MailProbe.Addr is empty.
const (
	mailIMAPAddr = "outlook.office365.com:993"
	mailPOPAddr  = "outlook.office365.com:995"
	mailSMTPAddr = "smtp.office365.com:587"

	mailDefaultTimeout = 20 * time.Second
)

// The stages of a probe, in the order they run; MailError.Stage is one of them.
const (
	mailStageConnect  = "connect"
	mailStageTLS      = "tls"
	mailStageGreeting = "greeting"
	mailStageAuth     = "auth"
	// mailbox: after signing in, opening the mailbox (IMAP EXAMINE, POP
	// STAT) or naming it as sender (SMTP MAIL FROM) proves the right to it.
	mailStageMailbox = "mailbox"
)

var (
	// ErrMailAuthFailed means the server refused the token or the user name.
	ErrMailAuthFailed = errors.New("mail server refused the token")
	// ErrSMTPAuthDisabled means SMTP AUTH is turned off for the tenant or
	// the mailbox, so no token can work until an admin turns it on. It is
	// also an ErrMailAuthFailed.
	ErrSMTPAuthDisabled = fmt.Errorf("%w: smtp client authentication is disabled", ErrMailAuthFailed)
	// ErrMailboxAccessDenied means the server took the token but not the
	// mailbox: the signed-in account or the app has no right to it, or
	// user= names another mailbox. It is not an ErrMailAuthFailed: the
	// token is good.
	ErrMailboxAccessDenied = errors.New("mailbox access denied")
	// ErrSendAsDenied means the account may not send as the mailbox; it is
	// also an ErrMailboxAccessDenied.
	ErrSendAsDenied = fmt.Errorf("%w: not allowed to send as the mailbox", ErrMailboxAccessDenied)
)

// Causes of failures that are neither a refused token nor a network error.
var (
	mailErrNoXOAUTH2   = errors.New("server does not offer sasl xoauth2")
	mailErrNoSTARTTLS  = errors.New("server does not offer starttls")
	mailErrUnexpected  = errors.New("unexpected answer")
	mailErrTemporary   = errors.New("temporary failure on the server")
	mailErrNotTLSClean = errors.New("server sent data before the tls handshake")
)

// MailError is a refused or failed probe. It says which protocol and stage
// failed, what the server answered and what to do about it. It never holds
// the token or the XOAUTH2 string: Reply is cleaned of anything that looks
// like an echoed credential.
type MailError struct {
	Protocol string // imap, pop or smtp
	Addr     string // host:port that was probed
	Stage    string // connect, tls, greeting or auth
	Reply    string // the server's answer: one line, at most 200 characters
	Fix      string // what to do, in words a consultant can act on
	Err      error  // the cause: ErrMailAuthFailed, ErrSMTPAuthDisabled, a network or TLS error
}

// Error returns one line; Fix is kept apart, as in flows.Error.
func (e *MailError) Error() string {
	msg := fmt.Sprintf("%s %s: %s: %v", e.Protocol, e.Addr, e.Stage, e.Err)
	if strings.HasPrefix(e.Err.Error(), e.Stage+": ") { // crypto/tls says "tls: …" itself
		msg = fmt.Sprintf("%s %s: %v", e.Protocol, e.Addr, e.Err)
	}
	if e.Reply != "" {
		msg += fmt.Sprintf(" (server said %q)", e.Reply)
	}
	return msg
}

// Unwrap returns the cause, so errors.Is(err, ErrMailAuthFailed) works.
func (e *MailError) Unwrap() error { return e.Err }

// XOAUTH2 builds the SASL XOAUTH2 initial response that IMAP, POP and SMTP
// send to Exchange: base64("user=" + user + "\x01auth=Bearer " + token + "\x01\x01").
// The result holds the token in the clear; never log it.
func XOAUTH2(user string, token store.Secret) string {
	return base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + token.Reveal() + "\x01\x01"))
}

// MailProbe checks that a token signs a user in over IMAP, POP or SMTP and
// reaches the mailbox: after authenticating it opens the inbox read-only
// (IMAP EXAMINE), asks for its size (POP STAT) or names the mailbox as
// sender and resets (SMTP MAIL FROM, RSET), then logs out. It reads no
// mail and sends none.
type MailProbe struct {
	// Addr is host:port; empty means Exchange Online: outlook.office365.com:993
	// for IMAP, :995 for POP, smtp.office365.com:587 for SMTP.
	Addr string
	// TLS is used for the handshake. Nil means the system roots; an empty
	// ServerName is taken from Addr.
	TLS *tls.Config
	// Timeout bounds the whole probe; default 20s.
	Timeout time.Duration
	// Audience is the token audience these servers expect, for the fix of
	// a refused token; empty means Exchange Online's https://outlook.office.com
	// (a national cloud has its own).
	Audience string
	// AppOnly says the token is the app's own (client credentials), for
	// fixes that name application permissions and Exchange's service
	// principal rather than the user's delegated scopes.
	AppOnly bool
}

// audience is the expected token audience, without a trailing slash.
func (p MailProbe) audience() string {
	if p.Audience == "" {
		return "https://outlook.office.com"
	}
	return strings.TrimSuffix(p.Audience, "/")
}

// Probe runs the probe for proto.
func (p MailProbe) Probe(ctx context.Context, proto MailProtocol, user string, token store.Secret) error {
	switch proto {
	case MailIMAP:
		return p.IMAP(ctx, user, token)
	case MailPOP:
		return p.POP(ctx, user, token)
	case MailSMTP:
		return p.SMTP(ctx, user, token)
	}
	return fmt.Errorf("unknown mail protocol %q", proto)
}
