package m365sim

import (
	"fmt"
	"strings"
)

// serveIMAP speaks Exchange Online's IMAP4 far enough for a sign-in probe:
// CAPABILITY, AUTHENTICATE XOAUTH2 (SASL-IR or continuation), EXAMINE or
// SELECT of the inbox, NOOP and LOGOUT.
func (m *MailServers) serveIMAP(c *mailConn) {
	c.send("* OK The Microsoft Exchange IMAP4 service is ready. [TQBXADIAUABSADAAMQBDAEEAMAAwADAAMQAuAGUAdQByAHAAcgBkADAAMQAuAHAAcgBvAGQA]")
	var login *mailLogin
	for {
		line, ok := c.line()
		if !ok {
			return
		}
		tag, rest, _ := strings.Cut(line, " ")
		cmd, arg, _ := strings.Cut(rest, " ")
		switch strings.ToUpper(cmd) {
		case "CAPABILITY":
			c.send("* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+",
				tag+" OK CAPABILITY completed.")
		case "AUTHENTICATE":
			l, ok := m.saslLogin(c, arg, "+ ", "IMAP.AccessAsUser.All", "IMAP.AccessAsApp")
			if !ok {
				c.send(tag + " NO AUTHENTICATE failed.")
				continue
			}
			login = l
			m.mu.Lock()
			m.imapLogins++
			m.mu.Unlock()
			c.send(tag + " OK AUTHENTICATE completed.")
		case "EXAMINE", "SELECT":
			switch {
			case login == nil:
				c.send(tag + " BAD Command received in Invalid state.")
			case !m.mayOpen(login):
				// Exchange takes the token, then refuses the mailbox.
				c.send(tag + " BAD User is authenticated but not connected.")
			default:
				mode := "[READ-WRITE]"
				if strings.EqualFold(cmd, "EXAMINE") {
					mode = "[READ-ONLY]"
				}
				c.send("* 0 EXISTS", "* 0 RECENT", `* FLAGS (\Seen \Answered \Flagged \Deleted \Draft $MDNSent)`,
					"* OK [UIDVALIDITY 14] UIDVALIDITY value", tag+" OK "+mode+" "+strings.ToUpper(cmd)+" completed.")
			}
		case "NOOP":
			c.send(tag + " OK NOOP completed.")
		case "LOGOUT":
			c.send("* BYE Microsoft Exchange Server IMAP4 server signing off.", tag+" OK LOGOUT completed.")
			return
		default:
			c.send(tag + " BAD Command Error. 12")
		}
	}
}

// servePOP speaks Exchange Online's POP3 for a sign-in probe: AUTH
// XOAUTH2, STAT and QUIT.
func (m *MailServers) servePOP(c *mailConn) {
	c.send("+OK The Microsoft Exchange POP3 service is ready. [TQBXADIAUABSADAAMQBDAEEAMAAwADAAMQAuAGUAdQByAHAAcgBkADAAMQAuAHAAcgBvAGQA]")
	var login *mailLogin
	for {
		line, ok := c.line()
		if !ok {
			return
		}
		cmd, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(cmd) {
		case "CAPA":
			c.send("+OK", "TOP", "UIDL", "SASL PLAIN XOAUTH2", "USER", ".")
		case "AUTH":
			l, ok := m.saslLogin(c, arg, "+ ", "POP.AccessAsUser.All", "POP.AccessAsApp")
			if !ok {
				c.send("-ERR Authentication failure: unknown user name or bad password.")
				continue
			}
			login = l
			c.send("+OK User successfully authenticated.")
		case "STAT":
			switch {
			case login == nil:
				c.send("-ERR Command is not valid in this state.")
			case !m.mayOpen(login):
				c.send("-ERR User is authenticated but not connected.")
			default:
				c.send("+OK 0 0")
			}
		case "NOOP":
			c.send("+OK")
		case "QUIT":
			c.send("+OK Microsoft Exchange Server POP3 server signing off.")
			return
		default:
			c.send("-ERR Protocol error. 14")
		}
	}
}

