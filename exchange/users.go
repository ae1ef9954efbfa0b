package exchange

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/modauth/modauth/store"
)

// DirectoryUser is a user as Graph describes one.
type DirectoryUser struct {
	ID                string   `json:"id"`
	UserPrincipalName string   `json:"userPrincipalName"`
	DisplayName       string   `json:"displayName"`
	Mail              string   `json:"mail"`
	ProxyAddresses    []string `json:"proxyAddresses"`
	AccountEnabled    *bool    `json:"accountEnabled"`
}

// PrimarySMTP is the user's primary address: the "SMTP:" proxy address
// (upper case marks the primary), else mail.
func (u DirectoryUser) PrimarySMTP() string {
	for _, p := range u.ProxyAddresses {
		if strings.HasPrefix(p, "SMTP:") {
			return p[len("SMTP:"):]
		}
	}
	return u.Mail
}

const userSelect = "$select=id,userPrincipalName,displayName,mail,proxyAddresses,accountEnabled"

// How a product's account was found.
const (
	ByUPN   = "upn"
	ByMail  = "mail"
	ByAlias = "proxyAddresses"
)

// FindUser finds the directory user behind an account as a product knows
// it: by UPN, else by primary mail address, else by any of its addresses.
// It needs User.Read.All. A user that does not exist is ErrNotFound.
func (g *Graph) FindUser(ctx context.Context, account string) (DirectoryUser, string, error) {
	var u DirectoryUser
	err := g.Do(ctx, http.MethodGet, "/users/"+url.PathEscape(account)+"?"+userSelect, nil, &u)
	if err == nil {
		return u, ByUPN, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return u, "", fmt.Errorf("find user %s: %w", account, err)
	}
	lookups := []struct{ by, filter string }{
		{ByMail, "mail eq '" + odataString(account) + "'"},
		// Scripts test both prefixes: the case of "smtp:" was never confirmed to match.
		{ByAlias, "proxyAddresses/any(p:p eq 'smtp:" + odataString(account) + "') or proxyAddresses/any(p:p eq 'SMTP:" + odataString(account) + "')"},
	}
	for _, l := range lookups {
		users, err := List[DirectoryUser](ctx, g, "/users?$filter="+url.QueryEscape(l.filter)+"&"+userSelect)
		if err != nil {
			return u, "", fmt.Errorf("find user %s by %s: %w", account, l.by, err)
		}
		if len(users) > 0 {
			return users[0], l.by, nil
		}
	}
	return u, "", fmt.Errorf("find user %s: no user has it as UPN, mail or alias: %w", account, ErrNotFound)
}

func odataString(s string) string { return strings.ReplaceAll(s, "'", "''") }

// ErrNoMailbox marks a user without an Exchange Online mailbox.
var ErrNoMailbox = errors.New("no mailbox")

// HasMailbox reports whether the user has an Exchange Online mailbox.
func (g *Graph) HasMailbox(ctx context.Context, userID string) (bool, error) {
	var settings map[string]any
	err := g.Do(ctx, http.MethodGet, "/users/"+url.PathEscape(userID)+"/mailboxSettings", nil, &settings)
	var ge *GraphError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ge) && (ge.Code == "MailboxNotEnabledForRESTAPI" || ge.Status == http.StatusNotFound):
		return false, nil
	}
	return false, fmt.Errorf("check mailbox of %s: %w", userID, err)
}

// ResolveUser maps a product's user to the directory: UPN, primary SMTP
// address, object ID, how it was found, and its mapping status. A user
// that cannot be found is returned with MappingNotFound and no error; an
// error means Graph could not be asked.
func (g *Graph) ResolveUser(ctx context.Context, u store.User) (store.User, error) {
	d, by, err := g.FindUser(ctx, u.Account)
	switch {
	case errors.Is(err, ErrNotFound):
		u.Mapping, u.UPN, u.PrimarySMTP, u.ObjectID, u.ResolvedBy = store.MappingNotFound, "", "", "", ""
		return u, nil
	case err != nil:
		return u, err
	}
	u.UPN, u.PrimarySMTP, u.ObjectID, u.ResolvedBy = d.UserPrincipalName, d.PrimarySMTP(), d.ID, by
	switch {
	case d.AccountEnabled != nil && !*d.AccountEnabled:
		u.Mapping = store.MappingDisabled
		return u, nil
	case by != ByUPN:
		u.Mapping = store.MappingMismatch
	default:
		u.Mapping = store.MappingOK
	}
	ok, err := g.HasMailbox(ctx, d.ID)
	if errors.Is(err, ErrForbidden) {
		// Reading mailbox settings needs MailboxSettings.Read, which the
		// app may lack: then a user without a mail address is taken as
		// having no mailbox, which holds for unlicensed users.
		ok, err = d.Mail != "", nil
	}
	if err != nil {
		return u, err
	}
	if !ok {
		u.Mapping = store.MappingNoMailbox
	}
	return u, nil
}
