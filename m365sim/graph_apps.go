package m365sim

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"
)

// application is Graph's application resource.
type application struct {
	Context                string                   `json:"@odata.context,omitempty"`
	ID                     string                   `json:"id"`
	AppID                  string                   `json:"appId"`
	DisplayName            string                   `json:"displayName"`
	SignInAudience         string                   `json:"signInAudience"`
	IsFallbackPublicClient bool                     `json:"isFallbackPublicClient"`
	PublicClient           redirectURIs             `json:"publicClient"`
	Web                    redirectURIs             `json:"web"`
	RequiredResourceAccess []requiredResourceAccess `json:"requiredResourceAccess"`
	PasswordCredentials    []passwordCredential     `json:"passwordCredentials"`
	KeyCredentials         []keyCredential          `json:"keyCredentials"`
}

type redirectURIs struct {
	RedirectURIs []string `json:"redirectUris"`
}

type requiredResourceAccess struct {
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []resourceAccess `json:"resourceAccess"`
}

type resourceAccess struct {
	ID   string `json:"id"`
	Type string `json:"type"` // "Scope" or "Role"
}

// passwordCredential is a secret as Graph shows it: secretText only in
// the addPassword answer, null ever after.
type passwordCredential struct {
	CustomKeyIdentifier *string   `json:"customKeyIdentifier"`
	DisplayName         string    `json:"displayName"`
	EndDateTime         time.Time `json:"endDateTime"`
	Hint                string    `json:"hint"`
	KeyID               string    `json:"keyId"`
	SecretText          *string   `json:"secretText"`
	StartDateTime       time.Time `json:"startDateTime"`
}

// keyCredential is a certificate as Graph shows it: key (the DER, base64)
// only when $select names keyCredentials, and customKeyIdentifier the
// SHA-1 thumbprint's bytes (Edm.Binary, so base64 in JSON).
type keyCredential struct {
	CustomKeyIdentifier *string   `json:"customKeyIdentifier"`
	DisplayName         string    `json:"displayName"`
	EndDateTime         time.Time `json:"endDateTime"`
	Key                 *string   `json:"key"`
	KeyID               string    `json:"keyId"`
	StartDateTime       time.Time `json:"startDateTime"`
	Type                string    `json:"type"`
	Usage               string    `json:"usage"`
}

// applicationPatch is a POST or PATCH body: the fields present replace
// the app's.
type applicationPatch struct {
	DisplayName            *string                   `json:"displayName"`
	SignInAudience         *string                   `json:"signInAudience"`
	IsFallbackPublicClient *bool                     `json:"isFallbackPublicClient"`
	PublicClient           *redirectURIs             `json:"publicClient"`
	Web                    *redirectURIs             `json:"web"`
	RequiredResourceAccess *[]requiredResourceAccess `json:"requiredResourceAccess"`
	// KeyCredentials replaces the app's certificates: every one to keep
	// must be sent again with its key (microsoft.md §9.2).
	KeyCredentials *[]keyCredential `json:"keyCredentials"`
}

var signInAudiences = []string{"AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"}

func applicationView(a *App) application {
	v := application{
		ID:                     a.ObjectID,
		AppID:                  a.ClientID,
		DisplayName:            a.DisplayName,
		SignInAudience:         a.SignInAudience,
		IsFallbackPublicClient: a.FallbackPublicClient,
		PublicClient:           redirectURIs{nonNil(a.PublicRedirectURIs)},
		Web:                    redirectURIs{nonNil(a.WebRedirectURIs)},
		RequiredResourceAccess: requiredAccess(a.Required),
		PasswordCredentials:    []passwordCredential{},
		KeyCredentials:         []keyCredential{},
	}
	for _, c := range a.Secrets {
		v.PasswordCredentials = append(v.PasswordCredentials, credentialView(c))
	}
	for _, c := range a.Certificates {
		kc := keyCredential{
			DisplayName: c.DisplayName, EndDateTime: c.End.UTC(), KeyID: c.KeyID, StartDateTime: c.Start.UTC(),
			Type: "AsymmetricX509Cert", Usage: "Verify",
		}
		if c.Cert != nil {
			sum := sha1.Sum(c.Cert)
			id := base64.StdEncoding.EncodeToString(sum[:])
			kc.CustomKeyIdentifier = &id
		}
		v.KeyCredentials = append(v.KeyCredentials, kc)
	}
	return v
}

// withKeys adds each certificate's key to the view, as Graph does when
// $select names keyCredentials.
func withKeys(v application, a *App) application {
	for i, c := range a.Certificates {
		if c.Cert != nil {
			k := base64.StdEncoding.EncodeToString(c.Cert)
			v.KeyCredentials[i].Key = &k
		}
	}
	return v
}

