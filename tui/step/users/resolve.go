// The users step's resolving: each product account looked up in Entra ID,
// with the app's own token or an admin's sign-in, saved as it goes.

package users

import (
	"context"
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// startResolve begins a run: first an app-only token, then one user
// after the other, each a command, so the screen shows the progress.
func (s *Step) startResolve(c *common.Context) tea.Cmd {
	if len(s.users) == 0 {
		return common.ErrCmd(errors.New("no users to resolve: press i to import them or a to add one"))
	}
	if c.DB == nil || c.Profile.ID == "" {
		return common.ErrCmd(errors.New("no profile: go back to step 1"))
	}
	ctx, run := s.run.Start(c.Ctx)
	s.graph, s.next, s.pending = nil, 0, nil
	s.admin, s.viaAdmin = c.AdminGraph, false
	if c.Profile.OnPremises {
		return s.resolveNext(c) // no Entra: each mailbox is opened instead
	}
	db, p, cn, admin := c.DB, c.Profile, c.Conn(c.Profile), c.AdminGraph
	return func() tea.Msg {
		g, viaAdmin, err := usersGraph(ctx, db, p, cn, admin)
		return usersGraphMsg{run: run, graph: g, viaAdmin: viaAdmin, err: err}
	}
}

func (s *Step) resolveNext(c *common.Context) tea.Cmd {
	if s.next >= len(s.users) {
		err := s.flush(c)
		s.halt()
		if err != nil {
			return common.ErrCmd(err)
		}
		s.setNote("ok", "Resolved "+s.summaryText()+".")
		if !s.ready() {
			s.setNote("warn", "Resolved "+s.summaryText()+". Fix or remove the users marked in red: select one to see how.")
		}
		return nil
	}
	ctx, run, g, u := s.run.Context(), s.run.ID(), s.graph, s.users[s.next]
	if c.Profile.OnPremises {
		cn := c.Conn(c.Profile)
		return func() tea.Msg {
			ru, err := resolveOnPrem(ctx, cn, u)
			return usersResolvedMsg{run: run, user: ru, err: err}
		}
	}
	return func() tea.Msg {
		ru, err := g.ResolveUser(ctx, u)
		return usersResolvedMsg{run: run, user: ru, err: err}
	}
}

// stop ends a run on a failure, keeping what was resolved.
func (s *Step) stop(c *common.Context, err error) tea.Cmd {
	ferr := s.flush(c)
	s.halt()
	slot, fix := usersExplain(c.Profile, s.viaAdmin, err)
	s.setNote("error", fix)
	if ferr != nil {
		return common.ErrCmd(ferr)
	}
	return common.ErrCmd(errors.New(slot))
}

func (s *Step) halt() {
	s.run.Stop()
	s.graph, s.admin, s.device = nil, nil, nil
}

// adminSignIn: the app may not look users up itself, so an admin
// signs in to do it, within the same run.
func (s *Step) adminSignIn(c *common.Context) tea.Cmd {
	ctx, run := s.run.Context(), s.run.ID()
	return func() tea.Msg {
		fc, dc, err := common.StartAdminSignIn(ctx, c, usersAdminScopes)
		return usersAdminCodeMsg{run: run, fc: fc, dc: dc, err: err}
	}
}

// flush saves the resolved users not yet saved, in one write.
func (s *Step) flush(c *common.Context) error {
	if len(s.pending) == 0 {
		return nil
	}
	err := c.DB.PutUsers(c.Profile.ID, s.pending...)
	s.pending = nil
	if err != nil {
		return fmt.Errorf("save resolved users: %w", err)
	}
	return nil
}

// usersProblem is a setup problem that stops a resolve: a short line for
// the error slot and the fix; adminCan when an admin's sign-in can
// resolve instead.
type usersProblem struct {
	msg, fix string
	adminCan bool
}

func (e *usersProblem) Error() string { return e.msg }

// usersGraph is the Graph client a resolve uses: the app-only token of
// the profile's stored client secret, as the headless commands make it,
// or, when the profile has no app-only access yet, the admin who signed
// in for step 2. It gets the app's first token at once, so a wrong
// secret shows before any user.
func usersGraph(ctx context.Context, db *store.DB, p store.Profile, cn *conn.Conn, admin *exchange.Graph) (g *exchange.Graph, viaAdmin bool, err error) {
	const why = "Resolving looks users up in Entra ID as the app itself: it needs the app's client ID and client secret (step 3) and the Microsoft Graph application permission User.Read.All with admin consent. An admin who signs in with \"register for me\" in step 2 can resolve them instead."
	tenant := conn.Tenant(p)
	var problem *usersProblem
	app := cn // a certificate profile's connection signs with the certificate
	if !p.UsesCertificate() {
		var secret store.ClientSecret
		if secret, err = db.ClientSecret(p.ID); err == nil {
			app = cn.WithSecret(secret.Value)
		}
	}
	switch {
	case p.ClientID == "":
		problem = &usersProblem{msg: "The profile has no application (client) ID: enter it in step 3 (esc goes back), then press r", fix: why}
	case tenant == "":
		problem = &usersProblem{msg: "The profile has no tenant: enter it in step 3 (esc goes back), then press r", fix: why}
	case errors.Is(err, store.ErrNotFound):
		problem = &usersProblem{msg: "No client secret is stored for the app: enter its value in step 3 (esc goes back), then press r", fix: why,
			adminCan: p.Model != store.AppOnly && p.RedirectURI == ""} // step 3 asked for none
	case err != nil:
		return nil, false, err
	}
	if problem != nil {
		if admin != nil {
			return admin, true, nil
		}
		return nil, false, problem
	}
	g, err = usersAppGraph(ctx, app)
	return g, false, err
}

// usersAppGraph is Graph on the app's client-credentials token, with the
// first token got at once.
func usersAppGraph(ctx context.Context, cn *conn.Conn) (*exchange.Graph, error) {
	g := cn.AppGraph()
	if _, err := g.Token(ctx); err != nil {
		return nil, err
	}
	return g, nil
}

// usersExplain turns a failed resolve into a line for the error slot and
// the fix shown under the table.
func usersExplain(p store.Profile, viaAdmin bool, err error) (slot, fix string) {
	var up *usersProblem
	var fe *flows.Error
	grant := "In Entra ID, App registrations › the app (" + p.ClientID + ") › API permissions: add Microsoft Graph › Application permissions › User.Read.All, press \"Grant admin consent\", then press r here again."
	switch {
	case errors.As(err, &up):
		return up.msg, up.fix
	case errors.As(err, &fe) && viaAdmin:
		return "Entra ID refused the admin's sign-in: " + fe.Error(), fe.Fix()
	case errors.As(err, &fe):
		return "Entra ID refused the app's sign-in: " + fe.Error(), fe.Fix()
	case errors.Is(err, exchange.ErrForbidden) && viaAdmin:
		return "The admin who signed in may not read users, and the app has no access of its own to use instead",
			"Sign in with \"register for me\" in step 2 as an admin who may read users (e.g. Global Reader or User Administrator), or: " + grant
	case errors.Is(err, exchange.ErrForbidden):
		return "The app may not read users: it lacks the application permission User.Read.All (or its admin consent)", grant
	case errors.Is(err, exchange.ErrThrottled):
		return "Graph is throttling the app: wait a minute, then press r",
			"Users resolved so far are saved; the next run picks them up again."
	}
	return "Resolving failed: " + err.Error(),
		"Users resolved so far are saved. Check the network and the profile's hosts (step 1), then press r to try again."
}

// The view.

// resolvedOnPrem is how a user of an on-premises profile was resolved.
const resolvedOnPrem = "on-premises EWS"

// resolveOnPrem checks a user of an on-premises profile by opening their
// calendar through the service account's impersonation: the account as
// entered is the address Exchange knows, or no mailbox has it. A refused
// impersonation is no fault of the user's: it stops the run with its fix.
func resolveOnPrem(ctx context.Context, cn *conn.Conn, u store.User) (store.User, error) {
	r := cn.Probe(ctx, u, store.EWS)
	u.ResolvedBy = resolvedOnPrem
	switch {
	case r.OK:
		u.UPN, u.PrimarySMTP, u.Mapping = u.Account, u.Account, store.MappingOK
		return u, nil
	case errors.Is(r.Err, exchange.ErrNotFound):
		u.Mapping = store.MappingNotFound
		return u, nil
	}
	return u, fmt.Errorf("open the mailbox of %s: %s: %s", u.Account, r.Message, r.Fix)
}
