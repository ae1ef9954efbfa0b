package appreg

import (
	"encoding/json"
	"fmt"
)

// Application is the app registration as Microsoft Graph and the portal's
// manifest editor write it. The same value is the manifest modauth shows
// and the body it posts to /applications.
type Application struct {
	DisplayName            string                   `json:"displayName"`
	SignInAudience         string                   `json:"signInAudience"`
	IsFallbackPublicClient bool                     `json:"isFallbackPublicClient"`
	PublicClient           RedirectURIs             `json:"publicClient"`
	Web                    RedirectURIs             `json:"web"`
	RequiredResourceAccess []RequiredResourceAccess `json:"requiredResourceAccess"`
}

// RedirectURIs is a platform's list of redirect URIs.
type RedirectURIs struct {
	RedirectURIs []string `json:"redirectUris"`
}

// RequiredResourceAccess lists the permissions asked on one resource.
type RequiredResourceAccess struct {
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []ResourceAccess `json:"resourceAccess"`
}

// ResourceAccess is one permission: its GUID and "Scope" or "Role".
type ResourceAccess struct {
	ID   string `json:"id"`
	Type Kind   `json:"type"`
}

// Resolver finds a permission's GUID where Microsoft does not publish it,
// from the resource's service principal.
type Resolver func(Permission) (string, error)

// Application builds the registration. Permissions without a published ID
// are looked up with resolve; with a nil resolver they are left out and
// returned, for the checklist to add by hand.
func (p *Plan) Application(resolve Resolver) (app Application, unresolved []Permission, err error) {
	app = Application{
		DisplayName:            p.DisplayName,
		SignInAudience:         p.SignInAudience,
		IsFallbackPublicClient: p.FallbackPublicClient,
		PublicClient:           RedirectURIs{nonNil(p.PublicRedirectURIs)},
		Web:                    RedirectURIs{nonNil(p.WebRedirectURIs)},
		RequiredResourceAccess: []RequiredResourceAccess{},
	}
	for _, r := range p.Resources() {
		rra := RequiredResourceAccess{ResourceAppID: r.AppID}
		for _, perm := range p.On(r) {
			id := perm.ID
			if id == "" && resolve != nil {
				if id, err = resolve(perm); err != nil {
					return app, nil, fmt.Errorf("find the ID of %s on %s: %w", perm.Name, r.Name, err)
				}
			}
			if id == "" {
				unresolved = append(unresolved, perm)
				continue
			}
			rra.ResourceAccess = append(rra.ResourceAccess, ResourceAccess{ID: id, Type: perm.Kind})
		}
		if len(rra.ResourceAccess) > 0 {
			app.RequiredResourceAccess = append(app.RequiredResourceAccess, rra)
		}
	}
	return app, unresolved, nil
}

// Manifest is the application as indented JSON, for the portal's manifest
// editor or `az rest`.
func (p *Plan) Manifest() ([]byte, []Permission) {
	app, unresolved, _ := p.Application(nil)
	b, _ := json.MarshalIndent(app, "", "  ")
	return append(b, '\n'), unresolved
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
