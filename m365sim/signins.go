package m365sim

import (
	"net/url"
	"strings"
	"time"
)

// Sign-in event types, as Graph beta's signInEventTypes names them.
const (
	InteractiveUser    = "interactiveUser"
	NonInteractiveUser = "nonInteractiveUser"
	ServicePrincipal   = "servicePrincipal"
)

// maxSignIns bounds the log: the demo runs for days, and Entra keeps at
// most 30 days anyway.
const maxSignIns = 100_000

// SignIn is one entry of the tenant's sign-in log: every outcome at the
// token endpoint, the authorize page and the device login page where the
// tenant and the app are known, as Entra records them.
type SignIn struct {
	ID                   string
	Created              time.Time
	AppID, AppName       string
	UserID, UPN          string // empty for a service principal; UPN lower-case
	EventType            string // InteractiveUser, NonInteractiveUser or ServicePrincipal
	ErrorCode            int    // AADSTS number; 0 = success
	FailureReason        string // the first sentence of the error
	ResourceID           string // the resource's appId
	ClientCredentialType string // clientSecret, certificate or none
	CredentialKeyID      string // servicePrincipalCredentialKeyId: the secret's keyId
	ServicePrincipalID   string
	// CorrelationID is the client-request-id the client sent, else one
	// the service made up.
	CorrelationID string
}

// signInRecord is a log entry with what the log's readers filter on.
type signInRecord struct {
	SignIn
	tenant *Tenant
	seq    int64 // recording order, for stable paging
}

// SignIns returns a copy of the log in recording order, for tests.
func (s *Sim) SignIns() []SignIn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SignIn, len(s.signIns))
	for i, r := range s.signIns {
		out[i] = r.SignIn
	}
	return out
}

// SetPremium gives t a Microsoft Entra ID P1 licence or takes it away.
// Tenants have one by default; without it Graph refuses to serve the
// sign-in logs and reports.
func (s *Sim) SetPremium(t *Tenant, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.noPremium = !on
}

// DuplicateSignIns makes the log serve every event twice, as the real
// service sometimes does: readers must dedupe by id.
func (s *Sim) DuplicateSignIns(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dupSignIns = on
}

// recordSignIn appends ev to the log, stamped with an ID and the time, and
// drops the oldest entries past maxSignIns. e is the outcome; nil is a
// success. Callers hold s.mu.
func (s *Sim) recordSignIn(t *Tenant, ev SignIn, e *Error) {
	ev.ID = s.newGUID()
	if ev.CorrelationID == "" {
		ev.CorrelationID = s.newGUID()
	}
	ev.Created = s.Clock.Now().UTC().Truncate(time.Second) // as the log shows it
	ev.UPN = strings.ToLower(ev.UPN)
	if e != nil {
		ev.ErrorCode, ev.FailureReason = e.Code, firstSentence(e.Text)
	}
	s.signInSeq++
	s.signIns = append(s.signIns, signInRecord{SignIn: ev, tenant: t, seq: s.signInSeq})
	if over := len(s.signIns) - maxSignIns; over > 0 {
		s.signIns = append(s.signIns[:0:0], s.signIns[over:]...)
	}
}

// userSignIn is a person's sign-in to app, for a user that may not exist
// (upn is what they typed).
func userSignIn(kind string, app *App, u *User, upn, scope string) SignIn {
	ev := SignIn{AppID: app.ClientID, AppName: app.DisplayName, EventType: kind, UPN: upn,
		ResourceID: resourceOf(scope), ClientCredentialType: "none", ServicePrincipalID: app.SPObjectID}
	if u != nil {
		ev.UserID, ev.UPN = u.ObjectID, u.UPN
	}
	return ev
}

// resourceOf is the appId of the resource a scope string names first;
// Graph when it names none.
func resourceOf(scope string) string {
	for _, one := range strings.Fields(scope) {
		if req, e := parseScopes(one); e == nil && req.appID != "" {
			return req.appID
		}
	}
	return GraphAppID
}

// tokenSignIn is the log entry a token request makes, before its outcome
// is known; ok is false for requests that are no sign-in of their own (a
// device code being polled: the approval was the sign-in). Callers hold
// s.mu.
func (s *Sim) tokenSignIn(t *Tenant, cl client, form url.Values) (SignIn, bool) {
	scope := form.Get("scope")
	switch form.Get("grant_type") {
	case "client_credentials":
		return SignIn{AppID: cl.app.ClientID, AppName: cl.app.DisplayName, EventType: ServicePrincipal,
			ResourceID: resourceOf(scope), ClientCredentialType: cl.credentialType(), CredentialKeyID: cl.keyID,
			ServicePrincipalID: cl.app.SPObjectID}, true
	case "authorization_code":
		var u *User
		if c := s.codes[form.Get("code")]; c != nil && c.tenant == t && c.app == cl.app {
			u = c.user
			if scope == "" {
				scope = c.scope
			}
		}
		return withCredential(userSignIn(NonInteractiveUser, cl.app, u, "", scope), cl), true
	case "refresh_token":
		var u *User
		if g := s.refresh[form.Get("refresh_token")]; g != nil && g.tenant == t && g.app == cl.app {
			u = g.user
		}
		return withCredential(userSignIn(NonInteractiveUser, cl.app, u, "", scope), cl), true
	}
	return SignIn{}, false
}

// withCredential notes how the client authenticated.
func withCredential(ev SignIn, cl client) SignIn {
	ev.ClientCredentialType, ev.CredentialKeyID = cl.credentialType(), cl.keyID
	return ev
}

// firstSentence cuts an error text after its first sentence: the part the
// log shows as failureReason.
func firstSentence(text string) string {
	if i := strings.Index(text, ". "); i >= 0 {
		return text[:i+1]
	}
	return text
}
