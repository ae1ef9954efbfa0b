package m365sim

import (
	"net/http"
)

func (s *Sim) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.handleDiscovery)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.handleKeys)
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", s.handleAuthorizePage)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/authorize", s.handleAuthorizeSubmit)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.handleToken)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/devicecode", s.handleDeviceCode)
	mux.HandleFunc("GET /devicelogin", s.handleDeviceLoginPage)
	mux.HandleFunc("POST /devicelogin", s.handleDeviceLoginSubmit)
	mux.HandleFunc("GET /{tenant}/adminconsent", s.handleAdminConsentPage)
	mux.HandleFunc("GET /{tenant}/v2.0/adminconsent", s.handleAdminConsentPage)
	mux.HandleFunc("POST /{tenant}/adminconsent", s.handleAdminConsentSubmit)
	mux.HandleFunc("POST /{tenant}/v2.0/adminconsent", s.handleAdminConsentSubmit)
	mux.HandleFunc("GET /{$}", s.handleHome)
	if s.opts.PlainOIDC {
		s.plainRoutes(mux)
	}
	s.ewsRoutes(mux) // POST /EWS/Exchange.asmx, and the OWA login page of forms mode
	// Graph has a mux of its own: its keys, as in applications(appId='…'),
	// are beyond ServeMux patterns, and a /v1.0/ or /beta/ pattern would
	// conflict with /{tenant}/v2.0/….
	root := http.NewServeMux()
	root.HandleFunc("/v1.0/", s.serveGraph)
	root.HandleFunc("/beta/", s.serveBeta)
	root.Handle("/", mux)
	return s.middleware(root)
}

// discovery is the OpenID Provider metadata the real service publishes,
// with the simulator's URL as the host.
type discovery struct {
	Issuer                 string   `json:"issuer"`
	AuthorizationEndpoint  string   `json:"authorization_endpoint"`
	TokenEndpoint          string   `json:"token_endpoint"`
	DeviceAuthorization    string   `json:"device_authorization_endpoint"`
	JWKSURI                string   `json:"jwks_uri"`
	UserinfoEndpoint       string   `json:"userinfo_endpoint"`
	EndSessionEndpoint     string   `json:"end_session_endpoint"`
	ResponseModes          []string `json:"response_modes_supported"`
	ResponseTypes          []string `json:"response_types_supported"`
	Scopes                 []string `json:"scopes_supported"`
	SubjectTypes           []string `json:"subject_types_supported"`
	SigningAlgs            []string `json:"id_token_signing_alg_values_supported"`
	TokenAuthMethods       []string `json:"token_endpoint_auth_methods_supported"`
	ClaimsSupported        []string `json:"claims_supported"`
	RequestURIParameter    bool     `json:"request_uri_parameter_supported"`
	TenantRegionScope      string   `json:"tenant_region_scope"`
	CloudInstanceName      string   `json:"cloud_instance_name"`
	CloudGraphHostName     string   `json:"cloud_graph_host_name"`
	MSGraphHost            string   `json:"msgraph_host"`
	FrontchannelLogoutSupp bool     `json:"frontchannel_logout_supported"`
	HTTPLogoutSupported    bool     `json:"http_logout_supported"`
}

func (s *Sim) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	t := s.tenant(r.PathValue("tenant"))
	if t == nil {
		s.writeError(w, errTenantNotFound(r.PathValue("tenant")))
		return
	}
	base := s.URL + "/" + t.ID
	issuer := s.issuer(t)
	if alias := r.PathValue("tenant"); multiTenant(alias) {
		// As on the real service: the endpoints keep the alias, and the
		// issuer is a template the token's tid fills in.
		base, issuer = s.URL+"/"+alias, s.URL+"/{tenantid}/v2.0"
	}
	writeJSON(w, http.StatusOK, discovery{
		Issuer:                 issuer,
		AuthorizationEndpoint:  base + "/oauth2/v2.0/authorize",
		TokenEndpoint:          base + "/oauth2/v2.0/token",
		DeviceAuthorization:    base + "/oauth2/v2.0/devicecode",
		JWKSURI:                base + "/discovery/v2.0/keys",
		UserinfoEndpoint:       s.URL + "/oidc/userinfo",
		EndSessionEndpoint:     base + "/oauth2/v2.0/logout",
		ResponseModes:          []string{"query", "fragment", "form_post"},
		ResponseTypes:          []string{"code", "id_token", "code id_token", "id_token token"},
		Scopes:                 []string{"openid", "profile", "email", "offline_access"},
		SubjectTypes:           []string{"pairwise"},
		SigningAlgs:            []string{"RS256"},
		TokenAuthMethods:       []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		ClaimsSupported:        []string{"sub", "iss", "aud", "exp", "iat", "nonce", "name", "oid", "tid", "preferred_username", "email"},
		TenantRegionScope:      "EU",
		CloudInstanceName:      "microsoftonline.com",
		CloudGraphHostName:     "graph.windows.net",
		MSGraphHost:            "graph.microsoft.com",
		FrontchannelLogoutSupp: true,
		HTTPLogoutSupported:    true,
	})
}

// issuer is the v2 issuer of a tenant: {host}/{tid}/v2.0.
// In plain OIDC mode it is the plain issuer.
func (s *Sim) issuer(t *Tenant) string {
	if s.opts.PlainOIDC {
		return s.PlainIssuer()
	}
	return s.URL + "/" + t.ID + "/v2.0"
}
