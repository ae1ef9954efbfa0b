package appreg

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

// RegisterOptions steer Register.
type RegisterOptions struct {
	// ClientID is the app to bring up to the plan; empty: find it by its
	// display name, or create it.
	ClientID string
	// HaveSecret says a working secret (or certificate) is stored
	// already: none is added.
	HaveSecret bool
	// Certificate is uploaded to the app rather than a client secret
	// added: the certificate modauth made for a profile that signs in with
	// one (app-only; the product signs client assertions with it).
	Certificate *flows.ClientCertificate
	// Monitor also creates (or completes) the plan's read-only monitoring
	// app, with its admin consent and a secret of its own.
	Monitor bool
	// MonitorClientID is the monitoring app to complete; empty: find it
	// by its display name, or create it.
	MonitorClientID string
	// HaveMonitorSecret says the monitoring app's secret is stored
	// already: none is added.
	HaveMonitorSecret bool
	SecretLifetime    time.Duration // default 12 months, as Microsoft advises
	Now               func() time.Time
}

// Registration is what Register found or made.
type Registration struct {
	ClientID   string
	ObjectID   string // the application object
	SPObjectID string // the enterprise application (service principal)
	// Secret is a secret added by this run, with its value; nil if none.
	Secret *store.ClientSecret
	// Certificate is a certificate made and uploaded by this run, with its
	// private key; nil if none.
	Certificate *store.ClientCertificate
	// Monitor is the monitoring app, when RegisterOptions.Monitor asked
	// for it; its Changes are in the Registration's, marked.
	Monitor *Registration
	// Changes lists what this run changed; empty when everything was in
	// place already.
	Changes []string
}

