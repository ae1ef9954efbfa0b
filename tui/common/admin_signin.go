package common

import (
	"context"
	"fmt"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
)

// An administrator signs in by device code to Microsoft's Graph command
// line client for what the app itself may not (yet) do: register the app
// (step 2), or look the product's users up when the app has no app-only
// access (step 4). One sign-in serves the session (Context.AdminGraph).

// StartAdminSignIn asks for a device code for the admin's sign-in, with
// the Graph permissions the work needs, in the profile's cloud.
func StartAdminSignIn(ctx context.Context, c *Context, perms []string) (*flows.Client, *flows.DeviceCode, error) {
	cn := c.Conn(c.Profile)
	fc, err := cn.AdminClient(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("admin sign-in: %w", err)
	}
	dc, err := fc.StartDeviceCode(ctx, cn.AdminScopes(perms...))
	if err != nil {
		return nil, nil, fmt.Errorf("admin sign-in: %w", err)
	}
	return fc, dc, nil
}

// FinishAdminSignIn waits for the admin to sign in and returns Graph on
// the admin's token, and the admin's tenant.
func FinishAdminSignIn(ctx context.Context, c *Context, fc *flows.Client, dc *flows.DeviceCode) (*exchange.Graph, string, error) {
	tok, err := fc.PollDeviceCode(ctx, dc)
	if err != nil {
		return nil, "", fmt.Errorf("admin sign-in: %w", err)
	}
	g, tenant := c.Conn(c.Profile).AdminGraph(tok)
	return g, tenant, nil
}

// AdminCodeView tells the admin how to sign in, for what.
func AdminCodeView(c *Context, dc *flows.DeviceCode, what, roles string) string {
	st := c.Styles
	return st.Bold.Render(Wrap("An administrator signs in to "+what+".", c.Width-1)) + "\n\n" +
		"First copy the one-time code: " + st.Code.Render(dc.UserCode) + "\n" +
		Wrap("Open "+dc.VerificationURI+" on any device, enter it, and sign in as "+roles+".", c.Width-1) + "\n\n" +
		st.Faint.Render("Waiting… esc cancels.")
}
