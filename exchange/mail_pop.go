package exchange

import (
	"context"
	"strings"

	"github.com/modauth/modauth/store"
)

// POP signs user in with token over POP3 with implicit TLS: AUTH XOAUTH2,
// the initial response after the server's "+" continuation, STAT (which
// needs the mailbox), then QUIT.
func (p MailProbe) POP(ctx context.Context, user string, token store.Secret) error {
	return p.mailRun(ctx, MailPOP, mailPOPAddr, true, user, token, popAuth)
}

func popAuth(s *mailSession) error {
	line, err := s.readLine()
	if err != nil {
		return s.fail(mailStageGreeting, "", err)
	}
	if !strings.HasPrefix(line, "+OK") {
		return s.fail(mailStageGreeting, line, mailErrUnexpected)
	}

	if err := s.writeLine("AUTH XOAUTH2"); err != nil {
		return s.fail(mailStageAuth, "", err)
	}
	if line, err = s.readLine(); err != nil {
		return s.fail(mailStageAuth, "", err)
	}
	if !strings.HasPrefix(line, "+") || strings.HasPrefix(line, "+OK") {
		return s.fail(mailStageAuth, line, mailErrNoXOAUTH2)
	}
	if err := s.writeLine(s.ir); err != nil {
		return s.fail(mailStageAuth, "", err)
	}
	for challenges := 0; ; challenges++ {
		line, err := s.readLine()
		if err != nil {
			return s.fail(mailStageAuth, "", err)
		}
		switch {
		case strings.HasPrefix(line, "+OK"):
			return s.popStat()
		case strings.HasPrefix(line, "+") && challenges < 2:
			// The error challenge: answer with an empty line to get the result.
			if err := s.writeLine(""); err != nil {
				return s.fail(mailStageAuth, "", err)
			}
		case strings.HasPrefix(line, "-ERR"):
			return s.popRefused(line)
		default:
			return s.fail(mailStageAuth, line, mailErrUnexpected)
		}
	}
}

// popRefused maps an -ERR answer to AUTH. RFC 3206 codes tell a temporary
// failure from a refusal; Exchange sends none and means a refusal.
func (s *mailSession) popRefused(line string) error {
	if strings.Contains(strings.ToUpper(line), "[SYS/TEMP]") {
		return s.fail(mailStageAuth, line, mailErrTemporary)
	}
	return s.failFix(mailStageAuth, line, ErrMailAuthFailed, s.refusedFix("POP", "-PopEnabled $true"))
}

// popStat asks for the mailbox's size: the first command that needs the
// mailbox, after the token was accepted.
func (s *mailSession) popStat() error {
	if err := s.writeLine("STAT"); err != nil {
		return s.fail(mailStageMailbox, "", err)
	}
	line, err := s.readLine()
	switch {
	case err != nil:
		return s.fail(mailStageMailbox, "", err)
	case strings.HasPrefix(line, "+OK"):
		s.logout("QUIT", "+OK")
		return nil
	case strings.HasPrefix(line, "-ERR"):
		return s.failFix(mailStageMailbox, line, ErrMailboxAccessDenied, s.mailboxFix("POP"))
	}
	return s.fail(mailStageMailbox, line, mailErrUnexpected)
}