// saslLogin runs AUTHENTICATE or AUTH with arguments arg ("XOAUTH2" and
// perhaps the initial response) for IMAP and POP: ok is false for another
// mechanism or a refused token.
func (m *MailServers) saslLogin(c *mailConn, arg, cont, scope, role string) (*mailLogin, bool) {
	mech, ir, _ := strings.Cut(arg, " ")
	if !strings.EqualFold(mech, "XOAUTH2") {
		return nil, false
	}
	ir, ok := c.response(ir, cont)
	if !ok {
		return nil, false
	}
	l, err := m.xoauth2(ir, scope, role)
	return l, err == nil
}

// smtpHost is the diagnostic host Exchange puts after a refusal.
const smtpHost = "[AM0PR01CA0001.eurprd01.prod.exchangelabs.com 2026-11-30T09:12:44.103Z 08DE8A1B2C3D4E5F]"

// serveSMTP speaks Exchange Online's SMTP submission for a sign-in probe:
// EHLO, STARTTLS, AUTH XOAUTH2 with the SMTP AUTH switch, MAIL FROM with
// the SendAs right, RSET and QUIT. It accepts no mail.
func (m *MailServers) serveSMTP(c *mailConn) {
	c.send("220 AM0PR01CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready at Mon, 30 Nov 2026 09:12:44 +0000")
	secure := false
	var login *mailLogin
	for {
		line, ok := c.line()
		if !ok {
			return
		}
		cmd, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(cmd) {
		case "EHLO", "HELO":
			ext := "250-STARTTLS"
			if secure {
				ext = "250-AUTH LOGIN XOAUTH2"
			}
			c.send("250-AM0PR01CA0001.outlook.office365.com Hello ["+c.c.RemoteAddr().String()+"]", "250-SIZE 157286400", "250-PIPELINING",
				"250-ENHANCEDSTATUSCODES", ext, "250 SMTPUTF8")
		case "STARTTLS":
			c.send("220 2.0.0 SMTP server ready")
			if !c.startTLS(m.serverTLS) {
				return
			}
			secure = true
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			switch {
			case !secure:
				c.send("504 5.7.4 Unrecognized authentication type " + smtpHost)
				continue
			case !strings.EqualFold(mech, "XOAUTH2"):
				// Anything but a token is Basic authentication, which the
				// tenant no longer takes.
				c.send("535 5.7.139 Authentication unsuccessful, basic authentication is disabled. " + smtpHost)
				continue
			}
			if ir, ok = c.response(ir, "334 "); !ok {
				return
			}
			l, err := m.xoauth2(ir, "SMTP.Send", "SMTP.SendAsApp")
			if err != nil {
				c.send("535 5.7.3 Authentication unsuccessful " + smtpHost)
				continue
			}
			if where := m.smtpAuthOff(l.mailbox); where != "" {
				c.send(fmt.Sprintf("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the %s. Visit https://aka.ms/smtp_auth_disabled for more information. %s", where, smtpHost))
				continue
			}
			login = l
			c.send("235 2.7.0 Authentication successful")
		case "MAIL":
			from := strings.Trim(strings.TrimPrefix(strings.ToUpper(arg), "FROM:"), "<> ")
			switch {
			case login == nil:
				c.send("530 5.7.57 Client not authenticated to send mail. " + smtpHost)
			case !m.mayOpen(login) || !login.mailbox.hasAddress(from) && !strings.EqualFold(login.mailbox.UPN, from):
				who := login.mailbox.UPN
				if login.user != nil {
					who = login.user.UPN
				}
				c.send(fmt.Sprintf("554 5.2.252 SendAsDenied; %s not allowed to send as %s; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message. %s",
					strings.ToLower(who), strings.ToLower(from), smtpHost))
			default:
				m.mu.Lock()
				m.smtpAccepts++
				m.mu.Unlock()
				c.send("250 2.1.0 Sender OK")
			}
		case "RSET":
			c.send("250 2.0.0 Resetting")
		case "NOOP":
			c.send("250 2.0.0 OK")
		case "QUIT":
			c.send("221 2.0.0 Service closing transmission channel")
			return
		default:
			c.send("500 5.3.3 Unrecognized command '" + strings.ToUpper(cmd) + "' " + smtpHost)
		}
	}
}
