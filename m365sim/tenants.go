package m365sim

import "maps"

// AddTenant adds a directory of n generated users (beside the named
// personas) under a verified domain, served at the same URL as the
// default tenant: one identity platform and one Graph serve every tenant,
// as login.microsoftonline.com and graph.microsoft.com do.
func (s *Sim) AddTenant(domain string, n int) *Tenant {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idMu.Lock()
	defer s.idMu.Unlock()
	return s.newTenant(domain, n)
}

// DeviceSignedIn returns a refresh token of app for u, as if u had signed
// in by device code and the tenant's admin had consented: the state a
// delegated profile's users are in after onboarding, without the
// requests of their sign-ins. Benchmarks seed thousands of users with it.
func (s *Sim) DeviceSignedIn(t *Tenant, app *App, u *User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Clock.Now()
	rt := randomToken(32)
	s.refresh[rt] = &refreshGrant{tenant: t, app: app, user: u, public: true, viaDevice: true, issued: now, lastUsed: now}
	return rt
}

// RequestCounts returns how many requests reached each path so far, a
// copy: a benchmark tells the tenants' requests apart by their paths.
func (s *Sim) RequestCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.requests)
}
