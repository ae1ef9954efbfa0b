package m365sim

import (
	"net/http"
	"slices"
	"strings"
)

// permissionGrant is Graph's oauth2PermissionGrant: the delegated
// permissions a client holds on one resource, for one user or for all.
// Tenant.consent is the source of truth, so a grant is the same thing
// whether a user consented while signing in or an admin posted it here.
type permissionGrant struct {
	Context     string  `json:"@odata.context,omitempty"`
	ID          string  `json:"id"`
	ClientID    string  `json:"clientId"`
	ConsentType string  `json:"consentType"`
	PrincipalID *string `json:"principalId"`
	ResourceID  string  `json:"resourceId"`
	Scope       string  `json:"scope"`

	client    *App
	resource  spRef
	principal string // the key in Tenant.consent: "" for AllPrincipals
}

// grantView shows what client a holds on res for principal; false if
// nothing. Scopes come in catalog order, and the ID is derived from the
// client, resource and principal, as Entra derives it.
func (t *Tenant) grantView(a *App, res spRef, principal string) (permissionGrant, bool) {
	var names []string
	for _, p := range permissions {
		if !p.Role && p.Resource == res.AppID && t.consent[principal][a.ClientID][consentKey(p)] {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		return permissionGrant{}, false
	}
	g := permissionGrant{
		ClientID: a.SPObjectID, ConsentType: "AllPrincipals", ResourceID: res.ID, Scope: strings.Join(names, " "),
		client: a, resource: res, principal: principal,
	}
	ids := []string{a.SPObjectID, res.ID}
	if principal != "" {
		g.ConsentType, g.PrincipalID = "Principal", &principal
		ids = append(ids, principal)
	}
	g.ID = graphKey(ids...)
	return g, true
}

// permissionGrants lists the tenant's grants. A client without a service
// principal has none Graph could name.
func (t *Tenant) permissionGrants() []permissionGrant {
	out := []permissionGrant{}
	for principal, byClient := range t.consent {
		for clientID := range byClient {
			a := t.App(clientID)
			if a == nil || a.SPObjectID == "" {
				continue
			}
			for _, res := range t.resources {
				if g, ok := t.grantView(a, res, principal); ok {
					out = append(out, g)
				}
			}
		}
	}
	slices.SortFunc(out, func(x, y permissionGrant) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// scopesOn resolves a grant's space-separated scope names on a resource.
func scopesOn(res spRef, scope string) ([]Permission, *graphError) {
	var ps []Permission
	for _, name := range strings.Fields(scope) {
		p, ok := lookupPermission(name, false)
		if !ok || p.Resource != res.AppID {
			e := errInvalidValue("scope", "OAuth2PermissionGrant")
			e.message += " " + res.DisplayName + " has no delegated permission " + name + "."
			return nil, e
		}
		ps = append(ps, p)
	}
	return ps, nil
}

func (s *Sim) listPermissionGrants(g *graphReq) (int, any, *graphError) {
	if e := g.c.allow(readGrants); e != nil {
		return 0, nil, e
	}
	grants, e := filtered(g.t.permissionGrants(), g.r.URL.Query().Get("$filter"))
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, s.collection("oauth2PermissionGrants", grants), nil
}

func (g *graphReq) grantByKey() (permissionGrant, *graphError) {
	for _, pg := range g.t.permissionGrants() {
		if pg.ID == g.key {
			return pg, nil
		}
	}
	return permissionGrant{}, errNotFound(g.key)
}

func (s *Sim) getPermissionGrant(g *graphReq) (int, any, *graphError) {
	if e := g.c.allow(readGrants); e != nil {
		return 0, nil, e
	}
	pg, e := g.grantByKey()
	if e != nil {
		return 0, nil, e
	}
	pg.Context = s.entityContext("oauth2PermissionGrants")
	return http.StatusOK, pg, nil
}

// createPermissionGrant is admin consent to delegated permissions, for
// every user (AllPrincipals) or one (Principal). There is one grant per
// client, resource and principal: a second POST conflicts, and a change
// is a PATCH.
func (s *Sim) createPermissionGrant(g *graphReq) (int, any, *graphError) {
	if e := g.c.allow(writeGrants); e != nil {
		return 0, nil, e
	}
	var body struct {
		ClientID    string `json:"clientId"`
		ConsentType string `json:"consentType"`
		PrincipalID string `json:"principalId"`
		ResourceID  string `json:"resourceId"`
		Scope       string `json:"scope"`
	}
	if e := decodeBody(g.r, &body); e != nil {
		return 0, nil, e
	}
	invalid := func(prop string) (int, any, *graphError) {
		return 0, nil, errInvalidValue(prop, "OAuth2PermissionGrant")
	}
	client, ok := g.t.servicePrincipal(body.ClientID, false)
	if !ok || client.app == nil {
		return invalid("clientId")
	}
	res, ok := g.t.servicePrincipal(body.ResourceID, false)
	if !ok || res.app != nil {
		return invalid("resourceId")
	}
	var principal string
	switch body.ConsentType {
	case "AllPrincipals":
		if body.PrincipalID != "" {
			return invalid("principalId")
		}
	case "Principal":
		u := g.t.User(body.PrincipalID)
		if u == nil || !strings.EqualFold(u.ObjectID, body.PrincipalID) {
			return invalid("principalId")
		}
		principal = u.ObjectID
	default:
		return invalid("consentType")
	}
	ps, e := scopesOn(res, body.Scope)
	if e != nil {
		return 0, nil, e
	}
	if len(ps) == 0 {
		return invalid("scope")
	}
	if _, exists := g.t.grantView(client.app, res, principal); exists {
		return 0, nil, gerr(http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists.")
	}
	g.t.grantConsent(client.app.ClientID, principal, ps)
	pg, _ := g.t.grantView(client.app, res, principal)
	pg.Context = s.entityContext("oauth2PermissionGrants")
	return http.StatusCreated, pg, nil
}

// patchPermissionGrant replaces a grant's scopes; the next sign-in or
// refresh sees the change.
func (s *Sim) patchPermissionGrant(g *graphReq) (int, any, *graphError) {
	if e := g.c.allow(writeGrants); e != nil {
		return 0, nil, e
	}
	pg, e := g.grantByKey()
	if e != nil {
		return 0, nil, e
	}
	var body struct {
		Scope *string `json:"scope"`
	}
	if e := decodeBody(g.r, &body); e != nil {
		return 0, nil, e
	}
	if body.Scope == nil {
		return http.StatusNoContent, nil, nil
	}
	ps, e := scopesOn(pg.resource, *body.Scope)
	if e != nil {
		return 0, nil, e
	}
	held := g.t.consent[pg.principal][pg.client.ClientID]
	for key := range held {
		if strings.HasPrefix(key, pg.resource.AppID+" ") {
			delete(held, key)
		}
	}
	g.t.grantConsent(pg.client.ClientID, pg.principal, ps)
	return http.StatusNoContent, nil, nil
}
