package m365sim

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
)

// handleToken is POST /{tenant}/oauth2/v2.0/token.
func (s *Sim) handleToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.formTenant(w, r)
	if t == nil {
		return
	}
	cl, e := s.clientAuth(t, r)
	if cl.app == nil {
		s.writeError(w, e)
		return
	}
	ev, logged := s.tokenSignIn(t, cl, r.PostForm)
	ev.CorrelationID = r.Header.Get("client-request-id")
	resp, e := s.grant(t, cl, e, r.PostForm)
	if logged {
		s.recordSignIn(t, ev, e)
	}
	if e != nil {
		s.writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// grant answers a token request of a known client; authErr is what the
// client's authentication came to.
func (s *Sim) grant(t *Tenant, cl client, authErr *Error, form url.Values) (*tokenResponse, *Error) {
	if authErr != nil {
		return nil, authErr
	}
	app, secret := cl.app, cl.secretSent
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
		return s.redeemCode(t, app, secret, form)
	case "refresh_token":
		return s.redeemRefresh(t, app, secret, form)
	case "urn:ietf:params:oauth:grant-type:device_code":
		return s.redeemDevice(t, app, secret, form)
	case "client_credentials":
		return s.clientCredentials(t, app, secret, form)
	case "":
		return nil, aad(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
	default:
		return nil, aad(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", gt)
	}
}

// formTenant parses a form posted to /{tenant}/... and resolves the
// tenant; on failure it writes the error and returns nil.
func (s *Sim) formTenant(w http.ResponseWriter, r *http.Request) *Tenant {
	if err := r.ParseForm(); err != nil {
		s.writeError(w, aad(400, "invalid_request", 900144, "The request body is not a valid form."))
		return nil
	}
	t := s.tenant(r.PathValue("tenant"))
	if t == nil {
		s.writeError(w, errTenantNotFound(r.PathValue("tenant")))
	}
	return t
}

// client is who called the token endpoint and how it authenticated.
type client struct {
	app        *App
	secretSent bool   // a secret or a client assertion: a credential
	assertion  bool   // the credential is a client assertion
	keyID      string // the keyId of the secret or certificate, if one matched
}

func (c client) credentialType() string {
	if c.assertion {
		return "certificate" // signIn.clientCredentialType for a certificate's assertion
	}
	if c.secretSent {
		return "clientSecret"
	}
	return "none"
}

// clientAuth identifies the client and checks a client secret if one was
// sent, in the body (client_secret_post) or as HTTP Basic. A client whose
// secret fails is returned with the error: the sign-in log names it.
func (s *Sim) clientAuth(t *Tenant, r *http.Request) (client, *Error) {
	clientID, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if id, pw, ok := r.BasicAuth(); ok {
		clientID, secret = id, pw
	}
	if clientID == "" {
		return client{}, aad(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	cl := client{app: t.App(clientID), secretSent: secret != ""}
	if cl.app == nil {
		return client{}, errClientNotFound(clientID, t.ID)
	}
	if r.PostForm.Has("client_assertion") {
		cl.secretSent, cl.assertion = true, true
		if secret != "" {
			return cl, aad(400, "invalid_request", 90014, "The request body must contain only one of 'client_assertion' or 'client_secret'.")
		}
		var e *Error
		cl.keyID, e = s.checkAssertion(t, cl.app, r)
		return cl, e
	}
	if secret == "" {
		return cl, nil
	}
	c := cl.app.secretMatch(secret)
	if c == nil {
		return cl, aad(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", cl.app.ClientID)
	}
	cl.keyID = c.KeyID
	if !s.Clock.Now().Before(c.End) {
		return cl, aad(401, "invalid_client", 7000222, "The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", cl.app.ClientID)
	}
	return cl, nil
}

// credentialCheck enforces the client type: confidential clients must
// authenticate, public ones must not.
func credentialCheck(app *App, public, secretSent bool) *Error {
	switch {
	case public && secretSent:
		return aad(401, "invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
	case !public && !secretSent:
		return aad(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
	return nil
}

func (s *Sim) redeemCode(t *Tenant, app *App, secretSent bool, form url.Values) (*tokenResponse, *Error) {
	c := s.codes[form.Get("code")]
	switch {
	case c == nil || c.tenant != t:
		return nil, aad(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid: the provided value for the 'code' parameter is not valid.")
	case c.used:
		return nil, aad(400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	case s.Clock.Now().Sub(c.issued) > codeLifetime:
		return nil, aad(400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	case c.app != app:
		return nil, aad(400, "invalid_grant", 70000, "Provided grant is invalid or malformed: the code was issued to another client.")
	case c.redirect != form.Get("redirect_uri"):
		return nil, aad(400, "invalid_grant", 50011, "The redirect URI '%s' specified in the request does not match the redirect URI used to obtain the authorization code.", form.Get("redirect_uri"))
	}
	if e := pkceCheck(c.challenge, c.method, form.Get("code_verifier")); e != nil {
		return nil, e
	}
	if e := credentialCheck(app, c.public, secretSent); e != nil {
		return nil, e
	}
	c.used = true
	scope := form.Get("scope")
	if scope == "" {
		scope = c.scope
	}
	return s.issueDelegated(issued{tenant: t, app: app, user: c.user, scope: scope, nonce: c.nonce, public: c.public, mfa: c.mfa, singleResource: form.Get("scope") != ""})
}

func pkceCheck(challenge, method, verifier string) *Error {
	if challenge == "" {
		return nil
	}
	if verifier == "" {
		return aad(400, "invalid_grant", 50148, "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE: no code_verifier was sent.")
	}
	got := verifier
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		got = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if got != challenge {
		return aad(400, "invalid_grant", 50148, "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.")
	}
	return nil
}

func (s *Sim) redeemRefresh(t *Tenant, app *App, secretSent bool, form url.Values) (*tokenResponse, *Error) {
	g := s.refresh[form.Get("refresh_token")]
	now := s.Clock.Now()
	if g != nil && !g.replaced.IsZero() {
		s.replays++
	}
	switch {
	case g == nil || g.tenant != t || g.app != app:
		return nil, aad(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid: the provided value for the 'refresh_token' parameter is not valid.")
	case g.revoked:
		return nil, aad(400, "invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password, or an administrator revoked their sessions.")
	case !g.replaced.IsZero() && now.Sub(g.replaced) > s.opts.RotationGrace:
		return nil, aad(400, "invalid_grant", 70000, "Provided grant is invalid or malformed: the refresh token was replaced by a newer one.")
	case now.Sub(g.lastUsed) > refreshInactivity:
		return nil, aad(400, "invalid_grant", 700082, "The refresh token has expired due to inactivity. The token was issued on %s and was inactive for 90.00:00:00.", g.issued.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if e := credentialCheck(app, g.public, secretSent); e != nil {
		return nil, e
	}
	if e := signInCheck(g.user); e != nil {
		return nil, e
	}
	if _, required := s.mfa[g.user.ObjectID]; required && !g.mfa {
		return nil, aad(400, "interaction_required", 50076, "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '%s'.", ExchangeAppID)
	}
	if g.viaDevice && s.blockDev {
		return nil, errDeviceBlocked()
	}
	g.lastUsed = now
	return s.issueDelegated(issued{tenant: t, app: app, user: g.user, scope: form.Get("scope"), public: g.public, viaDevice: g.viaDevice, mfa: g.mfa, rotate: g})
}

func errDeviceBlocked() *Error {
	return aad(400, "invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance: the device code flow is blocked.")
}

func (s *Sim) clientCredentials(t *Tenant, app *App, secretSent bool, form url.Values) (*tokenResponse, *Error) {
	if !secretSent {
		return nil, credentialCheck(app, false, false)
	}
	req, e := parseScopes(form.Get("scope"))
	if e != nil {
		return nil, e
	}
	if req.multi || !req.isDefault() || len(req.oidc) > 0 {
		return nil, aad(400, "invalid_scope", 70011, "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid: client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
	}
	return s.issueApp(t, app, req), nil
}
