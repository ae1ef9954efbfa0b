package tui

import (
	"cmp"
	"context"
	"fmt"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

// An administrator signs in by device code to Microsoft's Graph command
// line client for what the app itself may not (yet) do: register the app
// (step 2), or look the product's users up when the app has no app-only
// access (step 4). One sign-in serves the session (Context.AdminGraph).

// adminTenant is where the admin signs in: the profile's tenant when it
// is known, else any work account.
func adminTenant(p store.Profile) string {
	return cmp.Or(p.TenantID, p.TenantDomain, "organizations")
}

// startAdminSignIn asks for a device code for the admin's sign-in, with
// the scopes the work needs.
func startAdminSignIn(ctx context.Context, c *Context, scopes []string) (*flows.Client, *flows.DeviceCode, error) {
	hosts := c.Profile.Hosts.WithDefaults()
	fc, err := flows.New(ctx, c.flowsConfig(hosts, adminTenant(c.Profile), appreg.AdminClientID, ""))
	if err != nil {
		return nil, nil, fmt.Errorf("admin sign-in: %w", err)
	}
	dc, err := fc.StartDeviceCode(ctx, scopes)
	if err != nil {
		return nil, nil, fmt.Errorf("admin sign-in: %w", err)
	}
	return fc, dc, nil
}

// finishAdminSignIn waits for the admin to sign in and returns Graph on
// the admin's token, and the admin's tenant.
func finishAdminSignIn(ctx context.Context, c *Context, fc *flows.Client, dc *flows.DeviceCode) (*exchange.Graph, string, error) {
	tok, err := fc.PollDeviceCode(ctx, dc)
	if err != nil {
		return nil, "", fmt.Errorf("admin sign-in: %w", err)
	}
	hosts := c.Profile.Hosts.WithDefaults()
	g := &exchange.Graph{Host: hosts.Graph, HTTP: c.HTTPClient, Sleep: c.Sleep,
		Token: func(context.Context) (store.Secret, error) { return tok.AccessToken, nil }}
	claims, _ := flows.ParseClaims(tok.AccessToken.Reveal())
	return g, claims.Tid, nil
}

// adminCodeView tells the admin how to sign in, for what.
func adminCodeView(c *Context, dc *flows.DeviceCode, what, roles string) string {
	st := c.Styles
	return st.Bold.Render(wrap("An administrator signs in to "+what+".", c.Width-1)) + "\n\n" +
		"First copy the one-time code: " + st.Code.Render(dc.UserCode) + "\n" +
		wrap("Open "+dc.VerificationURI+" on any device, enter it, and sign in as "+roles+".", c.Width-1) + "\n\n" +
		st.Faint.Render("Waiting… esc cancels.")
}
