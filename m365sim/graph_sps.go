package m365sim

import (
	"net/http"
	"strings"
)

// spRef is a service principal of a tenant: a first-party resource's
// (app nil) or an app registration's.
type spRef struct {
	ID, AppID, DisplayName string
	app                    *App
}

// servicePrincipals lists the tenant's service principals, resources first.
func (t *Tenant) servicePrincipals() []spRef {
	out := append([]spRef(nil), t.resources...)
	for _, a := range t.Apps {
		if a.SPObjectID != "" {
			out = append(out, spRef{ID: a.SPObjectID, AppID: a.ClientID, DisplayName: a.DisplayName, app: a})
		}
	}
	return out
}

// servicePrincipal finds one by object ID or, byAppID, by appId.
func (t *Tenant) servicePrincipal(key string, byAppID bool) (spRef, bool) {
	for _, sp := range t.servicePrincipals() {
		k := sp.ID
		if byAppID {
			k = sp.AppID
		}
		if strings.EqualFold(k, key) {
			return sp, true
		}
	}
	return spRef{}, false
}

// servicePrincipal is Graph's servicePrincipal resource.
type servicePrincipal struct {
	Context                string            `json:"@odata.context,omitempty"`
	ID                     string            `json:"id"`
	AppID                  string            `json:"appId"`
	DisplayName            string            `json:"displayName"`
	ServicePrincipalType   string            `json:"servicePrincipalType"`
	AccountEnabled         bool              `json:"accountEnabled"`
	AppRoles               []appRole         `json:"appRoles"`
	OAuth2PermissionScopes []permissionScope `json:"oauth2PermissionScopes"`
}

type appRole struct {
	ID                 string   `json:"id"`
	Value              string   `json:"value"`
	DisplayName        string   `json:"displayName"`
	AllowedMemberTypes []string `json:"allowedMemberTypes"`
	IsEnabled          bool     `json:"isEnabled"`
}

type permissionScope struct {
	ID        string `json:"id"`
	Value     string `json:"value"`
	Type      string `json:"type"` // "Admin" or "User": who may consent
	IsEnabled bool   `json:"isEnabled"`
}

// view shows the service principal; a resource's roles and scopes are
// the catalog's, where clients resolve permission IDs (microsoft.md §2.2).
func (sp spRef) view() servicePrincipal {
	v := servicePrincipal{
		ID: sp.ID, AppID: sp.AppID, DisplayName: sp.DisplayName, ServicePrincipalType: "Application", AccountEnabled: true,
		AppRoles: []appRole{}, OAuth2PermissionScopes: []permissionScope{},
	}
	if sp.app != nil {
		return v
	}
	for _, p := range permissions {
		switch {
		case p.Resource != sp.AppID:
		case p.Role:
			v.AppRoles = append(v.AppRoles, appRole{ID: p.ID, Value: p.Name, DisplayName: p.Name, AllowedMemberTypes: []string{"Application"}, IsEnabled: true})
		default:
			kind := "User"
			if p.AdminOnly {
				kind = "Admin"
			}
			v.OAuth2PermissionScopes = append(v.OAuth2PermissionScopes, permissionScope{ID: p.ID, Value: p.Name, Type: kind, IsEnabled: true})
		}
	}
	return v
}

// spByKey finds the service principal the path names.
func (g *graphReq) spByKey() (spRef, *graphError) {
	sp, ok := g.t.servicePrincipal(g.key, g.byAppID)
	if !ok {
		return sp, errNotFound(g.key)
	}
	return sp, nil
}

func (s *Sim) listServicePrincipals(g *graphReq) (int, any, *graphError) {
	if e := g.c.allow(readApps); e != nil {
		return 0, nil, e
	}
	sps := []servicePrincipal{}
	for _, sp := range g.t.servicePrincipals() {
		sps = append(sps, sp.view())
	}
	sps, e := filtered(sps, g.r.URL.Query().Get("$filter"))
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, s.collection("servicePrincipals", sps), nil
}

func (s *Sim) getServicePrincipal(g *graphReq) (int, any, *graphError) {
	if e := g.c.allow(readApps); e != nil {
		return 0, nil, e
	}
	sp, e := g.spByKey()
	if e != nil {
		return 0, nil, e
	}
	v := sp.view()
	v.Context = s.entityContext("servicePrincipals")
	return http.StatusOK, v, nil
}

// createServicePrincipal creates the enterprise app of a registration;
// there is one per app and tenant.
func (s *Sim) createServicePrincipal(g *graphReq) (int, any, *graphError) {
	if e := g.c.allow(writeApps); e != nil {
		return 0, nil, e
	}
	var body struct {
		AppID string `json:"appId"`
	}
	if e := decodeBody(g.r, &body); e != nil {
		return 0, nil, e
	}
	if _, ok := g.t.servicePrincipal(body.AppID, true); ok {
		return 0, nil, gerr(http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", "The service principal cannot be created, updated, or restored because the service principal name %s is already in use.", body.AppID)
	}
	a := g.t.App(body.AppID)
	if a == nil {
		return 0, nil, errBadRequest("The appId '%s' of the service principal does not reference a valid application object.", body.AppID)
	}
	a.SPObjectID = s.newGUID()
	sp, _ := g.t.servicePrincipal(a.SPObjectID, false)
	v := sp.view()
	v.Context = s.entityContext("servicePrincipals")
	return http.StatusCreated, v, nil
}
