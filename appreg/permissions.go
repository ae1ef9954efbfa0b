package appreg

// Resource is an API that permissions are granted on.
type Resource struct {
	Name  string // as the portal lists it
	AppID string // the first-party application ID
	URI   string // the App ID URI tokens are requested for
}

// The resources modauth plans for (microsoft.md §2.1). URI is the public
// cloud's; a plan takes each token's audience from its cloud's hosts.
var (
	Graph    = Resource{Name: "Microsoft Graph", AppID: "00000003-0000-0000-c000-000000000000", URI: "https://graph.microsoft.com"}
	Exchange = Resource{Name: "Office 365 Exchange Online", AppID: "00000002-0000-0ff1-ce00-000000000000", URI: "https://outlook.office365.com"}
)

// Kind is "Scope" for a delegated permission, "Role" for an application one,
// the values requiredResourceAccess uses.
type Kind string

const (
	Delegated Kind = "Scope"
	AppRole   Kind = "Role"
)

// Permission is one entry of an app registration's API permissions.
type Permission struct {
	Resource Resource
	Name     string
	// ID is the permission's GUID on its resource; "" where Microsoft does
	// not publish it (the Exchange AccessAsApp roles), to be read at run time
	// from the resource's service principal.
	ID           string
	Kind         Kind
	AdminConsent bool // only an admin can grant it
}

func scope(r Resource, name, id string, admin bool) Permission {
	return Permission{Resource: r, Name: name, ID: id, Kind: Delegated, AdminConsent: admin}
}

func role(r Resource, name, id string) Permission {
	return Permission{Resource: r, Name: name, ID: id, Kind: AppRole, AdminConsent: true}
}

// The permissions plans are made of, with the IDs of microsoft.md §2.
var (
	permOpenID        = scope(Graph, "openid", "37f7f235-527c-4136-accd-4a02d197296e", false)
	permProfile       = scope(Graph, "profile", "14dad69e-099b-42c9-810b-d002981feec1", false)
	permOfflineAccess = scope(Graph, "offline_access", "7427e0e9-2fba-42fe-b0c0-848c9e6a8182", false)
	permUserRead      = scope(Graph, "User.Read", "e1fe6dd8-ba31-4d61-89e7-88639da4683d", false)

	permIMAPUser   = scope(Graph, "IMAP.AccessAsUser.All", "652390e4-393a-48de-9484-05f9b1212954", false)
	permPOPUser    = scope(Graph, "POP.AccessAsUser.All", "d7b7f2d9-0f45-4ea1-9d42-e50810c06991", false)
	permSMTPSend   = scope(Graph, "SMTP.Send", "258f6531-6087-4cc4-bb90-092c5fb3ed3f", false)
	permEWSUser    = scope(Exchange, "EWS.AccessAsUser.All", "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5", false)
	permCalendars  = scope(Graph, "Calendars.ReadWrite", "1ec239c2-d7c9-4623-a91a-a9775856bb36", false)
	permContacts   = scope(Graph, "Contacts.ReadWrite", "d56682ec-c09e-4743-aaf4-1a3aac4caa21", false)
	permTasks      = scope(Graph, "Tasks.ReadWrite", "2219042f-cab5-40cc-b0d2-16b1540b4c5f", false)
	permMailSendU  = scope(Graph, "Mail.Send", "e383f46e-2787-4529-855e-0e479a3ffac0", false)
	permUserReadAl = scope(Graph, "User.Read.All", "a154be20-db9c-4678-8ab7-66f6cc099a59", true)

	permFullAccessAsApp = role(Exchange, "full_access_as_app", "dc890d15-9560-4a4c-9b7f-a736ec74ec40")
	permIMAPApp         = role(Exchange, "IMAP.AccessAsApp", "")
	permPOPApp          = role(Exchange, "POP.AccessAsApp", "")
	permSMTPApp         = role(Exchange, "SMTP.SendAsApp", "")
	permCalendarsApp    = role(Graph, "Calendars.ReadWrite", "ef54d2bf-783f-4e0f-bca1-3210c0444d99")
	permContactsApp     = role(Graph, "Contacts.ReadWrite", "6918b873-d17a-4dc1-b314-35f528134491")
	permTasksApp        = role(Graph, "Tasks.ReadWrite.All", "44e666d1-d276-445b-a5fc-8815eeb81d55")
	permMailSendApp     = role(Graph, "Mail.Send", "b633e1c5-b582-4048-a93e-9f11b44c7e96")
	permUserReadAllApp  = role(Graph, "User.Read.All", "df021288-bdef-4463-88db-98f22de89214")
	permAppReadAllApp   = role(Graph, "Application.Read.All", "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30")
	// Reading sign-in logs needs both (microsoft.md §9.1).
	permAuditLogReadAllApp  = role(Graph, "AuditLog.Read.All", "b0afded3-3588-46d8-8b3d-9842eff778da")
	permDirectoryReadAllApp = role(Graph, "Directory.Read.All", "7ab1d382-f21e-4acd-a863-ba3e13f7da61")
)
