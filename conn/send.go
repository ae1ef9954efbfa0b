package conn

import (
	"context"
	"errors"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/store"
)

// Mail.Send has no dry run in Graph (reference §9.6): the probe proves the
// grant is there, and only a real message proves it works. These send
// one, from a mailbox to itself, not kept in Sent Items, and only when a
// person said yes.

// testSubject marks the message, so that whoever finds it knows why.
const testSubject = "modauth connection test"

// Sends reports whether the profile's plan sends mail through Graph.
func (c *Conn) Sends() bool { return c.sends() }

// SendTest sends a test message from u's mailbox to itself with the
// profile's access: the app's token for app-only, else u's own.
func (c *Conn) SendTest(ctx context.Context, u store.User) Result {
	ctx, col := withCollector(ctx)
	mb := Mailbox(u)
	r := Result{Protocol: store.Graph, Tried: "send a test message from " + mb + " to itself"}
	if err := c.UserGraph(u).SendTest(ctx, mb, testSubject, "A test of the mail connection, sent by modauth at the consultant's request. Nothing to do."); err != nil {
		f := c.failure(err, u, store.Graph, col)
		r.Err, r.Message, r.Meaning, r.Fix, r.PowerShell = err, f.Message, f.Meaning, f.Fix, f.PowerShell
		return r
	}
	r.OK, r.Tried = true, "sent a test message from "+mb+" to itself; Graph accepted it (202: accepted, not yet delivered)"
	return r
}

// ScopeProof checks that the app may not send as a mailbox outside the
// scope the plan limits it to (RBAC for Applications): the refusal is the
// pass. Where the scope is not in force the message goes out, from that
// mailbox to itself, and the result says how to narrow the scope to the
// product's mailbox, inside.
func (c *Conn) ScopeProof(ctx context.Context, inside store.User, outside string) Result {
	r := c.SendTest(ctx, store.User{Key: "scope-proof", Account: outside, PrimarySMTP: outside})
	switch {
	case r.OK:
		return Result{Protocol: store.Graph, Tried: "send as " + outside + ", outside the app's scope",
			Err: errScopeOpen, Message: "the app sent as " + outside + ": its scope does not hold",
			Fix: "The app reaches mailboxes outside the product's. Apply the plan's RBAC for Applications scope (New-ManagementScope, New-ManagementRoleAssignment -CustomResourceScope), " +
				"then remove the tenant-wide admin consent for Mail.Send in Entra ID (Enterprise applications > the app > Permissions): Entra and Exchange grants add up. " +
				"Test-ServicePrincipalAuthorization -Identity <app> -Resource " + outside + " must show InScope False.",
			PowerShell: pickPowerShell(c.powerShell(inside), []string{"rbac"})}
	case errors.Is(r.Err, exchange.ErrAccessPolicy), errors.Is(r.Err, exchange.ErrForbidden):
		return Result{Protocol: store.Graph, OK: true, Tried: "the app may not send as " + outside + ", outside its scope: refused, as it should be"}
	}
	return r // the check itself failed: its own message and fix
}

// errScopeOpen: a mailbox outside the scope was reached.
var errScopeOpen = errors.New("the app's scope does not hold")