// certificates checks a PATCH's keyCredentials: each an RSA X.509
// certificate for verifying, its dates within the certificate's. An entry
// without key keeps a certificate AddCertificate listed (it has none to
// send); a real certificate must come with its key.
func (s *Sim) certificates(a *App, kcs []keyCredential) ([]*KeyCredential, *graphError) {
	out := []*KeyCredential{}
	for _, kc := range kcs {
		if kc.Key == nil {
			i := slices.IndexFunc(a.Certificates, func(c *KeyCredential) bool { return c.Cert == nil && strings.EqualFold(c.KeyID, kc.KeyID) })
			if i < 0 {
				return nil, errInvalidValue("key", "KeyCredential")
			}
			out = append(out, a.Certificates[i])
			continue
		}
		der, err := base64.StdEncoding.DecodeString(*kc.Key)
		if err != nil || kc.Type != "AsymmetricX509Cert" || kc.Usage != "Verify" {
			return nil, errInvalidValue("keyCredentials", "Application")
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, errBadRequest("Invalid certificate: Key value is invalid certificate")
		}
		if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
			return nil, errBadRequest("Invalid certificate: only RSA keys are supported")
		}
		start, end := cert.NotBefore, cert.NotAfter
		if !kc.StartDateTime.IsZero() {
			start = kc.StartDateTime
		}
		if !kc.EndDateTime.IsZero() {
			end = kc.EndDateTime
		}
		if start.Before(cert.NotBefore) || end.After(cert.NotAfter) || !end.After(start) {
			return nil, errBadRequest("Key credential end date is invalid.")
		}
		id := kc.KeyID
		if id == "" {
			id = s.newGUID()
		}
		out = append(out, &KeyCredential{KeyID: id, DisplayName: kc.DisplayName, Start: start, End: end, Cert: der})
	}
	return out, nil
}

