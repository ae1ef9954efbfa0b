package common

import (
	"context"

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
	return c.Conn(c.Profile).StartAdminSignIn(ctx, perms)
}

// FinishAdminSignIn waits for the admin to sign in and returns Graph on
// the admin's token, and the admin's tenant.
func FinishAdminSignIn(ctx context.Context, c *Context, fc *flows.Client, dc *flows.DeviceCode) (*exchange.Graph, string, error) {
	return c.Conn(c.Profile).FinishAdminSignIn(ctx, fc, dc)
}

// AdminCodeView tells the admin how to sign in, for what.
func AdminCodeView(c *Context, dc *flows.DeviceCode, what, roles string) string {
	st := c.Styles
	return st.Bold.Render(Wrap("An administrator signs in to "+what+".", c.Width-1)) + "\n\n" +
		"First copy the one-time code: " + st.Code.Render(dc.UserCode) + "\n" +
		Wrap("Open "+dc.VerificationURI+" on any device, enter it, and sign in as "+roles+".", c.Width-1) + "\n\n" +
		st.Faint.Render("Waiting… esc cancels.")
}
