package m365sim

import (
	"net/http"
	"net/url"
	"strings"
)

// Plain OIDC mode (Options.PlainOIDC) makes the simulator a provider that
// follows only the standards, for the flows that must work beyond Entra:
//
//   - the issuer is {URL}/oidc, without a tenant segment, with its own
//     discovery document at {URL}/oidc/.well-known/openid-configuration;
//   - id_tokens carry sub, iss, aud, exp, iat and nonce, and email when
//     the email scope was asked: no oid, tid or preferred_username;
//   - a registered loopback redirect matches whatever its port, host and
//     path kept (RFC 8252 §7.3);
//   - error pages answer 4xx with the OAuth error, no AADSTS text, and an
//     unknown scope is an error= redirect before any sign-in page;
//   - a confidential client may use the device flow with its secret
//     (RFC 8628 §3.1, §5.6).
//
// The /oidc routes serve the default tenant. The Entra routes stay, but
// their tokens carry the plain issuer too: a plain-mode simulator is one
// provider, not two.

// plainPrefix is the path of the plain issuer.
const plainPrefix = "/oidc"

func (s *Sim) plainRoutes(mux *http.ServeMux) {
	plain := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			r.SetPathValue("tenant", s.Tenant.ID)
			h(w, r)
		}
	}
	mux.HandleFunc("GET "+plainPrefix+"/.well-known/openid-configuration", s.handlePlainDiscovery)
	mux.HandleFunc("GET "+plainPrefix+"/keys", plain(s.handleKeys))
	mux.HandleFunc("GET "+plainPrefix+"/authorize", plain(s.handleAuthorizePage))
	mux.HandleFunc("POST "+plainPrefix+"/authorize", plain(s.handleAuthorizeSubmit))
	mux.HandleFunc("POST "+plainPrefix+"/token", plain(s.handleToken))
	mux.HandleFunc("POST "+plainPrefix+"/device", plain(s.handleDeviceCode))
}

// PlainIssuer is the issuer of plain OIDC mode: {URL}/oidc.
func (s *Sim) PlainIssuer() string { return s.URL + plainPrefix }

func (s *Sim) handlePlainDiscovery(w http.ResponseWriter, r *http.Request) {
	base := s.PlainIssuer()
	s.mu.Lock()
	issuer := s.plainIssuerOverride
	s.mu.Unlock()
	if issuer == "" {
		issuer = base
	}
	writeJSON(w, http.StatusOK, discovery{
		Issuer:                issuer,
		AuthorizationEndpoint: base + "/authorize",
		TokenEndpoint:         base + "/token",
		DeviceAuthorization:   base + "/device",
		JWKSURI:               base + "/keys",
		ResponseModes:         []string{"query"},
		ResponseTypes:         []string{"code"},
		Scopes:                []string{"openid", "email", "offline_access"},
		SubjectTypes:          []string{"public"},
		SigningAlgs:           []string{"RS256"},
		TokenAuthMethods:      []string{"client_secret_post", "client_secret_basic"},
		ClaimsSupported:       []string{"sub", "iss", "aud", "exp", "iat", "nonce", "email"},
	})
}

// SetPlainDiscoveryIssuer makes the plain discovery document name another
// issuer than the one it is served from, which clients must refuse
// (OpenID Connect Discovery §4.3). "" restores the right one.
func (s *Sim) SetPlainDiscoveryIssuer(issuer string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plainIssuerOverride = issuer
}

// plainIDToken is the claims of a plain-mode id_token.
func plainIDToken(base map[string]any, sub, email string) map[string]any {
	claims := map[string]any{"sub": sub}
	for _, k := range []string{"aud", "iss", "iat", "exp", "nonce"} {
		claims[k] = base[k]
	}
	if email != "" {
		claims["email"] = email
	}
	return claims
}

// loopbackMatch reports whether got is the registered loopback redirect
// with another port: RFC 8252 §7.3 has the server allow any port, while
// the scheme, host and path must stay.
func loopbackMatch(registered, got string) bool {
	r, err1 := url.Parse(registered)
	g, err2 := url.Parse(got)
	if err1 != nil || err2 != nil || r.Scheme != "http" || g.Scheme != "http" {
		return false
	}
	switch r.Hostname() {
	case "127.0.0.1", "localhost", "::1":
	default:
		return false
	}
	return r.Hostname() == g.Hostname() && strings.TrimSuffix(r.Path, "/") == strings.TrimSuffix(g.Path, "/") && r.RawQuery == g.RawQuery
}

// plainError is an error page's text in plain mode: the OAuth error and
// its description, as a provider other than Entra shows it.
func plainError(e *Error) string { return e.Err + ": " + e.Text }
