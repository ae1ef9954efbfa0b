package appreg

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/modauth/modauth/exchange"
)

// The Graph resources registration reads and writes.
type (
	graphApp struct {
		ID                     string                   `json:"id"`
		AppID                  string                   `json:"appId"`
		DisplayName            string                   `json:"displayName"`
		IsFallbackPublicClient bool                     `json:"isFallbackPublicClient"`
		PublicClient           RedirectURIs             `json:"publicClient"`
		Web                    RedirectURIs             `json:"web"`
		RequiredResourceAccess []RequiredResourceAccess `json:"requiredResourceAccess"`
	}
	servicePrincipal struct {
		ID          string `json:"id"`
		AppID       string `json:"appId"`
		DisplayName string `json:"displayName"`
		AppRoles    []struct {
			ID    string `json:"id"`
			Value string `json:"value"`
		} `json:"appRoles"`
		Scopes []struct {
			ID    string `json:"id"`
			Value string `json:"value"`
		} `json:"oauth2PermissionScopes"`
	}
	appRoleAssignment struct {
		ID          string `json:"id,omitempty"`
		PrincipalID string `json:"principalId"`
		ResourceID  string `json:"resourceId"`
		AppRoleID   string `json:"appRoleId"`
	}
	permissionGrant struct {
		ID          string `json:"id,omitempty"`
		ClientID    string `json:"clientId"`
		ConsentType string `json:"consentType"`
		ResourceID  string `json:"resourceId"`
		Scope       string `json:"scope"`
	}
)

// RoleError is a registration step the signed-in account may not do. It
// names the directory roles that may.
type RoleError struct {
	Step  string
	Roles []string
	Err   error
}

func (e *RoleError) Error() string {
	return fmt.Sprintf("%s: the signed-in account lacks the rights: sign in as %s (%v)", e.Step, orList(e.Roles), e.Err)
}

func (e *RoleError) Unwrap() error { return e.Err }

func orList(roles []string) string {
	if len(roles) == 1 {
		return "a " + roles[0]
	}
	return "a " + strings.Join(roles[:len(roles)-1], ", ") + " or " + roles[len(roles)-1]
}

// Roles that may do each registration step.
var (
	rolesAppWrite    = []string{"Application Administrator", "Cloud Application Administrator", "Global Administrator"}
	rolesGraphGrant  = []string{"Privileged Role Administrator", "Global Administrator"}
	rolesOtherGrant  = []string{"Cloud Application Administrator", "Application Administrator", "Privileged Role Administrator", "Global Administrator"}
	rolesScopeGrant  = rolesOtherGrant
	errGraphResource = errors.New("resource not in tenant")
)

// step runs one Graph call and names the roles needed when it is refused.
func step(name string, roles []string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, exchange.ErrForbidden) {
		return &RoleError{Step: name, Roles: roles, Err: err}
	}
	return fmt.Errorf("%s: %w", name, err)
}

// directory caches the service principals registration looks up.
type directory struct {
	g   *exchange.Graph
	sps map[string]*servicePrincipal // by appId
}

// sp finds the service principal of appID, or nil when there is none.
func (d *directory) sp(ctx context.Context, appID string) (*servicePrincipal, error) {
	if sp, ok := d.sps[appID]; ok {
		return sp, nil
	}
	list, err := exchange.List[servicePrincipal](ctx, d.g, "/servicePrincipals?$filter="+url.QueryEscape("appId eq '"+appID+"'"))
	if err != nil {
		return nil, err
	}
	var sp *servicePrincipal
	if len(list) > 0 {
		sp = &list[0]
	}
	d.sps[appID] = sp
	return sp, nil
}

// resource finds a first-party resource's service principal, which must exist.
func (d *directory) resource(ctx context.Context, r Resource) (*servicePrincipal, error) {
	sp, err := d.sp(ctx, r.AppID)
	if err != nil {
		return nil, step("look up "+r.Name, []string{"Global Reader", "Application Administrator"}, err)
	}
	if sp == nil {
		return nil, fmt.Errorf("%s has no service principal in this tenant (is it licensed for Exchange Online?): %w", r.Name, errGraphResource)
	}
	return sp, nil
}

// resolve finds a permission's ID on its resource by name.
func (d *directory) resolve(ctx context.Context) Resolver {
	return func(p Permission) (string, error) {
		sp, err := d.resource(ctx, p.Resource)
		if err != nil {
			return "", err
		}
		if p.Kind == AppRole {
			for _, r := range sp.AppRoles {
				if r.Value == p.Name {
					return r.ID, nil
				}
			}
		} else {
			for _, s := range sp.Scopes {
				if s.Value == p.Name {
					return s.ID, nil
				}
			}
		}
		return "", fmt.Errorf("%s offers no %s permission %s", p.Resource.Name, strings.ToLower(string(p.Kind)), p.Name)
	}
}

func (d *directory) createSP(ctx context.Context, appID string) (*servicePrincipal, error) {
	var sp servicePrincipal
	err := d.g.Do(ctx, http.MethodPost, "/servicePrincipals", map[string]string{"appId": appID}, &sp)
	if err != nil {
		return nil, step("create the enterprise application", rolesAppWrite, err)
	}
	d.sps[appID] = &sp
	return &sp, nil
}

// AdminClientID is the public client an admin signs in to when modauth
// registers an app through Graph: Microsoft's "Microsoft Graph Command Line
// Tools", present in every tenant. A profile may name another.
const AdminClientID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

// AdminPermissions are what that sign-in asks for when it registers the
// app: create apps, grant application permissions and consent to
// delegated ones, and read users to resolve the product's accounts; and
// offline_access, so one sign-in serves the session.
var AdminPermissions = []string{
	"User.Read.All",
	"Application.ReadWrite.All",
	"AppRoleAssignment.ReadWrite.All",
	"DelegatedPermissionGrant.ReadWrite.All",
	"offline_access",
}

// AdminScopesOn are the scopes of an admin's sign-in for Graph
// permissions on a cloud's Graph resource (store.Hosts.GraphResource);
// offline_access and the other OpenID scopes name no resource.
func AdminScopesOn(graphResource string, perms ...string) []string {
	out := make([]string, 0, len(perms))
	for _, p := range perms {
		switch p {
		case "openid", "profile", "email", "offline_access":
			out = append(out, p)
		default:
			out = append(out, strings.TrimSuffix(graphResource, "/")+"/"+p)
		}
	}
	return out
}