func credentialView(c *PasswordCredential) passwordCredential {
	return passwordCredential{DisplayName: c.DisplayName, EndDateTime: c.End.UTC(), Hint: c.Hint, KeyID: c.KeyID, StartDateTime: c.Start.UTC()}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// requiredAccess groups permission IDs by resource, in order of first use.
func requiredAccess(ids []string) []requiredResourceAccess {
	out := []requiredResourceAccess{}
	at := map[string]int{}
	for _, id := range ids {
		p, _ := permissionByID(id)
		i, ok := at[p.Resource]
		if !ok {
			i, at[p.Resource] = len(out), len(out)
			out = append(out, requiredResourceAccess{ResourceAppID: p.Resource})
		}
		kind := "Scope"
		if p.Role {
			kind = "Role"
		}
		out[i].ResourceAccess = append(out[i].ResourceAccess, resourceAccess{ID: p.ID, Type: kind})
	}
	return out
}

// requiredIDs checks requiredResourceAccess against the catalog: each ID
// must be a permission of that resource, of that type.
func requiredIDs(rra []requiredResourceAccess) ([]string, *graphError) {
	ids := []string{}
	for _, r := range rra {
		for _, ra := range r.ResourceAccess {
			p, ok := permissionByID(strings.ToLower(ra.ID))
			if !ok || !strings.EqualFold(p.Resource, r.ResourceAppID) || p.Role != (ra.Type == "Role") || (ra.Type != "Role" && ra.Type != "Scope") {
				e := errInvalidValue("resourceAccess", "RequiredResourceAccess")
				e.message += " No permission " + ra.ID + " of type '" + ra.Type + "' exists on resource " + r.ResourceAppID + "."
				return nil, e
			}
			ids = append(ids, p.ID)
		}
	}
	return ids, nil
}

// apply validates p and then sets the fields it holds on a, so that a
// refused PATCH changes nothing.
func (p applicationPatch) apply(a *App) *graphError {
	var ids []string
	if p.RequiredResourceAccess != nil {
		var e *graphError
		if ids, e = requiredIDs(*p.RequiredResourceAccess); e != nil {
			return e
		}
	}
	switch {
	case p.DisplayName != nil && strings.TrimSpace(*p.DisplayName) == "":
		return errInvalidValue("displayName", "Application")
	case p.SignInAudience != nil && !containsFold(signInAudiences, *p.SignInAudience):
		return errInvalidValue("signInAudience", "Application")
	}
	if p.DisplayName != nil {
		a.DisplayName = *p.DisplayName
	}
	if p.SignInAudience != nil {
		a.SignInAudience = *p.SignInAudience
	}
	if p.IsFallbackPublicClient != nil {
		a.FallbackPublicClient = *p.IsFallbackPublicClient
	}
	if p.PublicClient != nil {
		a.PublicRedirectURIs = p.PublicClient.RedirectURIs
	}
	if p.Web != nil {
		a.WebRedirectURIs = p.Web.RedirectURIs
	}
	if p.RequiredResourceAccess != nil {
		a.Required = ids
	}
	return nil
}

// appByKey finds an app registration by object ID or, with the
// (appId='…') key, by client ID. First-party apps have no application
// object in the tenant.
func (g *graphReq) appByKey() (*App, *graphError) {
	for _, a := range g.t.Apps {
		k := a.ObjectID
		if g.byAppID {
			k = a.ClientID
		}
		if !a.firstParty && strings.EqualFold(k, g.key) {
			return a, nil
		}
	}
	return nil, errNotFound(g.key)
}

func (s *Sim) listApplications(g *graphReq) (int, any, *graphError) {
	if e := g.c.allow(readApps); e != nil {
		return 0, nil, e
	}
	apps := []application{}
	for _, a := range g.t.Apps {
		if !a.firstParty {
			apps = append(apps, applicationView(a))
		}
	}
	apps, e := filtered(apps, g.r.URL.Query().Get("$filter"))
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, s.collection("applications", apps), nil
}

func (s *Sim) getApplication(g *graphReq) (int, any, *graphError) {
	a, e := g.appByKey()
	if e != nil {
		return 0, nil, e
	}
	if !g.c.ownApp(a) {
		if e := g.c.allow(readApps); e != nil {
			return 0, nil, e
		}
	}
	v := applicationView(a)
	if strings.Contains(strings.ToLower(g.r.URL.Query().Get("$select")), "keycredentials") {
		v = withKeys(v, a)
	}
	v.Context = s.entityContext("applications")
	return http.StatusOK, v, nil
}

// createApplication registers an app. Like RegisterApp's, it is usable by
// the identity endpoints at once, but it has no service principal until
// one is created: the enterprise app is a separate object in Entra.
func (s *Sim) createApplication(g *graphReq) (int, any, *graphError) {
	if e := g.c.allow(writeApps); e != nil {
		return 0, nil, e
	}
	var p applicationPatch
	if e := decodeBody(g.r, &p); e != nil {
		return 0, nil, e
	}
	if p.DisplayName == nil {
		return 0, nil, errInvalidValue("displayName", "Application")
	}
	a := &App{ClientID: s.newGUID(), ObjectID: s.newGUID(), SignInAudience: "AzureADMyOrg"}
	if e := p.apply(a); e != nil {
		return 0, nil, e
	}
	g.t.Apps = append(g.t.Apps, a)
	v := applicationView(a)
	v.Context = s.entityContext("applications")
	return http.StatusCreated, v, nil
}

func (s *Sim) patchApplication(g *graphReq) (int, any, *graphError) {
	a, e := g.secretsAccess() // OwnedBy updates the app's own registration
	if e != nil {
		return 0, nil, e
	}
	var p applicationPatch
	if e := decodeBody(g.r, &p); e != nil {
		return 0, nil, e
	}
	var certs []*KeyCredential
	if p.KeyCredentials != nil {
		if certs, e = s.certificates(a, *p.KeyCredentials); e != nil {
			return 0, nil, e
		}
	}
	if e := p.apply(a); e != nil {
		return 0, nil, e
	}
	if p.KeyCredentials != nil {
		a.Certificates = certs
	}
	return http.StatusNoContent, nil, nil
}

// secretsAccess lets Application.ReadWrite.All manage any app's secrets
// and certificates, and an app with Application.ReadWrite.OwnedBy those of
// its own.
func (g *graphReq) secretsAccess() (*App, *graphError) {
	a, e := g.appByKey()
	if e != nil {
		return nil, e
	}
	if g.c.ownApp(a) {
		return a, nil
	}
	return a, g.c.allow(writeApps)
}

// secretLifetime is Graph's default for addPassword (microsoft.md §4.1).
const secretLifetime = 2 * 365 * 24 * time.Hour

func (s *Sim) addPassword(g *graphReq) (int, any, *graphError) {
	a, e := g.secretsAccess()
	if e != nil {
		return 0, nil, e
	}
	var body struct {
		PasswordCredential struct {
			DisplayName string     `json:"displayName"`
			EndDateTime *time.Time `json:"endDateTime"`
		} `json:"passwordCredential"`
	}
	if e := decodeBody(g.r, &body); e != nil {
		return 0, nil, e
	}
	now := s.Clock.Now()
	end := now.Add(secretLifetime)
	if pc := body.PasswordCredential; pc.EndDateTime != nil {
		if !pc.EndDateTime.After(now) {
			return 0, nil, errInvalidValue("endDateTime", "PasswordCredential")
		}
		end = *pc.EndDateTime
	}
	c := s.addSecretLocked(a, body.PasswordCredential.DisplayName, newSecretValue(), now, end)
	v := credentialView(c)
	v.SecretText = &c.Value
	return http.StatusOK, v, nil
}

func (s *Sim) removePassword(g *graphReq) (int, any, *graphError) {
	a, e := g.secretsAccess()
	if e != nil {
		return 0, nil, e
	}
	var body struct {
		KeyID string `json:"keyId"`
	}
	if e := decodeBody(g.r, &body); e != nil {
		return 0, nil, e
	}
	for i, c := range a.Secrets {
		if strings.EqualFold(c.KeyID, body.KeyID) {
			a.Secrets = slices.Delete(a.Secrets, i, i+1)
			return http.StatusNoContent, nil, nil
		}
	}
	return 0, nil, errBadRequest("No password credential found with keyId '%s'.", body.KeyID)
}
