package m365sim

import "math/rand/v2"

// GraphCLIAppID is Microsoft Graph Command Line Tools, the public client
// Connect-MgGraph signs admins in with.
const GraphCLIAppID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

// firstPartyResources are the service principals every tenant has for
// Microsoft's own APIs. Their app roles and scopes come from the
// permissions catalog; clients look the IDs up there (microsoft.md §2.2).
func firstPartyResources(rng *rand.Rand) []spRef {
	return []spRef{
		{ID: guid(rng), AppID: GraphAppID, DisplayName: "Microsoft Graph"},
		{ID: guid(rng), AppID: ExchangeAppID, DisplayName: "Office 365 Exchange Online"},
	}
}

// addAdminApp adds Microsoft Graph Command Line Tools to t, so an admin
// can sign in by device code or browser and call the simulator's Graph.
// Like any first-party app it has a service principal in the tenant but
// no application object there. New calls it before the server starts.
func (s *Sim) addAdminApp(t *Tenant) *App {
	a := &App{
		ClientID:             GraphCLIAppID,
		SPObjectID:           s.newGUID(),
		DisplayName:          "Microsoft Graph Command Line Tools",
		SignInAudience:       "AzureADandPersonalMicrosoftAccount",
		PublicRedirectURIs:   []string{"http://localhost"},
		FallbackPublicClient: true,
		Required: permissionIDs([]string{"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All",
			"DelegatedPermissionGrant.ReadWrite.All", "User.Read.All", "offline_access", "openid", "profile"}),
		firstParty: true,
	}
	t.Apps = append(t.Apps, a)
	return a
}
