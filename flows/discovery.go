package flows

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Endpoints are a tenant's OpenID Provider metadata, as far as modauth uses it.
type Endpoints struct {
	Issuer              string `json:"issuer"`
	Authorization       string `json:"authorization_endpoint"`
	Token               string `json:"token_endpoint"`
	DeviceAuthorization string `json:"device_authorization_endpoint"`
	JWKS                string `json:"jwks_uri"`
}

// discover reads {authority}/{tenant}/v2.0/.well-known/openid-configuration,
// or {issuer}/.well-known/openid-configuration when an issuer is given.
func (c *Client) discover(ctx context.Context) (Endpoints, error) {
	var ep Endpoints
	if c.cfg.Issuer != "" {
		return c.discoverIssuer(ctx)
	}
	if c.cfg.Tenant == "" {
		return ep, fmt.Errorf("discover endpoints: no tenant given: enter the tenant ID (a GUID) or a verified domain")
	}
	u := c.cfg.Authority + "/" + url.PathEscape(c.cfg.Tenant) + "/v2.0/.well-known/openid-configuration"
	return c.fetchDiscovery(ctx, u, fmt.Sprintf("tenant %q", c.cfg.Tenant))
}

// discoverIssuer reads a standard provider's metadata. The document must
// name the issuer it was fetched for (OpenID Connect Discovery §4.3,
// RFC 8414 §3.3): otherwise its tokens could be passed off as another's.
// A trailing slash on either side is tolerated.
func (c *Client) discoverIssuer(ctx context.Context) (Endpoints, error) {
	issuer := strings.TrimSuffix(c.cfg.Issuer, "/")
	what := fmt.Sprintf("issuer %s", issuer)
	ep, err := c.fetchDiscovery(ctx, issuer+"/.well-known/openid-configuration", what)
	if err != nil {
		return ep, err
	}
	if strings.TrimSuffix(ep.Issuer, "/") != issuer {
		return ep, fmt.Errorf("discover endpoints of %s: the provider's document names issuer %q: check the issuer URL (it must be exactly the provider's issuer)", what, ep.Issuer)
	}
	return ep, nil
}

func (c *Client) fetchDiscovery(ctx context.Context, u, what string) (Endpoints, error) {
	var ep Endpoints
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return ep, fmt.Errorf("discover endpoints: %w", err)
	}
	if err := c.do(req, &ep); err != nil {
		return ep, fmt.Errorf("discover endpoints of %s: %w", what, err)
	}
	if ep.Token == "" || ep.Authorization == "" {
		return ep, fmt.Errorf("discover endpoints of %s: %s returned no token or authorization endpoint", what, req.URL.Host)
	}
	return ep, nil
}

// jwksSet fetches the signing keys once.
func (c *Client) jwksSet(ctx context.Context) (*JWKS, error) {
	c.jwksMu.Lock()
	defer c.jwksMu.Unlock()
	if c.jwks != nil {
		return c.jwks, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.ep.JWKS, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch signing keys: %w", err)
	}
	var s JWKS
	if err := c.do(req, &s); err != nil {
		return nil, fmt.Errorf("fetch signing keys: %w", err)
	}
	c.jwks = &s
	return c.jwks, nil
}
