package m365sim

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

const (
	codeLifetime       = 10 * time.Minute
	deviceCodeLifetime = 15 * time.Minute
	refreshInactivity  = 90 * 24 * time.Hour
)

// authCode is an issued authorization code, waiting to be redeemed.
type authCode struct {
	tenant    *Tenant
	app       *App
	user      *User
	redirect  string
	public    bool
	challenge string
	method    string
	scope     string
	nonce     string
	mfa       bool // the user did MFA while signing in
	issued    time.Time
	used      bool
}

// refreshGrant is a refresh token's server-side state.
type refreshGrant struct {
	tenant    *Tenant
	app       *App
	user      *User
	public    bool
	viaDevice bool // protocol-tracked by Conditional Access
	mfa       bool
	issued    time.Time
	lastUsed  time.Time
	replaced  time.Time // when a rotation replaced it; zero while current
	revoked   bool
}

// exoDelegated are the delegated scopes whose tokens carry the Exchange
// audience, whichever resource lists them in the portal.
var exoDelegated = map[string]bool{
	"imap.accessasuser.all": true, "pop.accessasuser.all": true,
	"smtp.send": true, "ews.accessasuser.all": true,
}

func audienceOf(p Permission) string {
	if !p.Role && exoDelegated[strings.ToLower(p.Name)] {
		return ExchangeAppID
	}
	return p.Resource
}

// delegatedNeeds lists the delegated permissions a scope string asks for,
// across resources (the authorize endpoint may name several). ".default"
// stands for the app's registered permissions on that resource.
func delegatedNeeds(app *App, scope string) ([]Permission, *Error) {
	var out []Permission
	for _, s := range strings.Fields(scope) {
		req, e := parseScopes(s)
		if e != nil {
			return nil, e
		}
		ps, e := req.permissions(app)
		if e != nil {
			return nil, e
		}
		out = append(out, ps...)
	}
	return out, nil
}

// permissions resolves the request's names on its resource to delegated
// permissions; ".default" stands for the app's registered ones. OpenID
// scopes are not permissions to consent to and are left out.
func (r scopeRequest) permissions(app *App) ([]Permission, *Error) {
	var out []Permission
	if r.isDefault() {
		for _, id := range app.Required {
			if p, _ := permissionByID(id); !p.Role && audienceOf(p) == r.appID && !oidcScopes[strings.ToLower(p.Name)] {
				out = append(out, p)
			}
		}
		return out, nil
	}
	for _, n := range r.names {
		p, ok := lookupPermission(n, false)
		if !ok {
			return nil, aad(400, "invalid_scope", 70011, "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", n)
		}
		out = append(out, p)
	}
	return out, nil
}

// DisableUserConsent sets the tenant's "Do not allow user consent": every
// permission then needs an admin's consent, by the admin consent link or
// in the portal.
func (s *Sim) DisableUserConsent(t *Tenant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.noUserConsent = true
}

