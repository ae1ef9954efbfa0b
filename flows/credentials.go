package flows

import (
	"context"
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
