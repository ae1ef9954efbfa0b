package m365sim

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"
)

// AppSpec describes an app registration to create.
type AppSpec struct {
	DisplayName          string
	WebRedirectURIs      []string
	PublicRedirectURIs   []string
	FallbackPublicClient bool
	// Required names delegated scopes ("SMTP.Send") and, prefixed with
	// "role:", application permissions ("role:full_access_as_app").
	Required []string
}

// RegisterApp creates an app registration and its service principal in t.
// It panics on an unknown permission name: specs are written by tests.
func (s *Sim) RegisterApp(t *Tenant, spec AppSpec) *App {
	a := &App{
		ClientID:             s.newGUID(),
		ObjectID:             s.newGUID(),
		SPObjectID:           s.newGUID(),
		DisplayName:          spec.DisplayName,
		SignInAudience:       "AzureADMyOrg",
		WebRedirectURIs:      spec.WebRedirectURIs,
		PublicRedirectURIs:   spec.PublicRedirectURIs,
		FallbackPublicClient: spec.FallbackPublicClient,
	}
	a.Required = permissionIDs(spec.Required)
	s.mu.Lock()
	t.Apps = append(t.Apps, a)
	s.mu.Unlock()
	return a
}

// permissionIDs resolves AppSpec.Required names to permission IDs.
func permissionIDs(names []string) []string {
	ids := make([]string, 0, len(names))
	for _, name := range names {
		name, role := strings.CutPrefix(name, "role:")
		p, ok := lookupPermission(name, role)
		if !ok {
			panic(fmt.Sprintf("m365sim: unknown permission %q", name))
		}
		ids = append(ids, p.ID)
	}
	return ids
}

// AddSecret adds a client secret valid for lifetime and returns it; its
// Value is what the portal shows once.
func (s *Sim) AddSecret(a *App, lifetime time.Duration) PasswordCredential {
	return s.AddSecretValue(a, newSecretValue(), lifetime)
}

// AddSecretValue adds a client secret with a chosen value: tests plant
// canaries with it.
func (s *Sim) AddSecretValue(a *App, value string, lifetime time.Duration) PasswordCredential {
	now := s.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.addSecretLocked(a, "modauth", value, now, now.Add(lifetime))
}

// addSecretLocked adds a credential: the one step of AddSecret and of
// Graph's addPassword. Callers hold s.mu.
func (s *Sim) addSecretLocked(a *App, displayName, value string, start, end time.Time) *PasswordCredential {
	c := &PasswordCredential{
		KeyID:       s.newGUID(),
		DisplayName: displayName,
		Hint:        value[:3],
		Value:       value,
		Start:       start,
		End:         end,
	}
	a.Secrets = append(a.Secrets, c)
	return c
}

// newSecretValue draws a secret shaped like the real ones: 40 characters
// with "8Q~" after the first three, so clients meet the '~' they must
// cope with.
func newSecretValue() string {
	r := randomToken(28) // 38 characters
	return r[:3] + "8Q~" + r[3:37]
}

// AddCertificate uploads a certificate's public part, valid for lifetime,
// as the portal's Certificates & secrets does; Graph lists it among the
// app's keyCredentials.
func (s *Sim) AddCertificate(a *App, displayName string, lifetime time.Duration) KeyCredential {
	now := s.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &KeyCredential{KeyID: s.newGUID(), DisplayName: displayName, Start: now, End: now.Add(lifetime)}
	a.Certificates = append(a.Certificates, c)
	return *c
}

// UploadCertificate uploads a certificate's public part (DER) to the app,
// valid as the certificate is: its client assertions then sign in.
func (s *Sim) UploadCertificate(a *App, der []byte, displayName string) (KeyCredential, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return KeyCredential{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &KeyCredential{KeyID: s.newGUID(), DisplayName: displayName, Start: cert.NotBefore, End: cert.NotAfter, Cert: der}
	a.Certificates = append(a.Certificates, c)
	return *c, nil
}

// RefusePS256 makes the token endpoint refuse the app's PS256 client
// assertions with AADSTS700027 (key not found), as a tenant did that
// matched certificates by x5t only: RS256 with x5t still signs in.
func (s *Sim) RefusePS256(a *App) {
	s.mu.Lock()
	a.refusePS256 = true
	s.mu.Unlock()
}

// ExpireSecret makes the secret with keyID expire now.
func (s *Sim) ExpireSecret(a *App, keyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range a.Secrets {
		if c.KeyID == keyID {
			c.End = s.Clock.Now().Add(-time.Second)
		}
	}
}

// SetRequired replaces an app's API permissions (names as in AppSpec).
func (s *Sim) SetRequired(a *App, names ...string) {
	ids := permissionIDs(names)
	s.mu.Lock()
	a.Required = ids
	s.mu.Unlock()
}

// GrantAdminConsent grants every permission the app requires, tenant-wide:
// delegated scopes for all principals and application roles, as the
// portal's "Grant admin consent" button does.
func (s *Sim) GrantAdminConsent(t *Tenant, a *App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grantAdminConsentLocked(t, a)
}

func (s *Sim) grantAdminConsentLocked(t *Tenant, a *App) {
	var delegated []Permission
	for _, id := range a.Required {
		p, _ := permissionByID(id)
		if p.Role {
			s.assignRole(t, a, p.ID)
			continue
		}
		delegated = append(delegated, p)
	}
	t.grantConsent(a.ClientID, "", delegated)
}

// RevokeConsent removes every delegated grant of the app, tenant-wide and
// per user: the next refresh fails with AADSTS65001.
func (s *Sim) RevokeConsent(t *Tenant, a *App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, byClient := range t.consent {
		delete(byClient, a.ClientID)
	}
}
