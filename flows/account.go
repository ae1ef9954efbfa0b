package flows

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/modauth/modauth/store"
)

// WrongAccountError is a sign-in by someone other than the expected user:
// typically a browser still signed in as the consultant or the admin.
type WrongAccountError struct {
	Expected string // the UPN modauth asked for
	Got      string // preferred_username of who signed in
}

func (e *WrongAccountError) Error() string {
	return fmt.Sprintf("signed in as %s, but this sign-in is for %s: sign out in the browser (or use a private window) and sign in as %s", e.Got, e.Expected, e.Expected)
}

// ErrNoUserInToken means a validated id_token names nobody: no oid, no
// preferred_username, no sub and no email.
var ErrNoUserInToken = errors.New("the provider's id_token names no user (no oid, preferred_username, sub or email): ask for the openid scope (and email), or ask the provider's admin to release a user identifier")

// CheckAccount verifies that the id_token's identity is the expected user:
// by object ID when it is known (names change, oid does not), else by UPN.
// For a provider other than Entra, ObjectID is the token's sub and
// PreferredUsername its email (see identityFrom).
func CheckAccount(id *store.Identity, want store.User) error {
	if id == nil {
		return fmt.Errorf("check account: the sign-in returned no id_token: ask for the openid and profile scopes")
	}
	if id.ObjectID == "" && id.PreferredUsername == "" {
		return fmt.Errorf("check account: %w", ErrNoUserInToken)
	}
	expected := want.UPN
	if expected == "" {
		expected = want.Account
	}
	ok := strings.EqualFold(id.PreferredUsername, expected)
	if want.ObjectID != "" {
		ok = id.ObjectID == want.ObjectID
	}
	if !ok {
		got := id.PreferredUsername
		if got == "" {
			got = "subject " + id.ObjectID + " of " + id.TenantID
		}
		return &WrongAccountError{Expected: expected, Got: got}
	}
	return nil
}

// identity validates an id_token and returns who signed in.
func (c *Client) identity(ctx context.Context, idToken, nonce string) (*store.Identity, error) {
	keys, err := c.jwksSet(ctx)
	if err != nil {
		return nil, err
	}
	cl, err := keys.ValidateIDToken(idToken, c.ep.Issuer, c.cfg.ClientID, nonce, c.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("check id_token: %w", err)
	}
	return identityFrom(cl), nil
}

// identityFrom maps claims to a store.Identity. Entra's tokens carry oid,
// tid and preferred_username, used as they are. A token without oid and
// preferred_username (a provider other than Entra) maps as:
//
//	ObjectID          <- sub (unique and never reassigned within its issuer)
//	TenantID          <- iss (the namespace sub is unique in)
//	PreferredUsername <- email, when present
//	Name              <- name
//
// so that matching by ObjectID, and by UPN against the email, keeps working.
func identityFrom(cl Claims) *store.Identity {
	if cl.Oid != "" || cl.PreferredUsername != "" {
		return &store.Identity{ObjectID: cl.Oid, TenantID: cl.Tid, PreferredUsername: cl.PreferredUsername, Name: cl.Name}
	}
	return &store.Identity{ObjectID: cl.Sub, TenantID: cl.Iss, PreferredUsername: cl.Email, Name: cl.Name}
}

// AdminConsentURL is the link an admin opens to grant the app's
// permissions for the whole organization. With scopes it is the v2 form
// (only those scopes); without, the older form that grants every
// permission the registration lists.
func (c *Client) AdminConsentURL(redirectURI, state string, scopes ...string) string {
	q := url.Values{"client_id": {c.cfg.ClientID}, "redirect_uri": {redirectURI}, "state": {state}}
	path := "/adminconsent"
	if len(scopes) > 0 {
		q.Set("scope", strings.Join(scopes, " "))
		path = "/v2.0/adminconsent"
	}
	return c.cfg.Authority + "/" + url.PathEscape(c.cfg.Tenant) + path + "?" + q.Encode()
}

// CompleteAdminConsent checks the redirect after admin consent.
func CompleteAdminConsent(redirected, state string) error {
	q, err := redirectQuery(redirected)
	if err != nil {
		return err
	}
	if q.Get("state") != state {
		return ErrStateMismatch
	}
	if q.Get("error") != "" {
		return fmt.Errorf("admin consent failed: %w", ParseRedirectError(q))
	}
	if !strings.EqualFold(q.Get("admin_consent"), "true") {
		return fmt.Errorf("admin consent was not granted: sign in as a Global, Privileged Role, Cloud Application or Application Administrator")
	}
	return nil
}
