package m365sim

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// accessClaims are what Graph, EWS and the mail servers read of an access
// token.
type accessClaims struct {
	Aud   string   `json:"aud"`
	Exp   int64    `json:"exp"`
	Tid   string   `json:"tid"`
	Oid   string   `json:"oid"`
	AppID string   `json:"appid"`
	Idtyp string   `json:"idtyp"`
	Scp   string   `json:"scp"`
	Roles []string `json:"roles"`
}

// caller is who a Graph request comes from, as its access token says.
type caller struct {
	tenant *Tenant
	user   *User  // the signed-in user; nil for an app-only token
	appID  string // the client the token was issued to
	perms  []string
}

// graphAudiences are the aud values Graph accepts.
var graphAudiences = []string{"https://graph.microsoft.com", "https://graph.microsoft.com/", GraphAppID}

// authenticate checks the bearer token as Graph does: signed by the
// simulator, unexpired, issued for Graph, in one of its tenants.
// Callers hold s.mu.
func (s *Sim) authenticate(r *http.Request) (*caller, *graphError) {
	raw, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if strings.TrimSpace(raw) == "" {
		return nil, errInvalidToken("Access token is empty.")
	}
	var claims accessClaims
	if e := s.verifyJWT(raw, &claims); e != nil {
		return nil, e
	}
	if !time.Unix(claims.Exp, 0).After(s.Clock.Now()) {
		return nil, errInvalidToken("Lifetime validation failed, the token is expired.")
	}
	if !slices.Contains(graphAudiences, claims.Aud) {
		return nil, errInvalidToken("Access token validation failure. Invalid audience.")
	}
	t := s.tenant(claims.Tid)
	if t == nil {
		return nil, errInvalidToken("Access token validation failure. Invalid issuer.")
	}
	c := &caller{tenant: t, appID: claims.AppID, perms: claims.Roles}
	if claims.Idtyp != "app" {
		if c.user = t.User(claims.Oid); c.user == nil {
			return nil, errInvalidToken("Access token validation failure. The user does not exist in the tenant.")
		}
		c.perms = strings.Fields(claims.Scp)
	}
	return c, nil
}

func errInvalidToken(msg string) *graphError {
	return gerr(http.StatusUnauthorized, "InvalidAuthenticationToken", "%s", msg)
}

// verifyJWT checks an RS256 JWT against the simulator's signing key and
// decodes its claims into v.
func (s *Sim) verifyJWT(raw string, v any) *graphError {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return errInvalidToken("IDX14100: JWT is not well formed, there are no dots (.).")
	}
	var header struct{ Alg, Kid string }
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(h, &header) != nil {
		return errInvalidToken("IDX14102: Unable to decode the header as Base64Url encoded string.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || header.Alg != "RS256" || header.Kid != s.kid ||
		rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return errInvalidToken("Access token validation failure. Invalid signature.")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(payload, v) != nil {
		return errInvalidToken("IDX14101: Unable to decode the payload as Base64Url encoded string.")
	}
	return nil
}

// has reports whether the token carries one of the permissions.
func (c *caller) has(perms ...string) bool {
	return slices.ContainsFunc(perms, func(p string) bool { return containsFold(c.perms, p) })
}

// Directory roles, as the portal names them.
const (
	roleGlobalAdmin   = "Global Administrator"
	rolePrivRoleAdmin = "Privileged Role Administrator"
	roleCloudAppAdmin = "Cloud Application Administrator"
	roleAppAdmin      = "Application Administrator"
)

// Graph permissions the operations check.
const (
	appReadAll          = "Application.Read.All"
	appReadWriteAll     = "Application.ReadWrite.All"
	appReadWriteOwnedBy = "Application.ReadWrite.OwnedBy"
	roleAssignmentRW    = "AppRoleAssignment.ReadWrite.All"
	permissionGrantRW   = "DelegatedPermissionGrant.ReadWrite.All"
)

// access is what an operation needs: one of perms in the token (scp for a
// user, roles for an app) and, for a signed-in user, one of dirRoles, as
// delegated Graph calls act with the user's own rights.
type access struct {
	perms    []string
	dirRoles []string // nil: any member may
	purpose  string   // what the role is needed for, for the message
}

var (
	readApps  = access{perms: []string{appReadAll, appReadWriteAll}}
	writeApps = access{
		perms:    []string{appReadWriteAll},
		dirRoles: []string{roleAppAdmin, roleCloudAppAdmin, roleGlobalAdmin},
		purpose:  "manage app registrations",
	}
	// Granting Graph's own application permissions is reserved to the
	// top roles; the application admin roles may grant other resources'.
	assignGraphRoles = access{
		perms:    []string{roleAssignmentRW},
		dirRoles: []string{rolePrivRoleAdmin, roleGlobalAdmin},
		purpose:  "grant Microsoft Graph application permissions",
	}
	assignRoles = access{
		perms:    []string{roleAssignmentRW},
		dirRoles: []string{roleCloudAppAdmin, roleAppAdmin, rolePrivRoleAdmin, roleGlobalAdmin},
		purpose:  "grant application permissions",
	}
	readGrants  = access{perms: []string{permissionGrantRW}}
	writeGrants = access{
		perms:    []string{permissionGrantRW},
		dirRoles: []string{roleCloudAppAdmin, roleAppAdmin, rolePrivRoleAdmin, roleGlobalAdmin},
		purpose:  "grant delegated permissions",
	}
)

// allow checks the caller against what an operation needs.
func (c *caller) allow(a access) *graphError {
	if !c.has(a.perms...) {
		return errForbidden("")
	}
	if c.user == nil || a.dirRoles == nil {
		return nil
	}
	for _, r := range c.user.Roles {
		if slices.Contains(a.dirRoles, r) {
			return nil
		}
	}
	return errForbidden(fmt.Sprintf("The signed-in user needs the %s role to %s.", orList(a.dirRoles), a.purpose))
}

// ownApp reports whether an app-only caller with
// Application.ReadWrite.OwnedBy is acting on its own registration, as an
// app rotating its own secret does.
func (c *caller) ownApp(a *App) bool {
	return c.user == nil && c.has(appReadWriteOwnedBy) && strings.EqualFold(c.appID, a.ClientID)
}

// orList joins names as "A, B or C".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
