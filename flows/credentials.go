package flows

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/modauth/modauth/store"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ClientCredentials gets an app-only token for resource (an App ID URI
// such as https://outlook.office365.com) with the client secret. It never
// returns a refresh token: ask again when it expires.
func (c *Client) ClientCredentials(ctx context.Context, resource string) (*Token, error) {
	if c.cfg.Certificate != nil {
		return c.certificateCredentials(ctx, resource)
	}
	if c.cfg.ClientSecret.IsZero() {
		return nil, fmt.Errorf("get app-only token: no client secret: enter the secret's value for this profile")
	}
	cc := clientcredentials.Config{
		ClientID:     c.cfg.ClientID,
		ClientSecret: c.cfg.ClientSecret.Reveal(),
		TokenURL:     c.ep.Token,
		Scopes:       []string{strings.TrimSuffix(resource, "/") + "/.default"},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	tok, err := cc.Token(c.oauth2Ctx(ctx))
	if err != nil {
		return nil, fmt.Errorf("get app-only token for %s: %w", resource, c.fromOAuth2(err))
	}
	t, err := c.token(ctx, tokenBody{AccessToken: tok.AccessToken, ExpiresIn: expiresIn(tok)}, "")
	if err != nil {
		return nil, err
	}
	t.Confidential = true
	return t, nil
}

// certificateCredentials gets an app-only token with a client assertion
// signed by the profile's certificate: PS256 first, as MSAL Go does, and
// once more with RS256 when the tenant answers AADSTS700027 to PS256
// (microsoft.md §9.2). A client that fell back stays on RS256.
func (c *Client) certificateCredentials(ctx context.Context, resource string) (*Token, error) {
	legacy := c.legacyAssertion.Load()
	b, err := c.assertionGrant(ctx, resource, legacy)
	var e *Error
	if !legacy && errors.As(err, &e) && e.Code() == codeAssertionInvalid {
		if b, err = c.assertionGrant(ctx, resource, true); err == nil {
			c.legacyAssertion.Store(true)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("get app-only token for %s with certificate %s: %w", resource, ThumbprintSHA1(c.cfg.Certificate.Cert.Raw), err)
	}
	t, err := c.token(ctx, b, "")
	if err != nil {
		return nil, err
	}
	t.Confidential = true
	return t, nil
}

// codeAssertionInvalid is AADSTS700027: the assertion's signature or key
// was not accepted.
const codeAssertionInvalid = 700027

func (c *Client) assertionGrant(ctx context.Context, resource string, legacy bool) (tokenBody, error) {
	var b tokenBody
	jwt, err := signAssertion(c.cfg.Certificate, c.cfg.ClientID, c.ep.Token, c.cfg.Now(), legacy)
	if err != nil {
		return b, err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {c.cfg.ClientID},
		"scope":                 {strings.TrimSuffix(resource, "/") + "/.default"},
		"client_assertion_type": {AssertionType},
		"client_assertion":      {jwt},
	}
	err = c.postForm(ctx, c.ep.Token, form, &b)
	return b, err
}

// Refresh redeems a stored refresh token for an access token to the
// scopes' resource (one refresh token serves Exchange and Graph). With no
// scopes it asks for the stored ones.
//
// The result carries the rotated refresh token: store it (Token.Stored)
// before using the access token. If the service sent none, the old one is
// kept.
func (c *Client) Refresh(ctx context.Context, prev store.Token, scopes ...string) (*Token, error) {
	if prev.RefreshToken.IsZero() {
		return nil, fmt.Errorf("refresh: %w", &Error{Err: "invalid_grant", Kind: KindSignInNeeded, Description: "no refresh token is stored: the user signs in"})
	}
	if len(scopes) == 0 {
		scopes = prev.Scopes
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {c.cfg.ClientID},
		"refresh_token": {prev.RefreshToken.Reveal()},
		"scope":         {strings.Join(tokenScopes(scopes), " ")},
	}
	if prev.Confidential {
		form.Set("client_secret", c.cfg.ClientSecret.Reveal())
	}
	var b tokenBody
	if err := c.postForm(ctx, c.ep.Token, form, &b); err != nil {
		return nil, fmt.Errorf("refresh: %w", err)
	}
	t, err := c.token(ctx, b, "")
	if err != nil {
		return nil, err
	}
	if t.RefreshToken.IsZero() {
		t.RefreshToken = prev.RefreshToken
	}
	t.Issued, t.Refreshed = prev.Issued, c.cfg.Now()
	t.ViaDevice, t.Confidential = prev.ViaDevice, prev.Confidential
	return t, nil
}
