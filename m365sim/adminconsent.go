package m365sim

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// AdminConsent completes an admin-consent URL (the older /adminconsent or
// the v2 /v2.0/adminconsent form) as the given user, and returns the
// redirect. Consent is granted only when the user holds an admin role;
// otherwise the redirect carries AADSTS90094.
func (s *Sim) AdminConsent(consentURL, upn string) (string, error) {
	u, err := url.Parse(consentURL)
	if err != nil {
		return "", fmt.Errorf("m365sim: bad admin consent URL: %w", err)
	}
	tenant, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.adminConsent(tenant, u.Query(), upn)
}

// adminConsent validates and grants. Callers hold s.mu.
func (s *Sim) adminConsent(tenant string, q url.Values, upn string) (string, error) {
	a, e := s.parseAuthorize(tenant, q)
	if e != nil {
		return "", e
	}
	u := a.tenant.User(upn)
	switch {
	case u == nil:
		return a.redirectError(aad(400, "invalid_request", 50034, "The user account %s does not exist in the %s directory.", upn, a.tenant.ID)), nil
	case !u.IsAdmin():
		return a.redirectError(aad(400, "access_denied", 90094, "The grant requires admin permission: %s is not an administrator who can consent for the organization.", u.UPN)), nil
	}
	s.grantAdminConsentLocked(a.tenant, a.app)
	v := url.Values{"admin_consent": {"True"}, "tenant": {a.tenant.ID}}
	if sc := q.Get("scope"); sc != "" {
		v.Set("scope", sc)
	}
	return a.redirectWith(v), nil
}

func (s *Sim) handleAdminConsentPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a, e := s.parseAuthorize(r.PathValue("tenant"), r.URL.Query())
	s.mu.Unlock()
	if e != nil {
		s.errorPage(w, e)
		return
	}
	var perms []Permission
	for _, id := range a.app.Required {
		p, _ := permissionByID(id)
		perms = append(perms, p)
	}
	s.render(w, "adminconsent", map[string]any{
		"App": a.app.DisplayName, "Params": r.URL.Query(), "Users": s.pickableUsers(a.tenant),
		"Permissions": perms, "Action": r.URL.Path,
	})
}

func (s *Sim) handleAdminConsentSubmit(w http.ResponseWriter, r *http.Request) {
	params, ok := pageForm(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	to, err := s.adminConsent(r.PathValue("tenant"), params, r.PostForm.Get("upn"))
	if e, ok := err.(*Error); ok {
		s.errorPage(w, e)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}