// Register creates the plan's app registration through Microsoft Graph, or
// completes an existing one: its service principal, the admin consent the
// plan needs (app role assignments and delegated grants), and a client
// secret. Running it again adds only what is missing.
func Register(ctx context.Context, g *exchange.Graph, p *Plan, opts RegisterOptions) (*Registration, error) {
	if !p.NeedsApp {
		return nil, fmt.Errorf("register: %s needs no app registration", p.DisplayName)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SecretLifetime == 0 {
		opts.SecretLifetime = 365 * 24 * time.Hour
	}
	d := &directory{g: g, sps: map[string]*servicePrincipal{}}
	want, _, err := p.Application(d.resolve(ctx))
	if err != nil {
		return nil, err
	}
	reg := &Registration{}
	app, sp, err := ensureApp(ctx, d, opts.ClientID, p.DisplayName, want, reg)
	if err != nil {
		return nil, err
	}
	reg.ClientID, reg.ObjectID, reg.SPObjectID = app.AppID, app.ID, sp.ID

	if p.AdminConsent {
		if err := grantRoles(ctx, d, p.Permissions, sp, reg); err != nil {
			return nil, err
		}
		if err := grantScopes(ctx, d, p, sp, reg); err != nil {
			return nil, err
		}
	}
	if p.NeedsSecret && !opts.HaveSecret && opts.Certificate != nil {
		kc, err := g.AddCertificate(ctx, app.AppID, opts.Certificate.Cert.Raw, "modauth "+p.Environment)
		if err != nil {
			return nil, step("upload the certificate", rolesAppWrite, err)
		}
		sc, err := opts.Certificate.Stored(kc.KeyID)
		if err != nil {
			return nil, err
		}
		reg.Certificate = &sc
		reg.Changes = append(reg.Changes, fmt.Sprintf("uploaded certificate %s…, valid until %s", sc.Thumbprint[:8], sc.NotAfter.Format("2 January 2006")))
	} else if p.NeedsSecret && !opts.HaveSecret {
		now := opts.Now()
		pc, err := g.AddPassword(ctx, app.AppID, "modauth "+p.Environment+" "+now.Format("2006-01-02"), now.Add(opts.SecretLifetime))
		if err != nil {
			return nil, step("add a client secret", rolesAppWrite, err)
		}
		reg.Secret = &store.ClientSecret{Value: store.Secret(pc.SecretText), KeyID: pc.KeyID, Expiry: pc.EndDateTime, ExpirySource: store.ExpiryGraph, Created: true}
		reg.Changes = append(reg.Changes, fmt.Sprintf("added client secret %s, valid until %s", pc.KeyID, pc.EndDateTime.Format("2 January 2006")))
	}
	if opts.Monitor {
		if err := registerMonitor(ctx, d, p, opts, reg); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

// ensureApp finds the app (by client ID, else by name) and completes it to
// want, or creates it; then its service principal likewise.
func ensureApp(ctx context.Context, d *directory, clientID, name string, want Application, reg *Registration) (*graphApp, *servicePrincipal, error) {
	app, err := findApp(ctx, d.g, clientID, name)
	if err != nil {
		return nil, nil, err
	}
	if app == nil {
		app = &graphApp{}
		if err := d.g.Do(ctx, http.MethodPost, "/applications", want, app); err != nil {
			return nil, nil, step("create the app registration", rolesAppWrite, err)
		}
		reg.Changes = append(reg.Changes, "created app registration "+name)
	} else if err := completeApp(ctx, d.g, app, want, reg); err != nil {
		return nil, nil, err
	}
	sp, err := d.sp(ctx, app.AppID)
	if err != nil {
		return nil, nil, step("look up the enterprise application", rolesAppWrite, err)
	}
	if sp == nil {
		if sp, err = d.createSP(ctx, app.AppID); err != nil {
			return nil, nil, err
		}
		reg.Changes = append(reg.Changes, "created its enterprise application")
	}
	return app, sp, nil
}

// findApp finds the app by client ID, or else by display name; nil when
// there is none.
func findApp(ctx context.Context, g *exchange.Graph, clientID, name string) (*graphApp, error) {
	if clientID != "" {
		var app graphApp
		if err := g.Do(ctx, http.MethodGet, "/applications(appId='"+url.PathEscape(clientID)+"')", nil, &app); err != nil {
			return nil, step("find app "+clientID, rolesAppWrite, err)
		}
		return &app, nil
	}
	filter := "displayName eq '" + strings.ReplaceAll(name, "'", "''") + "'"
	apps, err := exchange.List[graphApp](ctx, g, "/applications?$filter="+url.QueryEscape(filter))
	if err != nil {
		return nil, step("look for app "+name, rolesAppWrite, err)
	}
	switch len(apps) {
	case 0:
		return nil, nil
	case 1:
		return &apps[0], nil
	}
	return nil, fmt.Errorf("look for app %s: %d apps have that name: give the client ID of the one to use", name, len(apps))
}

// completeApp adds what the plan wants and the app lacks: redirect URIs,
// public client flows, permissions. It never removes anything.
func completeApp(ctx context.Context, g *exchange.Graph, app *graphApp, want Application, reg *Registration) error {
	patch := map[string]any{}
	if want.IsFallbackPublicClient && !app.IsFallbackPublicClient {
		patch["isFallbackPublicClient"] = true
		reg.Changes = append(reg.Changes, "allowed public client flows")
	}
	if uris, added := union(app.PublicClient.RedirectURIs, want.PublicClient.RedirectURIs); len(added) > 0 {
		patch["publicClient"] = RedirectURIs{uris}
		reg.Changes = append(reg.Changes, "added Mobile and desktop redirect URIs "+strings.Join(added, ", "))
	}
	if uris, added := union(app.Web.RedirectURIs, want.Web.RedirectURIs); len(added) > 0 {
		patch["web"] = RedirectURIs{uris}
		reg.Changes = append(reg.Changes, "added Web redirect URIs "+strings.Join(added, ", "))
	}
	rra := slices.Clone(app.RequiredResourceAccess)
	changed := false
	for _, w := range want.RequiredResourceAccess {
		i := slices.IndexFunc(rra, func(r RequiredResourceAccess) bool { return r.ResourceAppID == w.ResourceAppID })
		if i < 0 {
			rra = append(rra, RequiredResourceAccess{ResourceAppID: w.ResourceAppID})
			i = len(rra) - 1
		}
		for _, a := range w.ResourceAccess {
			if !slices.Contains(rra[i].ResourceAccess, a) {
				rra[i].ResourceAccess = append(rra[i].ResourceAccess, a)
				changed = true
			}
		}
	}
	if changed {
		patch["requiredResourceAccess"] = rra // PATCH replaces the whole list
		reg.Changes = append(reg.Changes, "added API permissions")
	}
	if len(patch) == 0 {
		return nil
	}
	return step("update the app registration", rolesAppWrite, g.Do(ctx, http.MethodPatch, "/applications/"+app.ID, patch, nil))
}

// union appends to have what want adds, and reports what that was.
func union(have, want []string) (all, added []string) {
	all = slices.Clone(have)
	for _, w := range want {
		if !slices.Contains(all, w) {
			all = append(all, w)
			added = append(added, w)
		}
	}
	return all, added
}

// grantRoles assigns the application permissions among perms that are not
// yet assigned: the admin consent of app-only access.
func grantRoles(ctx context.Context, d *directory, perms []Permission, sp *servicePrincipal, reg *Registration) error {
	have, err := exchange.List[appRoleAssignment](ctx, d.g, "/servicePrincipals/"+sp.ID+"/appRoleAssignments")
	if err != nil {
		return step("read the app's granted permissions", rolesAppWrite, err)
	}
	resolve := d.resolve(ctx)
	for _, perm := range perms {
		if perm.Kind != AppRole {
			continue
		}
		res, err := d.resource(ctx, perm.Resource)
		if err != nil {
			return err
		}
		id, err := resolve(perm)
		if err != nil {
			return err
		}
		a := appRoleAssignment{PrincipalID: sp.ID, ResourceID: res.ID, AppRoleID: id}
		if slices.ContainsFunc(have, func(h appRoleAssignment) bool { return h.ResourceID == a.ResourceID && h.AppRoleID == a.AppRoleID }) {
			continue
		}
		roles := rolesOtherGrant
		if perm.Resource == Graph {
			roles = rolesGraphGrant
		}
		what := "grant " + perm.Resource.Name + " application permission " + perm.Name
		if err := d.g.Do(ctx, http.MethodPost, "/servicePrincipals/"+res.ID+"/appRoleAssignedTo", a, nil); err != nil {
			return step(what, roles, err)
		}
		reg.Changes = append(reg.Changes, "granted "+perm.Resource.Name+" "+perm.Name+" (application)")
	}
	return nil
}

// grantScopes gives tenant-wide consent to the plan's delegated
// permissions, one grant per resource, adding missing scopes to it.
func grantScopes(ctx context.Context, d *directory, p *Plan, sp *servicePrincipal, reg *Registration) error {
	have, err := exchange.List[permissionGrant](ctx, d.g, "/oauth2PermissionGrants?$filter="+url.QueryEscape("clientId eq '"+sp.ID+"'"))
	if err != nil {
		return step("read the app's delegated grants", rolesScopeGrant, err)
	}
	for _, r := range p.Resources() {
		var names []string
		for _, perm := range p.On(r) {
			if perm.Kind == Delegated {
				names = append(names, perm.Name)
			}
		}
		if len(names) == 0 {
			continue
		}
		res, err := d.resource(ctx, r)
		if err != nil {
			return err
		}
		what := "consent to " + r.Name + " delegated permissions for all users"
		i := slices.IndexFunc(have, func(g permissionGrant) bool { return g.ResourceID == res.ID && g.ConsentType == "AllPrincipals" })
		if i < 0 {
			grant := permissionGrant{ClientID: sp.ID, ConsentType: "AllPrincipals", ResourceID: res.ID, Scope: strings.Join(names, " ")}
			if err := d.g.Do(ctx, http.MethodPost, "/oauth2PermissionGrants", grant, nil); err != nil {
				return step(what, rolesScopeGrant, err)
			}
			reg.Changes = append(reg.Changes, "consented to "+r.Name+" "+grant.Scope+" for all users")
			continue
		}
		scopes, added := union(strings.Fields(have[i].Scope), names)
		if len(added) == 0 {
			continue
		}
		if err := d.g.Do(ctx, http.MethodPatch, "/oauth2PermissionGrants/"+have[i].ID, map[string]string{"scope": strings.Join(scopes, " ")}, nil); err != nil {
			return step(what, rolesScopeGrant, err)
		}
		reg.Changes = append(reg.Changes, "consented to "+r.Name+" "+strings.Join(added, " ")+" for all users")
	}
	return nil
}

// Save stores what the registration made in the profile: the client ID and
// the sealed client secret with its expiry, and the monitoring app's IDs
// and sealed secret when one was made.
func (r *Registration) Save(db *store.DB, profileID string) error {
	prof, err := db.Profile(profileID)
	if err != nil {
		return fmt.Errorf("save registration: %w", err)
	}
	prof.ClientID, prof.ServicePrincipalID = r.ClientID, r.SPObjectID
	if r.Certificate != nil {
		prof.Credential = store.CredentialCertificate
	}
	if r.Monitor != nil {
		prof.Monitor = &store.MonitorApp{ClientID: r.Monitor.ClientID, ServicePrincipalID: r.Monitor.SPObjectID}
	}
	if err := db.PutProfile(prof); err != nil {
		return fmt.Errorf("save registration: %w", err)
	}
	if r.Secret != nil {
		if err := db.SetClientSecret(profileID, *r.Secret); err != nil {
			return fmt.Errorf("save registration: %w", err)
		}
	}
	if r.Certificate != nil {
		if err := db.SetClientCertificate(profileID, *r.Certificate); err != nil {
			return fmt.Errorf("save registration: %w", err)
		}
	}
	if r.Monitor != nil && r.Monitor.Secret != nil {
		if err := db.SetMonitorSecret(profileID, *r.Monitor.Secret); err != nil {
			return fmt.Errorf("save registration: %w", err)
		}
	}
	return nil
}

// grantRe reads one application grant of Changes, to join grants of one
// resource into one phrase.
var grantRe = regexp.MustCompile(`^granted (.+) (\S+) \(application\)$`)

// Summary says what the run changed in few words: the grants to one
// resource joined, and the monitoring app's changes named once after the
// product app's.
func (r *Registration) Summary() string {
	var own, mon []string
	for _, c := range r.Changes {
		if m, ok := strings.CutPrefix(c, "monitoring app: "); ok {
			mon = append(mon, m)
		} else {
			own = append(own, c)
		}
	}
	out := joinGrants(own)
	if len(mon) > 0 {
		out += "; monitoring app: " + joinGrants(mon)
	}
	return strings.TrimPrefix(out, "; ")
}

func joinGrants(changes []string) string {
	var out []string
	lastRes := ""
	for _, c := range changes {
		m := grantRe.FindStringSubmatch(c)
		if m == nil {
			out, lastRes = append(out, c), ""
			continue
		}
		if m[1] == lastRes {
			prev := strings.TrimSuffix(out[len(out)-1], " (application)")
			out[len(out)-1] = prev + ", " + m[2] + " (application)"
			continue
		}
		out, lastRes = append(out, c), m[1]
	}
	return strings.Join(out, "; ")
}
