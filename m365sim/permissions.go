package m365sim

import (
	"slices"
	"strings"
)

// Well-known first-party resources.
const (
	GraphAppID    = "00000003-0000-0000-c000-000000000000"
	ExchangeAppID = "00000002-0000-0ff1-ce00-000000000000"
)

// resourceURIs maps the App ID URIs used in scopes to the resource's appId.
// Exchange Online answers to several (microsoft.md §2.1).
var resourceURIs = map[string]string{
	"https://graph.microsoft.com":   GraphAppID,
	"https://outlook.office365.com": ExchangeAppID,
	"https://outlook.office.com":    ExchangeAppID,
	"https://ps.outlook.com":        ExchangeAppID,
	GraphAppID:                      GraphAppID,
	ExchangeAppID:                   ExchangeAppID,
}

// Permission is a delegated scope or an application role of a resource.
type Permission struct {
	Resource  string // owning resource appId (where the portal lists it)
	Name      string
	ID        string
	Role      bool // application permission (appRole) rather than delegated scope
	AdminOnly bool // delegated scope that only an admin may consent to
}

// permissions is the simulator's catalog, with the real IDs from
// microsoft.md §2 and §9.1. IMAP, POP and SMTP delegated scopes are owned
// by Graph in the portal even though their tokens carry the Outlook
// audience.
var permissions = []Permission{
	{Resource: GraphAppID, Name: "openid", ID: "37f7f235-527c-4136-accd-4a02d197296e"},
	{Resource: GraphAppID, Name: "profile", ID: "14dad69e-099b-42c9-810b-d002981feec1"},
	{Resource: GraphAppID, Name: "email", ID: "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0"},
	{Resource: GraphAppID, Name: "offline_access", ID: "7427e0e9-2fba-42fe-b0c0-848c9e6a8182"},
	{Resource: GraphAppID, Name: "User.Read", ID: "e1fe6dd8-ba31-4d61-89e7-88639da4683d"},
	{Resource: GraphAppID, Name: "User.Read.All", ID: "a154be20-db9c-4678-8ab7-66f6cc099a59", AdminOnly: true},
	{Resource: GraphAppID, Name: "Mail.Read", ID: "570282fd-fa5c-430d-a7fd-fc8dc98a9dca"},
	{Resource: GraphAppID, Name: "Mail.ReadWrite", ID: "024d486e-b451-40bb-833d-3e66d98c5c73"},
	{Resource: GraphAppID, Name: "Mail.Send", ID: "e383f46e-2787-4529-855e-0e479a3ffac0"},
	{Resource: GraphAppID, Name: "Calendars.ReadWrite", ID: "1ec239c2-d7c9-4623-a91a-a9775856bb36"},
	{Resource: GraphAppID, Name: "Contacts.ReadWrite", ID: "d56682ec-c09e-4743-aaf4-1a3aac4caa21"},
	{Resource: GraphAppID, Name: "Tasks.ReadWrite", ID: "2219042f-cab5-40cc-b0d2-16b1540b4c5f"},
	{Resource: GraphAppID, Name: "MailboxSettings.ReadWrite", ID: "818c620a-27a9-40bd-a6a5-d96f7d610b4b"},
	{Resource: GraphAppID, Name: "Application.Read.All", ID: "c79f8feb-a9db-4090-85f9-90d820caa0eb", AdminOnly: true},
	{Resource: GraphAppID, Name: "Application.ReadWrite.All", ID: "bdfbf15f-ee85-4955-8675-146e8e5296b5", AdminOnly: true},
	{Resource: GraphAppID, Name: "AppRoleAssignment.ReadWrite.All", ID: "84bccea3-f856-4a8a-967b-dbe0a3d53a64", AdminOnly: true},
	{Resource: GraphAppID, Name: "DelegatedPermissionGrant.ReadWrite.All", ID: "41ce6ca6-6826-4807-84f1-1c82854f7ee5", AdminOnly: true},
	{Resource: GraphAppID, Name: "AuditLog.Read.All", ID: "e4c9e354-4dc5-45b8-9e7c-e1393b0b1a20", AdminOnly: true},
	{Resource: GraphAppID, Name: "Directory.Read.All", ID: "06da0dbc-49e2-44d2-8312-53f166ab848a", AdminOnly: true},
	{Resource: GraphAppID, Name: "IMAP.AccessAsUser.All", ID: "652390e4-393a-48de-9484-05f9b1212954"},
	{Resource: GraphAppID, Name: "POP.AccessAsUser.All", ID: "d7b7f2d9-0f45-4ea1-9d42-e50810c06991"},
	{Resource: GraphAppID, Name: "SMTP.Send", ID: "258f6531-6087-4cc4-bb90-092c5fb3ed3f"},
	{Resource: ExchangeAppID, Name: "EWS.AccessAsUser.All", ID: "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5"},

	{Resource: GraphAppID, Name: "Mail.Read", ID: "810c84a8-4a9e-49e6-bf7d-12d183f40d01", Role: true},
	{Resource: GraphAppID, Name: "Mail.ReadWrite", ID: "e2a3a72e-5f79-4c64-b1b1-878b674786c9", Role: true},
	{Resource: GraphAppID, Name: "Mail.Send", ID: "b633e1c5-b582-4048-a93e-9f11b44c7e96", Role: true},
	{Resource: GraphAppID, Name: "Calendars.ReadWrite", ID: "ef54d2bf-783f-4e0f-bca1-3210c0444d99", Role: true},
	{Resource: GraphAppID, Name: "Contacts.ReadWrite", ID: "6918b873-d17a-4dc1-b314-35f528134491", Role: true},
	{Resource: GraphAppID, Name: "Tasks.ReadWrite.All", ID: "44e666d1-d276-445b-a5fc-8815eeb81d55", Role: true},
	{Resource: GraphAppID, Name: "MailboxSettings.ReadWrite", ID: "6931bccd-447a-43d1-b442-00a195474933", Role: true},
	{Resource: GraphAppID, Name: "User.Read.All", ID: "df021288-bdef-4463-88db-98f22de89214", Role: true},
	{Resource: GraphAppID, Name: "Application.Read.All", ID: "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", Role: true},
	// What a read-only monitoring app is granted for sign-in logs
	// (microsoft.md §9.1).
	{Resource: GraphAppID, Name: "AuditLog.Read.All", ID: "b0afded3-3588-46d8-8b3d-9842eff778da", Role: true},
	{Resource: GraphAppID, Name: "Directory.Read.All", ID: "7ab1d382-f21e-4acd-a863-ba3e13f7da61", Role: true},
	{Resource: GraphAppID, Name: "Application.ReadWrite.All", ID: "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", Role: true},
	{Resource: GraphAppID, Name: "Application.ReadWrite.OwnedBy", ID: "18a4783c-866b-4cc7-a460-3d5e5662c884", Role: true},
	{Resource: GraphAppID, Name: "AppRoleAssignment.ReadWrite.All", ID: "06b708a9-e830-4db3-a914-8e69da51d44f", Role: true},
	{Resource: GraphAppID, Name: "DelegatedPermissionGrant.ReadWrite.All", ID: "8e8e4742-1d95-4f68-9d56-6ee75648c72a", Role: true},
	{Resource: ExchangeAppID, Name: "full_access_as_app", ID: "dc890d15-9560-4a4c-9b7f-a736ec74ec40", Role: true},
	// The AccessAsApp roles' IDs are not published (microsoft.md §2.2 says to
	// resolve them at run time); these are the simulator's own.
	{Resource: ExchangeAppID, Name: "IMAP.AccessAsApp", ID: "5e5addcd-4a3f-4b0f-9a3f-000000000001", Role: true},
	{Resource: ExchangeAppID, Name: "POP.AccessAsApp", ID: "5e5addcd-4a3f-4b0f-9a3f-000000000002", Role: true},
	{Resource: ExchangeAppID, Name: "SMTP.SendAsApp", ID: "5e5addcd-4a3f-4b0f-9a3f-000000000003", Role: true},
}