// consent checks and records the user's consent for the permissions a
// sign-in asks for. A user may consent to user-consentable scopes; scopes
// that need an admin fail with AADSTS90094 unless already granted.
func (s *Sim) consent(t *Tenant, app *App, u *User, need []Permission, accept bool) *Error {
	var missing []Permission
	for _, p := range need {
		if !t.hasConsent(app.ClientID, u.ObjectID, p) {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	for _, p := range missing {
		if (p.AdminOnly || t.noUserConsent) && !u.IsAdmin() {
			return aad(400, "access_denied", 90094, "The grant requires admin permission. %s needs permission to access resources in your organization that only an admin can grant (%s). Please ask an admin to grant permission to this app before you can use it.", app.DisplayName, p.Name)
		}
	}
	if !accept {
		return aad(400, "consent_required", 65001, "The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", app.ClientID, app.DisplayName)
	}
	t.grantConsent(app.ClientID, u.ObjectID, missing)
	return nil
}

// signInCheck refuses accounts that cannot sign in at all.
func signInCheck(u *User) *Error {
	if !u.Enabled {
		return aad(400, "invalid_grant", 50057, "The user account is disabled. The account has been disabled by an administrator.")
	}
	return nil
}

// tokenResponse is the success body of the token endpoint.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

// issued describes a delegated token to mint.
type issued struct {
	tenant    *Tenant
	app       *App
	user      *User
	scope     string // the token request's scope: one resource
	nonce     string
	public    bool
	viaDevice bool
	mfa       bool
	rotate    *refreshGrant // the refresh token being replaced, if any
	// singleResource refuses scopes of several resources (code
	// redemption); refresh and device code take the first one.
	singleResource bool
}

// issueDelegated mints access, refresh and id tokens for a user. Callers
// hold s.mu.
func (s *Sim) issueDelegated(in issued) (*tokenResponse, *Error) {
	req, e := parseScopes(in.scope)
	if e != nil {
		return nil, e
	}
	if req.multi && in.singleResource {
		return nil, aad(400, "invalid_scope", 28000, "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", in.scope)
	}
	if req.appID == "" { // only OIDC scopes: Graph answers
		req.resource, req.appID, req.names = "https://graph.microsoft.com", GraphAppID, []string{"User.Read"}
	}
	// The token is for the first resource named; the refresh token serves
	// every resource the user consented to.
	need, e := req.permissions(in.app)
	if e != nil {
		return nil, e
	}
	var granted []string
	for _, p := range need {
		if !in.tenant.hasConsent(in.app.ClientID, in.user.ObjectID, p) {
			return nil, aad(400, "invalid_grant", 65001, "The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", in.app.ClientID, in.app.DisplayName)
		}
		granted = append(granted, p.Name)
	}
	now := s.Clock.Now()
	life := s.lifetime()
	t, u := in.tenant, in.user
	access := s.sign(map[string]any{
		"aud": req.resource, "iss": s.issuer(t), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(life).Unix(),
		"tid": t.ID, "oid": u.ObjectID, "sub": pairwise(u.ObjectID, in.app.ClientID), "upn": u.UPN,
		"preferred_username": u.UPN, "unique_name": u.UPN, "name": u.DisplayName,
		"appid": in.app.ClientID, "azp": in.app.ClientID, "scp": strings.Join(granted, " "), "ver": "2.0",
		"idtyp": "user",
	})
	resp := &tokenResponse{TokenType: "Bearer", ExpiresIn: int(life.Seconds()), ExtExpiresIn: int(life.Seconds()), AccessToken: access}
	var scopes []string
	for _, g := range granted {
		scopes = append(scopes, strings.TrimSuffix(req.resource, "/")+"/"+g)
	}
	if in.rotate != nil || req.has("offline_access") {
		rt := randomToken(48)
		s.refresh[rt] = &refreshGrant{tenant: t, app: in.app, user: u, public: in.public, viaDevice: in.viaDevice, mfa: in.mfa, issued: now, lastUsed: now}
		resp.RefreshToken = rt
		scopes = append(scopes, "offline_access")
		if in.rotate != nil {
			in.rotate.replaced = now
		}
	}
	if req.has("openid") {
		claims := map[string]any{
			"aud": in.app.ClientID, "iss": s.issuer(t), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"tid": t.ID, "oid": u.ObjectID, "sub": pairwise(u.ObjectID, in.app.ClientID),
			"preferred_username": u.UPN, "name": u.DisplayName, "nonce": in.nonce, "ver": "2.0",
		}
		if s.opts.PlainOIDC {
			email := ""
			if req.has("email") {
				email = u.UPN
			}
			claims = plainIDToken(claims, claims["sub"].(string), email)
		}
		resp.IDToken = s.sign(claims)
	}
	for _, o := range req.oidc {
		if o != "offline_access" {
			scopes = append(scopes, o)
		}
	}
	resp.Scope = strings.Join(scopes, " ")
	return resp, nil
}

// issueApp mints an app-only token carrying the granted roles. Callers hold s.mu.
func (s *Sim) issueApp(t *Tenant, app *App, req scopeRequest) *tokenResponse {
	now := s.Clock.Now()
	life := s.lifetime()
	claims := map[string]any{
		"aud": req.resource, "iss": s.issuer(t), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(life).Unix(),
		"tid": t.ID, "oid": app.SPObjectID, "sub": app.SPObjectID, "appid": app.ClientID, "azp": app.ClientID,
		"idtyp": "app", "ver": "2.0",
	}
	if roles := t.grantedRoles(app.ClientID, req.appID); len(roles) > 0 {
		claims["roles"] = roles
	}
	return &tokenResponse{TokenType: "Bearer", ExpiresIn: int(life.Seconds()), ExtExpiresIn: int(life.Seconds()), AccessToken: s.sign(claims)}
}

// lifetime draws an access-token lifetime between 60 and 90 minutes, as the
// real service does.
func (s *Sim) lifetime() time.Duration {
	s.idMu.Lock()
	defer s.idMu.Unlock()
	return 60*time.Minute + time.Duration(s.rng.IntN(31))*time.Minute
}

// pairwise is the per-app subject: stable for a user and an app, and
// different between apps, like the real "sub".
func pairwise(oid, clientID string) string {
	h := fnv.New64a()
	h.Write([]byte(oid + clientID))
	return fmt.Sprintf("%016X", h.Sum64())
}

// mfaRequired reports whether an interactive sign-in of u has to (and so
// does) perform MFA. Callers hold s.mu.
func (s *Sim) mfaRequired(u *User) bool {
	_, ok := s.mfa[u.ObjectID]
	return ok
}
