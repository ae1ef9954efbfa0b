package conn

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

// An administrator signs in by device code to Microsoft's Graph command
// line client, in the profile's cloud, for what the app itself may not
// (yet) do: register the app, or look the product's users up.

// AdminClient is the identity client an admin signs in to: Microsoft's
// Graph command-line client (appreg.AdminClientID), in the profile's
// tenant when it is known, else for any work account.
func (c *Conn) AdminClient(ctx context.Context) (*flows.Client, error) {
	return c.identity(ctx, appreg.AdminClientID, cmp.Or(c.Tenant(), "organizations"), "")
}

// StartAdminSignIn asks for a device code for an admin's sign-in with the
// Graph permissions the work needs, in the profile's cloud.
func (c *Conn) StartAdminSignIn(ctx context.Context, perms []string) (*flows.Client, *flows.DeviceCode, error) {
	fc, err := c.AdminClient(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("admin sign-in: %w", err)
	}
	dc, err := fc.StartDeviceCode(ctx, c.AdminScopes(perms...))
	if err != nil {
		return nil, nil, fmt.Errorf("admin sign-in: %w", err)
	}
	return fc, dc, nil
}

// FinishAdminSignIn waits for the admin to sign in and returns Graph on
// the admin's token, and the admin's tenant.
func (c *Conn) FinishAdminSignIn(ctx context.Context, fc *flows.Client, dc *flows.DeviceCode) (*exchange.Graph, string, error) {
	tok, err := fc.PollDeviceCode(ctx, dc)
	if err != nil {
		return nil, "", fmt.Errorf("admin sign-in: %w", err)
	}
	g, tenant := c.AdminGraph(tok)
	return g, tenant, nil
}

// AdminScopes are the scopes of an admin's sign-in for Graph permissions
// (e.g. appreg.AdminPermissions), on the cloud's Graph.
func (c *Conn) AdminScopes(perms ...string) []string {
	return appreg.AdminScopesOn(c.hosts.GraphResource, perms...)
}

// AdminGraph is Graph on an admin's token, and the tenant the admin
// signed in to.
func (c *Conn) AdminGraph(tok *flows.Token) (*exchange.Graph, string) {
	g := c.Graph(func(context.Context) (store.Secret, error) { return tok.AccessToken, nil })
	claims, _ := flows.ParseClaims(tok.AccessToken.Reveal())
	return g, claims.Tid
}

var guidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// WithIDs is p with a tenant (GUID or domain) and client ID as a person
// typed them, for checking them before they are saved.
func WithIDs(p store.Profile, tenant, clientID string) store.Profile {
	p.TenantID, p.TenantDomain, p.ClientID = "", "", clientID
	if guidRe.MatchString(tenant) {
		p.TenantID = tenant
	} else {
		p.TenantDomain = tenant
	}
	return p
}

// TenantID finds the profile's tenant in its cloud and returns its ID,
// from the issuer discovery names (https://host/{tid}/v2.0). An unknown
// tenant is AADSTS90002.
func (c *Conn) TenantID(ctx context.Context) (string, error) {
	fc, err := c.identity(ctx, c.prof.ClientID, c.Tenant(), "")
	if err != nil {
		return "", err
	}
	u, err := url.Parse(fc.Endpoints().Issuer)
	if err != nil {
		return "", nil
	}
	for _, part := range strings.Split(u.Path, "/") {
		if guidRe.MatchString(part) {
			return part, nil
		}
	}
	return "", nil
}

// CheckClient proves the profile's client ID names an app in its tenant:
// a device-code request names the app without signing anyone in, and an
// unknown client ID answers AADSTS700016.
func (c *Conn) CheckClient(ctx context.Context) error {
	fc, err := c.identity(ctx, c.prof.ClientID, c.Tenant(), "")
	if err != nil {
		return err
	}
	_, err = fc.StartDeviceCode(ctx, []string{"openid"})
	return err
}
