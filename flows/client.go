// Package flows speaks OAuth 2.0 with the Microsoft identity platform v2:
// discovery, authorization code with PKCE (loopback or pasted back),
// device code, client credentials, refresh with rotation, the admin
// consent URL, and the AADSTS catalog that turns error bodies into typed
// errors with a fix.
//
// Endpoints come from OpenID discovery on a configurable authority host,
// so the public cloud, national clouds and m365sim are one code path; or,
// for a provider other than Entra, from its issuer URL (Config.Issuer).
//
// golang.org/x/oauth2 builds the authorize URL and PKCE values and runs the
// code exchange and client-credentials grant. Refresh and device-code
// polling are done here: x/oauth2 sends no scope on refresh (one refresh
// token must mint Exchange and Graph tokens), drops the device-code
// message, and polls on the wall clock, which tests cannot advance.
package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modauth/modauth/store"
	"golang.org/x/oauth2"
)

// PublicCloud is the authority host of Microsoft's global cloud.
const PublicCloud = "https://login.microsoftonline.com"

// Config says which app in which tenant the flows act for.
type Config struct {
	Authority string // authority host; default PublicCloud
	Tenant    string // GUID or verified domain
	// Issuer, when set, replaces Authority and Tenant for a provider other
	// than Entra: discovery reads {Issuer}/.well-known/openid-configuration
	// and the document must name this issuer.
	Issuer   string
	ClientID string
	// ClientSecret is sent only by confidential grants: client credentials,
	// and codes and refresh tokens from a Web-platform redirect, and the
	// device flow when DeviceConfidential is set.
	ClientSecret store.Secret
	// DeviceConfidential sends ClientSecret with the device authorization
	// request and its polls (client_secret_post, RFC 8628 §3.1), for a
	// provider whose device client is confidential. Entra's is public.
	DeviceConfidential bool
	// Certificate, when set, authenticates client credentials with a
	// signed client assertion instead of the secret.
	Certificate *ClientCertificate

	HTTPClient *http.Client                                     // default: 30 s timeout
	Now        func() time.Time                                 // default time.Now
	Sleep      func(ctx context.Context, d time.Duration) error // device-code polling; default waits on a timer
	Logger     *slog.Logger                                     // requests at debug level, never bodies; default discards
}

// Client runs flows for one app in one tenant.
type Client struct {
	cfg  Config
	http *http.Client
	ep   Endpoints

	jwksMu sync.Mutex
	jwks   *JWKS

	// legacyAssertion: the tenant refused a PS256 assertion (AADSTS700027)
	// and took RS256, so this client signs RS256 from then on.
	legacyAssertion atomic.Bool
}

// New discovers the tenant's endpoints and returns a client for them. An
// unknown tenant is an *Error of KindTenantNotFound (AADSTS90002).
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Authority == "" {
		cfg.Authority = PublicCloud
	}
	cfg.Authority = strings.TrimSuffix(cfg.Authority, "/")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: 30 * time.Second}
	}
	hc := *base
	hc.Transport = &logTransport{next: base.Transport, log: cfg.Logger}
	c := &Client{cfg: cfg, http: &hc}
	ep, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	c.ep = ep
	return c, nil
}

// Endpoints returns what discovery found.
func (c *Client) Endpoints() Endpoints { return c.ep }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Token is what a grant returned.
//
// When RefreshToken is set it replaces the one used: store it (Stored)
// before using AccessToken, because the identity platform rotates refresh
// tokens and a crash in between would lose the newest one.
type Token struct {
	AccessToken  store.Secret
	RefreshToken store.Secret
	Expiry       time.Time
	Scopes       []string
	// Identity is who signed in, from the validated id_token; nil when
	// openid was not asked for.
	Identity *store.Identity

	Issued       time.Time // when the user signed in
	Refreshed    time.Time // when this refresh happened; zero for a sign-in
	ViaDevice    bool      // from the device-code flow (Conditional Access tracks it)
	Confidential bool      // redeemed with the client secret; refreshes need it too
}

// Stored is the token as the store keeps it: the refresh token and
// metadata, never the access token.
func (t *Token) Stored() store.Token {
	return store.Token{
		RefreshToken: t.RefreshToken,
		AccessExpiry: t.Expiry,
		Issued:       t.Issued,
		Refreshed:    t.Refreshed,
		Scopes:       t.Scopes,
		ViaDevice:    t.ViaDevice,
		Confidential: t.Confidential,
	}
}

// tokenBody is the token endpoint's success response.
type tokenBody struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
}

// postForm sends a form to an endpoint and decodes a JSON success into
// out, or returns the parsed *Error.
func (c *Client) postForm(ctx context.Context, endpoint string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	return c.do(req, out)
}

func (c *Client) do(req *http.Request, out any) error {
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("reach %s: %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read response from %s: %w", req.URL.Host, err)
	}
	if resp.StatusCode/100 != 2 {
		return ParseResponse(resp, body, c.cfg.Now())
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode response from %s: %w", req.URL.Host, err)
	}
	return nil
}

// fromOAuth2 turns an x/oauth2 failure into an *Error.
func (c *Client) fromOAuth2(err error) error {
	if re, ok := err.(*oauth2.RetrieveError); ok && re.Response != nil {
		return ParseResponse(re.Response, re.Body, c.cfg.Now())
	}
	return err
}

// oauth2Ctx carries the client's HTTP client into x/oauth2.
func (c *Client) oauth2Ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.http)
}

// token turns a success body into a Token, validating the id_token.
func (c *Client) token(ctx context.Context, b tokenBody, nonce string) (*Token, error) {
	now := c.cfg.Now()
	t := &Token{
		AccessToken:  store.Secret(b.AccessToken),
		RefreshToken: store.Secret(b.RefreshToken),
		Expiry:       now.Add(time.Duration(b.ExpiresIn) * time.Second),
		Scopes:       strings.Fields(b.Scope),
		Issued:       now,
	}
	if b.IDToken != "" {
		id, err := c.identity(ctx, b.IDToken, nonce)
		if err != nil {
			return nil, err
		}
		t.Identity = id
	}
	return t, nil
}

// expiresIn reads a token's lifetime in seconds. x/oauth2 fills ExpiresIn
// on the code exchange but not for client credentials, and computes Expiry
// on the wall clock, which is not the injected one: so read the wire field
// from the raw answer when ExpiresIn is missing, and never Expiry (x/oauth2
// derives it from that same field, so it adds nothing).
func expiresIn(t *oauth2.Token) int64 {
	if t.ExpiresIn > 0 {
		return t.ExpiresIn
	}
	switch v := t.Extra("expires_in").(type) {
	case float64:
		return int64(v)
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}
