package flows

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/oauth2"
)

// ErrStateMismatch means a redirect does not belong to this sign-in: an old
// tab, another user's link, or a forged request.
var ErrStateMismatch = errors.New("the address is from another sign-in (state does not match): start the sign-in again and use the address it ends on")

// AuthCodeRequest describes an interactive sign-in.
type AuthCodeRequest struct {
	RedirectURI string   // must be registered exactly (http://localhost may differ in port)
	Scopes      []string // may span resources; add openid, profile, offline_access
	LoginHint   string   // prefill the expected user's name
	Prompt      string   // "", "select_account", "login" or "consent"
	// Confidential redeems the code with the client secret: set it when the
	// redirect URI is on the Web platform (a product's own callback).
	Confidential bool
}

// AuthCodeSession is one sign-in in progress: open URL in a browser, then
// hand the address the browser ends on to Complete.
type AuthCodeSession struct {
	URL string

	c        *Client
	req      AuthCodeRequest
	state    string
	nonce    string
	verifier string
}

// StartAuthCode prepares an authorization-code sign-in with PKCE (S256),
// state and nonce.
func (c *Client) StartAuthCode(req AuthCodeRequest) (*AuthCodeSession, error) {
	if req.RedirectURI == "" {
		return nil, fmt.Errorf("start sign-in: no redirect URI: register one and enter it in the profile")
	}
	s := &AuthCodeSession{c: c, req: req, state: randomString(), nonce: randomString(), verifier: oauth2.GenerateVerifier()}
	opts := []oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(s.verifier),
		oauth2.SetAuthURLParam("nonce", s.nonce),
		oauth2.SetAuthURLParam("response_mode", "query"),
	}
	if req.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", req.LoginHint))
	}
	if req.Prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", req.Prompt))
	}
	s.URL = s.oauth2Config().AuthCodeURL(s.state, opts...)
	return s, nil
}

func (s *AuthCodeSession) oauth2Config() *oauth2.Config {
	conf := &oauth2.Config{
		ClientID:    s.c.cfg.ClientID,
		RedirectURL: s.req.RedirectURI,
		Scopes:      s.req.Scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   s.c.ep.Authorization,
			TokenURL:  s.c.ep.Token,
			AuthStyle: oauth2.AuthStyleInParams, // Entra's client_secret_post; autodetect would double failures
		},
	}
	if s.req.Confidential {
		conf.ClientSecret = s.c.cfg.ClientSecret.Reveal()
	}
	return conf
}

// Complete takes the address the browser was sent back to (pasted by a
// person, or received by the loopback listener), checks its state, and
// redeems the code.
func (s *AuthCodeSession) Complete(ctx context.Context, redirected string) (*Token, error) {
	q, err := redirectQuery(redirected)
	if err != nil {
		return nil, err
	}
	if q.Get("state") != s.state {
		return nil, ErrStateMismatch
	}
	if q.Get("error") != "" {
		return nil, fmt.Errorf("sign-in failed: %w", ParseRedirectError(q))
	}
	code := q.Get("code")
	if code == "" {
		return nil, fmt.Errorf("the address has no code: copy the whole address the browser ends on, starting with %s", s.req.RedirectURI)
	}
	tok, err := s.oauth2Config().Exchange(s.c.oauth2Ctx(ctx), code,
		oauth2.VerifierOption(s.verifier),
		oauth2.SetAuthURLParam("scope", strings.Join(tokenScopes(s.req.Scopes), " ")))
	if err != nil {
		return nil, fmt.Errorf("redeem code: %w", s.c.fromOAuth2(err))
	}
	idt, _ := tok.Extra("id_token").(string)
	scope, _ := tok.Extra("scope").(string)
	t, err := s.c.token(ctx, tokenBody{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, IDToken: idt, ExpiresIn: expiresIn(tok), Scope: scope}, s.nonce)
	if err != nil {
		return nil, err
	}
	t.Confidential = s.req.Confidential
	return t, nil
}

// redirectQuery reads a pasted redirect: a whole URL, or just its query,
// with stray quotes and spaces from copying.
func redirectQuery(s string) (url.Values, error) {
	s = strings.Trim(strings.TrimSpace(s), `"'<>`)
	if s == "" {
		return nil, fmt.Errorf("nothing was pasted: paste the whole address the browser ends on")
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[i+1:]
	}
	q, err := url.ParseQuery(s)
	if err != nil {
		return nil, fmt.Errorf("the pasted text is not a sign-in address: %w", err)
	}
	return q, nil
}

