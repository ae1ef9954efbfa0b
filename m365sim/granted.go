package m365sim

import "strings"

// HasRole reports whether the app holds the application permission (e.g.
// "full_access_as_app"), however it was granted: admin consent or Graph.
func (s *Sim) HasRole(t *Tenant, clientID, roleName string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range permissions {
		if p.Role && strings.EqualFold(p.Name, roleName) && t.roles[clientID][p.ID] != nil {
			return true
		}
	}
	return false
}

// HasDelegatedGrant reports whether the app holds the delegated
// permission (e.g. "IMAP.AccessAsUser.All") for every user of the tenant:
// admin consent, or an AllPrincipals oauth2PermissionGrant. One user's
// own consent does not count.
func (s *Sim) HasDelegatedGrant(t *Tenant, clientID, scopeName string) bool {
	p, ok := lookupPermission(scopeName, false)
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return t.consent[""][clientID][consentKey(p)]
}
