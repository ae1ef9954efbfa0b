package m365sim

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// roleGrant is an application permission granted to a client: what
// client-credentials tokens carry in roles, and what Graph lists as an
// appRoleAssignment.
type roleGrant struct {
	id      string
	created time.Time
}

// assignRole grants client a the application permission roleID, as admin
// consent and appRoleAssignedTo both do. It returns nil, changing
// nothing, when the grant exists. Callers hold s.mu.
func (s *Sim) assignRole(t *Tenant, a *App, roleID string) *roleGrant {
	if t.roles[a.ClientID][roleID] != nil {
		return nil
	}
	if t.roles[a.ClientID] == nil {
		t.roles[a.ClientID] = map[string]*roleGrant{}
	}
	// Entra's assignment IDs start with the principal's ID.
	principal := a.SPObjectID
	if principal == "" {
		principal = s.newGUID()
	}
	g := &roleGrant{id: graphKey(principal, s.newGUID()), created: s.Clock.Now().UTC()}
	t.roles[a.ClientID][roleID] = g
	return g
}

// appRoleAssignment is Graph's appRoleAssignment resource.
type appRoleAssignment struct {
	Context              string    `json:"@odata.context,omitempty"`
	ID                   string    `json:"id"`
	AppRoleID            string    `json:"appRoleId"`
	CreatedDateTime      time.Time `json:"createdDateTime"`
	PrincipalDisplayName string    `json:"principalDisplayName"`
	PrincipalID          string    `json:"principalId"`
	PrincipalType        string    `json:"principalType"`
	ResourceDisplayName  string    `json:"resourceDisplayName"`
	ResourceID           string    `json:"resourceId"`
}

// roleAssignments lists the tenant's application-permission grants as
// Graph shows them, oldest first.
func (t *Tenant) roleAssignments() []appRoleAssignment {
	out := []appRoleAssignment{}
	for clientID, grants := range t.roles {
		for roleID, g := range grants {
			out = append(out, t.assignmentView(t.App(clientID), roleID, g))
		}
	}
	slices.SortFunc(out, func(x, y appRoleAssignment) int {
		if c := x.CreatedDateTime.Compare(y.CreatedDateTime); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out
}

func (t *Tenant) assignmentView(a *App, roleID string, g *roleGrant) appRoleAssignment {
	p, _ := permissionByID(roleID)
	res, _ := t.servicePrincipal(p.Resource, true)
	return appRoleAssignment{
		ID: g.id, AppRoleID: roleID, CreatedDateTime: g.created,
		PrincipalDisplayName: a.DisplayName, PrincipalID: a.SPObjectID, PrincipalType: "ServicePrincipal",
		ResourceDisplayName: res.DisplayName, ResourceID: res.ID,
	}
}

// listAppRoleAssignedTo lists the grants of a resource's roles.
func (s *Sim) listAppRoleAssignedTo(g *graphReq) (int, any, *graphError) {
	return s.listRoleAssignments(g, func(a appRoleAssignment, sp spRef) bool { return a.ResourceID == sp.ID })
}

// listAppRoleAssignments lists the roles granted to a client.
func (s *Sim) listAppRoleAssignments(g *graphReq) (int, any, *graphError) {
	return s.listRoleAssignments(g, func(a appRoleAssignment, sp spRef) bool { return a.PrincipalID == sp.ID })
}

func (s *Sim) listRoleAssignments(g *graphReq, keep func(appRoleAssignment, spRef) bool) (int, any, *graphError) {
	if e := g.c.allow(readApps); e != nil {
		return 0, nil, e
	}
	sp, e := g.spByKey()
	if e != nil {
		return 0, nil, e
	}
	out := []appRoleAssignment{}
	for _, a := range g.t.roleAssignments() {
		if keep(a, sp) {
			out = append(out, a)
		}
	}
	return http.StatusOK, s.collection("servicePrincipals('"+sp.ID+"')/"+g.action, out), nil
}

// assignAppRole is POST /servicePrincipals/{resource}/appRoleAssignedTo:
// admin consent to one application permission.
func (s *Sim) assignAppRole(g *graphReq) (int, any, *graphError) {
	res, e := g.spByKey()
	if e != nil {
		return 0, nil, e
	}
	need := assignRoles
	if res.AppID == GraphAppID {
		need = assignGraphRoles
	}
	if e := g.c.allow(need); e != nil {
		return 0, nil, e
	}
	var body struct {
		PrincipalID string `json:"principalId"`
		ResourceID  string `json:"resourceId"`
		AppRoleID   string `json:"appRoleId"`
	}
	if e := decodeBody(g.r, &body); e != nil {
		return 0, nil, e
	}
	client, ok := g.t.servicePrincipal(body.PrincipalID, false)
	switch {
	case !ok || client.app == nil:
		return 0, nil, errNotFound(body.PrincipalID)
	case !strings.EqualFold(body.ResourceID, res.ID):
		return 0, nil, errInvalidValue("resourceId", "AppRoleAssignment")
	}
	p, ok := permissionByID(strings.ToLower(body.AppRoleID))
	if !ok || !p.Role || p.Resource != res.AppID {
		return 0, nil, errBadRequest("Permission being assigned was not found on application '%s'.", res.AppID)
	}
	rg := s.assignRole(g.t, client.app, p.ID)
	if rg == nil {
		return 0, nil, errBadRequest("Permission being assigned already exists on the object")
	}
	v := g.t.assignmentView(client.app, p.ID, rg)
	v.Context = s.entityContext("servicePrincipals('" + res.ID + "')/appRoleAssignedTo")
	return http.StatusCreated, v, nil
}