// tokenScopes keeps the scopes of the first resource named, plus the
// OpenID ones: on /token a request may target one resource only.
func tokenScopes(scopes []string) []string {
	var out []string
	resource := ""
	for _, s := range scopes {
		r := scopeResource(s)
		switch {
		case r == "":
			out = append(out, s)
		case resource == "" || resource == r:
			resource = r
			out = append(out, s)
		}
	}
	return out
}

// scopeResource is the resource a scope belongs to: "" for OpenID scopes.
func scopeResource(s string) string {
	switch strings.ToLower(s) {
	case "openid", "profile", "email", "offline_access":
		return ""
	}
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return strings.ToLower(s[:i])
	}
	return "https://graph.microsoft.com"
}

// SignInLoopback runs a sign-in whose redirect comes back to a listener on
// the loopback interface: req.RedirectURI is the registered loopback
// redirect (default http://localhost, Entra's), and only its port is
// replaced. open is called with the URL to show: it may start a browser,
// or print the URL for a person to open.
func (c *Client) SignInLoopback(ctx context.Context, req AuthCodeRequest, open func(url string) error) (*Token, error) {
	lb, err := ListenLoopbackAt(req.RedirectURI)
	if err != nil {
		return nil, err
	}
	defer lb.Close()
	req.RedirectURI = lb.RedirectURI
	s, err := c.StartAuthCode(req)
	if err != nil {
		return nil, err
	}
	lb.Serve(s.Complete)
	if err := open(s.URL); err != nil {
		return nil, fmt.Errorf("open the sign-in page: %w", err)
	}
	select {
	case r := <-lb.Results():
		return r.Token, r.Err
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the browser sign-in: %w", ctx.Err())
	}
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// aadstsInPage finds "AADSTSnnnn: text" in an error page.
var aadstsInPage = regexp.MustCompile(`AADSTS(\d+): ([^"<\\]{1,400})`)

// Preflight loads the sign-in page once, without a browser, so that the
// errors a provider shows on its own page (unknown tenant or app, redirect
// URI not registered) are caught before a person is sent there. A page
// with AADSTS text, any 4xx page, and a redirect that carries error= are
// failures; anything else (the sign-in page, a redirect onward to log in)
// is nil.
func (s *AuthCodeSession) Preflight(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return fmt.Errorf("check sign-in page: %w", err)
	}
	hc := *s.c.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("check sign-in page: reach %s: %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(io.LimitReader(resp.Body, 2<<20))
	if m := aadstsInPage.FindSubmatch(page); m != nil {
		desc := html.UnescapeString("AADSTS" + string(m[1]) + ": " + string(m[2]))
		return fmt.Errorf("sign-in page: %w", ParseRedirectError(url.Values{"error": {"invalid_request"}, "error_description": {desc}}))
	}
	if loc, err := resp.Location(); err == nil {
		if q := loc.Query(); q.Get("error") != "" {
			return fmt.Errorf("sign-in page: the provider sent the sign-in back: %w", ParseRedirectError(q))
		}
	}
	if resp.StatusCode/100 == 4 {
		return fmt.Errorf("sign-in page: %w", pageError(resp.StatusCode, page))
	}
	return nil
}

// pageError reads the error of a 4xx sign-in page that is not Entra's: a
// JSON error body when it is one, else the page's text.
func pageError(status int, page []byte) *Error {
	var b struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(page, &b) == nil && b.Error != "" {
		return ParseRedirectError(url.Values{"error": {b.Error}, "error_description": {b.Description}})
	}
	text := strings.Join(strings.Fields(html.UnescapeString(htmlTag.ReplaceAllString(string(page), " "))), " ")
	if len(text) > 400 {
		text = text[:400]
	}
	if text == "" {
		text = http.StatusText(status)
	}
	return ParseRedirectError(url.Values{"error": {"invalid_request"}, "error_description": {fmt.Sprintf("the provider's page answered %d: %s", status, text)}})
}

// htmlTag matches a tag, to read a page's text.
var htmlTag = regexp.MustCompile(`<[^>]*>`)
