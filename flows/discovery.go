package flows

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Endpoints are a tenant's OpenID Provider metadata, as far as modauth uses it.
type Endpoints struct {
	Issuer              string `json:"issuer"`
	Authorization       string `json:"authorization_endpoint"`
	Token               string `json:"token_endpoint"`
	DeviceAuthorization string `json:"device_authorization_endpoint"`
	JWKS                string `json:"jwks_uri"`
}

// discover reads {authority}/{tenant}/v2.0/.well-known/openid-configuration.
func (c *Client) discover(ctx context.Context) (Endpoints, error) {
	var ep Endpoints
	if c.cfg.Tenant == "" {
		return ep, fmt.Errorf("discover endpoints: no tenant given: enter the tenant ID (a GUID) or a verified domain")
	}
	u := c.cfg.Authority + "/" + url.PathEscape(c.cfg.Tenant) + "/v2.0/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return ep, fmt.Errorf("discover endpoints: %w", err)
	}
	if err := c.do(req, &ep); err != nil {
		return ep, fmt.Errorf("discover endpoints of tenant %q: %w", c.cfg.Tenant, err)
	}
	if ep.Token == "" || ep.Authorization == "" {
		return ep, fmt.Errorf("discover endpoints of tenant %q: %s returned no token or authorization endpoint", c.cfg.Tenant, c.cfg.Authority)
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
