package monitor

import (
	"context"
	"fmt"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/store"
)

// probeMail signs in to the user's mailbox over IMAP, POP or SMTP with
// XOAUTH2: mail-protocol products keep no sync-ids, so the job is to prove
// that their sign-in still works.
func (e *Engine) probeMail(ctx context.Context, c *conn, w *work, proto store.Protocol) error {
	mailbox := w.user.PrimarySMTP
	if mailbox == "" {
		mailbox = w.user.Account
	}
	var token store.Secret
	var err error
	if c.prof.Model == store.AppOnly {
		token, err = c.appToken(ctx, audEWS) // app-only mail tokens are for the Exchange resource
	} else {
		token, err = c.accessToken(w.user.Key, audOutlook)
	}
	if err != nil {
		return err
	}
	addr := map[store.Protocol]string{store.IMAP: c.hosts.IMAP, store.POP: c.hosts.POP, store.SMTP: c.hosts.SMTP}[proto]
	probe := exchange.MailProbe{Addr: addr, TLS: e.opts.MailTLS}
	if err := probe.Probe(ctx, exchange.MailProtocol(proto), mailbox, token); err != nil {
		return fmt.Errorf("%s sign-in of %s: %w", proto, mailbox, err)
	}
	return nil
}
