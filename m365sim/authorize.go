package m365sim

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// authorizeRequest is a validated /authorize request: its errors so far
// are the ones Entra shows on its own page, before any redirect.
type authorizeRequest struct {
	tenant   *Tenant
	app      *App
	params   url.Values
	redirect string
	public   bool
}

func (s *Sim) parseAuthorize(tenant string, q url.Values) (*authorizeRequest, *Error) {
	t := s.tenant(tenant)
	if t == nil {
		return nil, errTenantNotFound(tenant)
	}
	app := t.App(q.Get("client_id"))
	if app == nil {
		return nil, errClientNotFound(q.Get("client_id"), t.ID)
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" {
		return nil, aad(400, "invalid_request", 900971, "No reply address provided.")
	}
	ok, public := app.matchRedirect(redirect)
	if !ok && s.opts.PlainOIDC {
		ok, public = app.matchRedirectBy(redirect, loopbackMatch)
	}
	if !ok {
		return nil, aad(400, "invalid_request", 50011, "The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.", redirect, app.ClientID)
	}
	return &authorizeRequest{tenant: t, app: app, params: q, redirect: redirect, public: public}, nil
}

// redirectWith builds the redirect back to the client.
func (a *authorizeRequest) redirectWith(v url.Values) string {
	if st := a.params.Get("state"); st != "" {
		v.Set("state", st)
	}
	sep := "?"
	if strings.Contains(a.redirect, "?") {
		sep = "&"
	}
	return a.redirect + sep + v.Encode()
}

func (a *authorizeRequest) redirectError(e *Error) string {
	return a.redirectWith(url.Values{"error": {e.Err}, "error_description": {e.Error()}})
}

// complete signs the user in and returns the redirect: a code, or an error
// the client must handle. Callers hold s.mu.
func (s *Sim) completeAuthorize(a *authorizeRequest, upn string, accept bool) string {
	q := a.params
	if q.Get("response_type") != "code" {
		return a.redirectError(aad(400, "unsupported_response_type", 900144, "The provided value for the input parameter 'response_type' is not allowed for this request. Expected value: code."))
	}
	method := q.Get("code_challenge_method")
	if q.Get("code_challenge") != "" && method != "S256" && method != "plain" && method != "" {
		return a.redirectError(aad(400, "invalid_request", 900144, "The code_challenge_method '%s' is not supported; use S256.", method))
	}
	if method == "" && q.Get("code_challenge") != "" {
		method = "plain"
	}
	u := a.tenant.User(upn)
	e := s.admitUser(a, u, upn, accept)
	s.recordSignIn(a.tenant, userSignIn(InteractiveUser, a.app, u, upn, q.Get("scope")), e)
	if e != nil {
		return a.redirectError(e)
	}
	code := randomToken(32)
	s.codes[code] = &authCode{
		tenant: a.tenant, app: a.app, user: u, redirect: a.redirect, public: a.public,
		challenge: q.Get("code_challenge"), method: method, scope: q.Get("scope"),
		nonce: q.Get("nonce"), mfa: s.mfaRequired(u), issued: s.Clock.Now(),
	}
	return a.redirectWith(url.Values{"code": {code}})
}

// admitUser is the person's part of the sign-in page: the account, and
// consent to what the app asks.
func (s *Sim) admitUser(a *authorizeRequest, u *User, upn string, accept bool) *Error {
	if u == nil {
		return aad(400, "invalid_request", 50034, "The user account %s does not exist in the %s directory.", upn, a.tenant.ID)
	}
	if e := signInCheck(u); e != nil {
		return e
	}
	need, e := delegatedNeeds(a.app, a.params.Get("scope"))
	if e == nil {
		e = s.consent(a.tenant, a.app, u, need, accept)
	}
	if e != nil && e.Code == 65001 { // the person said no on the consent page
		e = aad(400, "access_denied", 65004, "The user declined to consent to access the app.")
	}
	return e
}

// SignIn completes an authorize URL as the user, consenting to what the app
// asks, and returns the URL the browser would be redirected to. An error
// is one Entra shows on its own page (unknown tenant or client, redirect
// URI mismatch): then there is no redirect.
func (s *Sim) SignIn(authURL, upn string) (string, error) { return s.signIn(authURL, upn, true) }

// SignInDeclining is SignIn where the user refuses the consent prompt.
func (s *Sim) SignInDeclining(authURL, upn string) (string, error) {
	return s.signIn(authURL, upn, false)
}

func (s *Sim) signIn(authURL, upn string, accept bool) (string, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return "", fmt.Errorf("m365sim: bad authorize URL: %w", err)
	}
	tenant, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if s.opts.PlainOIDC && "/"+tenant == plainPrefix {
		tenant = s.Tenant.ID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, e := s.parseAuthorize(tenant, u.Query())
	if e != nil {
		return "", e
	}
	return s.completeAuthorize(a, upn, accept), nil
}

func (s *Sim) handleAuthorizePage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a, e := s.parseAuthorize(r.PathValue("tenant"), r.URL.Query())
	s.mu.Unlock()
	if e != nil {
		s.errorPage(w, e)
		return
	}
	need, e := delegatedNeeds(a.app, r.URL.Query().Get("scope"))
	if e != nil && s.opts.PlainOIDC {
		// A standard provider sends a bad scope back to the client.
		http.Redirect(w, r, a.redirectWith(url.Values{"error": {e.Err}, "error_description": {e.Text}}), http.StatusFound)
		return
	}
	s.render(w, "signin", map[string]any{
		"App": a.app.DisplayName, "Params": r.URL.Query(), "Users": s.pickableUsers(a.tenant),
		"Permissions": need, "Action": r.URL.Path,
	})
}

func (s *Sim) handleAuthorizeSubmit(w http.ResponseWriter, r *http.Request) {
	params, ok := pageForm(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, e := s.parseAuthorize(r.PathValue("tenant"), params)
	if e != nil {
		s.errorPage(w, e)
		return
	}
	http.Redirect(w, r, s.completeAuthorize(a, r.PostForm.Get("upn"), r.PostForm.Get("action") == "accept"), http.StatusFound)
}

// pageForm reads a sign-in page's form: the request's own parameters,
// carried in hidden fields, apart from the person's choices (upn, action).
func pageForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return nil, false
	}
	params := url.Values{}
	for k, v := range r.PostForm {
		if k != "upn" && k != "action" {
			params[k] = v
		}
	}
	return params, true
}
