package monitor

import (
	"context"
	"fmt"

	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/store"
)

// probeMail signs in to the user's mailbox over IMAP, POP or SMTP with
// XOAUTH2, as the wizard's test does: mail-protocol products keep no
// sync-ids, so the job is to prove that their sign-in still works.
func (e *Engine) probeMail(ctx context.Context, c *profileConn, w *work, proto store.Protocol) error {
	if err := c.Probe(ctx, w.user, proto).Failure(); err != nil {
		return fmt.Errorf("%s sign-in of %s: %w", proto, conn.Mailbox(w.user), err)
	}
	return nil
}
