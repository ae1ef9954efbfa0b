package m365sim

import (
	"strings"
	"time"
)

// Tenant is one simulated Entra ID directory.
type Tenant struct {
	ID      string
	Domains []string // verified domains; the first is the default one
	Apps    []*App
	Users   []*User

	// noUserConsent: users may not consent to apps (Entra > Enterprise
	// applications > Consent and permissions): only an admin grants.
	noUserConsent bool
	// noPremium: the tenant has no Entra ID P1 or P2 licence, so Graph
	// serves no sign-in logs or reports.
	noPremium bool
	// ews is the organisation's EWS settings (ews_block.go).
	ews ewsPolicy
	// consent holds delegated grants: principal ("" for AllPrincipals, else
	// a user's object ID) -> client ID -> "resourceAppID name" set.
	consent map[string]map[string]map[string]bool
	// roles holds application-permission grants: client ID -> permission
	// ID -> the assignment Graph shows.
	roles map[string]map[string]*roleGrant
	// resources are the first-party service principals (Graph, Exchange).
	resources []spRef
	// byKey indexes Users by lower-case object ID, UPN and "smtp:"+address;
	// built once with the users (graph_users.go).
	byKey map[string]*User
}

// App is an app registration with its service principal.
type App struct {
	ClientID    string // appId
	ObjectID    string // the application object
	SPObjectID  string // its service principal (enterprise app)
	DisplayName string
	// SignInAudience is Graph's signInAudience, e.g. "AzureADMyOrg".
	SignInAudience string

	WebRedirectURIs    []string
	PublicRedirectURIs []string // "Mobile and desktop applications"
	// FallbackPublicClient is "Allow public client flows": device code
	// needs it.
	FallbackPublicClient bool
	Secrets              []*PasswordCredential
	// Certificates are its keyCredentials; those with a Cert verify
	// client assertions.
	Certificates []*KeyCredential
	// refusePS256 makes the token endpoint answer AADSTS700027 to PS256
	// assertions, as one tenant did (microsoft.md §9.2).
	refusePS256 bool
	// Required is the "API permissions" list: permission IDs.
	Required []string

	// firstParty marks Microsoft's own clients: the tenant holds their
	// service principal but no application object to list or change.
	firstParty bool
}

// PasswordCredential is a client secret. Value is what the portal shows once.
type PasswordCredential struct {
	KeyID       string // the "Secret ID" shown in the portal forever
	DisplayName string
	Hint        string // first three characters of the value
	Value       string
	Start, End  time.Time
}

// KeyCredential is a certificate uploaded to an app registration.
type KeyCredential struct {
	KeyID       string
	DisplayName string
	Start, End  time.Time
	// Cert is the uploaded certificate (DER); nil for one added by
	// AddCertificate, which only lists.
	Cert []byte
}

// User is a directory user.
type User struct {
	ObjectID       string
	UPN            string
	DisplayName    string
	GivenName      string
	Surname        string
	Mail           string   // primary SMTP address; "" without a mailbox
	ProxyAddresses []string // "SMTP:primary", "smtp:alias"
	Enabled        bool
	HasMailbox     bool
	Roles          []string // directory roles, e.g. "Global Administrator"
	Persona        string   // why this user exists, for named test personas
}

// IsAdmin reports whether the user can grant tenant-wide admin consent.
func (u *User) IsAdmin() bool {
	for _, r := range u.Roles {
		switch r {
		case "Global Administrator", "Privileged Role Administrator", "Cloud Application Administrator", "Application Administrator":
			return true
		}
	}
	return false
}

func (t *Tenant) hasDomain(d string) bool {
	for _, v := range t.Domains {
		if strings.EqualFold(v, d) {
			return true
		}
	}
	return false
}

// App returns the registration with the given client ID, or nil.
func (t *Tenant) App(clientID string) *App {
	for _, a := range t.Apps {
		if strings.EqualFold(a.ClientID, clientID) {
			return a
		}
	}
	return nil
}

// User returns the user whose UPN (or object ID) is given, or nil.
func (t *Tenant) User(upnOrID string) *User {
	if u := t.byKey[strings.ToLower(upnOrID)]; u != nil && (strings.EqualFold(u.UPN, upnOrID) || u.ObjectID == upnOrID) {
		return u
	}
	for _, u := range t.Users {
		if strings.EqualFold(u.UPN, upnOrID) || u.ObjectID == upnOrID {
			return u
		}
	}
	return nil
}

// hasConsent reports whether the user (or every user, by admin consent) has
// granted client the delegated permission.
func (t *Tenant) hasConsent(clientID, userOID string, p Permission) bool {
	key := consentKey(p)
	return t.consent[""][clientID][key] || t.consent[userOID][clientID][key]
}

// consentKey is a delegated permission's key in Tenant.consent.
func consentKey(p Permission) string { return p.Resource + " " + strings.ToLower(p.Name) }

func (t *Tenant) grantConsent(clientID, principal string, ps []Permission) {
	if t.consent == nil {
		t.consent = map[string]map[string]map[string]bool{}
	}
	if t.consent[principal] == nil {
		t.consent[principal] = map[string]map[string]bool{}
	}
	m := t.consent[principal][clientID]
	if m == nil {
		m = map[string]bool{}
		t.consent[principal][clientID] = m
	}
	for _, p := range ps {
		m[consentKey(p)] = true
	}
}

// grantedRoles lists the application permissions granted to client on resource.
func (t *Tenant) grantedRoles(clientID, resourceAppID string) []string {
	var names []string
	for _, p := range permissions {
		if p.Role && p.Resource == resourceAppID && t.roles[clientID][p.ID] != nil {
			names = append(names, p.Name)
		}
	}
	return names
}

// matchRedirect reports whether uri is registered on one of the platforms,
// and whether the client is public for it. Entra ignores the port of
// http://localhost, but 127.0.0.1 is a different host (microsoft.md §1.2).
func (a *App) matchRedirect(uri string) (ok, public bool) {
	return a.matchRedirectBy(uri, redirectEqual)
}

// matchRedirectBy is matchRedirect with another rule for equal.
func (a *App) matchRedirectBy(uri string, equal func(registered, got string) bool) (ok, public bool) {
	for _, r := range a.PublicRedirectURIs {
		if equal(r, uri) {
			return true, true
		}
	}
	for _, r := range a.WebRedirectURIs {
		if equal(r, uri) {
			return true, false
		}
	}
	return false, false
}

func redirectEqual(registered, got string) bool {
	if registered == got {
		return true
	}
	const lh = "http://localhost"
	if !strings.HasPrefix(registered, lh) || !strings.HasPrefix(got, lh) {
		return false
	}
	stripPort := func(s string) string {
		rest := strings.TrimPrefix(s, lh)
		if strings.HasPrefix(rest, ":") {
			i := strings.IndexAny(rest, "/?")
			if i < 0 {
				return ""
			}
			rest = rest[i:]
		}
		return strings.TrimSuffix(rest, "/")
	}
	return stripPort(registered) == stripPort(got)
}

// secretMatch finds the credential with the given value.
func (a *App) secretMatch(value string) *PasswordCredential {
	for _, c := range a.Secrets {
		if c.Value == value {
			return c
		}
	}
	return nil
}

// isSecretID reports whether value is one of the app's Secret IDs: the
// mistake the 7000215 message warns about.
func (a *App) isSecretID(value string) bool {
	for _, c := range a.Secrets {
		if strings.EqualFold(c.KeyID, value) {
			return true
		}
	}
	return false
}