// oidcScopes are answered by the identity platform itself.
var oidcScopes = map[string]bool{"openid": true, "profile": true, "email": true, "offline_access": true}

// lookupPermission finds a permission by name and kind. Delegated Outlook
// scopes are found whichever resource they were requested on.
func lookupPermission(name string, role bool) (Permission, bool) {
	for _, p := range permissions {
		if p.Role == role && strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return Permission{}, false
}

// permissionByID finds a permission by its GUID.
func permissionByID(id string) (Permission, bool) {
	for _, p := range permissions {
		if p.ID == id {
			return p, true
		}
	}
	return Permission{}, false
}

// scopeRequest is a parsed scope parameter.
type scopeRequest struct {
	oidc     []string // openid, profile, email, offline_access
	resource string   // the App ID URI as requested, e.g. https://outlook.office.com
	appID    string   // the resource's appId
	names    []string // permission names on that resource; ".default" stands alone
	multi    bool     // more than one resource was named
}

func (r scopeRequest) has(oidc string) bool {
	return slices.Contains(r.oidc, oidc)
}

func (r scopeRequest) isDefault() bool { return len(r.names) == 1 && r.names[0] == ".default" }

// parseScopes splits a scope string as the token endpoint reads it: bare
// names belong to Graph, prefixed names to the resource before the last '/'.
// It returns an error for a resource the tenant does not have.
func parseScopes(scope string) (scopeRequest, *Error) {
	var r scopeRequest
	for _, s := range strings.Fields(scope) {
		if oidcScopes[strings.ToLower(s)] {
			r.oidc = append(r.oidc, strings.ToLower(s))
			continue
		}
		resource, name := "https://graph.microsoft.com", s
		if i := strings.LastIndex(s, "/"); i >= 0 {
			resource, name = strings.TrimSuffix(s[:i], "/"), s[i+1:]
			if strings.HasPrefix(resource, "api://") {
				resource = strings.TrimPrefix(resource, "api://")
			}
		}
		appID, ok := resourceURIs[strings.ToLower(resource)]
		if !ok {
			return r, aad(400, "invalid_resource", 500011, "The resource principal named %s was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.", resource)
		}
		if r.appID != "" && r.appID != appID {
			r.multi = true
			continue
		}
		r.resource, r.appID = resource, appID
		r.names = append(r.names, name)
	}
	return r, nil
}
