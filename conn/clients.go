package conn

import (
	"context"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/store"
)

// Mailbox is a user's mailbox address: user= for mail, the impersonated
// mailbox for EWS.
func Mailbox(u store.User) string {
	if u.PrimarySMTP != "" {
		return u.PrimarySMTP
	}
	return u.Account
}

// GraphID is how Graph addresses a user's mailbox.
func GraphID(u store.User) string {
	switch {
	case u.ObjectID != "":
		return u.ObjectID
	case u.UPN != "":
		return u.UPN
	}
	return u.Account
}

// Graph is a Graph client of the profile's cloud whose token comes from
// token.
func (c *Conn) Graph(token exchange.TokenFunc) *exchange.Graph {
	return &exchange.Graph{Host: c.hosts.Graph, HTTP: c.d.HTTP, Token: token, Sleep: c.d.Sleep, Now: c.d.Now}
}

// AppGraph is Graph on the app's own (client-credentials) token.
func (c *Conn) AppGraph() *exchange.Graph {
	return c.Graph(func(ctx context.Context) (store.Secret, error) { return c.AppToken(ctx, c.hosts.GraphResource) })
}

// UserGraph is Graph for a user's mailbox: on the app's token for an
// app-only profile, else on the user's own.
func (c *Conn) UserGraph(u store.User) *exchange.Graph {
	if c.prof.Model == store.AppOnly {
		return c.AppGraph()
	}
	return c.Graph(func(ctx context.Context) (store.Secret, error) { return c.UserToken(ctx, u, c.hosts.GraphResource) })
}

// EWS is the EWS client for a user's mailbox: Basic with the service
// account on-premises, impersonating the user; otherwise Bearer with the
// user's delegated token, the app's token impersonating the user's
// mailbox, or the service account's token opening it as a delegate.
func (c *Conn) EWS(u store.User) (*exchange.EWS, *exchange.Impersonation) {
	x := &exchange.EWS{URL: c.hosts.EWS, HTTP: c.d.HTTP, Sleep: c.d.Sleep, Online: !c.prof.OnPremises, Now: c.d.Now}
	imp := &exchange.Impersonation{SMTP: Mailbox(u)}
	aud := c.Audience(store.EWS)
	switch {
	case c.prof.OnPremises:
		cs, _ := c.Secret() // its password; none stored fails at the server
		x.Username, x.Password, x.HTTP = c.prof.ServiceAccount, cs.Value, c.onPremHTTP()
		return x, imp
	case c.prof.Model == store.AppOnly:
		x.Token = func(ctx context.Context) (store.Secret, error) { return c.AppToken(ctx, aud) }
		return x, imp
	}
	x.Token = func(ctx context.Context) (store.Secret, error) { return c.UserToken(ctx, u, aud) }
	if c.prof.Model == store.ServiceAccount {
		imp.Delegate = true // FullAccess, as Exchange Online has no impersonation role any more
		return x, imp
	}
	return x, nil
}

// MailProbe is the IMAP, POP or SMTP probe of the profile's host for a
// protocol.
func (c *Conn) MailProbe(proto store.Protocol) exchange.MailProbe {
	return exchange.MailProbe{Addr: c.MailAddr(proto), TLS: c.d.MailTLS, Audience: c.Audience(proto), AppOnly: c.prof.Model == store.AppOnly}
}

// MailAddr is the profile's host:port for a mail protocol.
func (c *Conn) MailAddr(proto store.Protocol) string {
	switch proto {
	case store.IMAP:
		return c.hosts.IMAP
	case store.POP:
		return c.hosts.POP
	case store.SMTP:
		return c.hosts.SMTP
	}
	return ""
}
