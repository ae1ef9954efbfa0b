package m365sim

import (
	"net/http"
	"slices"
	"time"
)

// The beta sign-in activity reports (microsoft.md §9.1): when each client
// secret and each service principal last signed in successfully, computed
// from the sign-in log.

// signInActivity is the reports' {lastSignInDateTime, lastSignInRequestId}.
type signInActivity struct {
	LastSignInDateTime  string `json:"lastSignInDateTime"`
	LastSignInRequestID string `json:"lastSignInRequestId"`
}

type appCredentialActivity struct {
	ID                 string          `json:"id"`
	KeyID              string          `json:"keyId"`
	KeyType            string          `json:"keyType"`
	AppID              string          `json:"appId"`
	CredentialOrigin   string          `json:"credentialOrigin"`
	ExpirationDateTime string          `json:"expirationDateTime"`
	SignInActivity     *signInActivity `json:"signInActivity"`
}

type servicePrincipalActivity struct {
	ID                                            string          `json:"id"`
	AppID                                         string          `json:"appId"`
	LastSignInActivity                            *signInActivity `json:"lastSignInActivity"`
	DelegatedClientSignInActivity                 *signInActivity `json:"delegatedClientSignInActivity"`
	ApplicationAuthenticationClientSignInActivity *signInActivity `json:"applicationAuthenticationClientSignInActivity"`
}

// lastOK is the newest successful sign-in of tenant t that match accepts.
// Callers hold s.mu.
func (s *Sim) lastOK(t *Tenant, match func(*SignIn) bool) *signInActivity {
	for i := len(s.signIns) - 1; i >= 0; i-- {
		rec := &s.signIns[i]
		if rec.tenant == t && rec.ErrorCode == 0 && match(&rec.SignIn) {
			return &signInActivity{LastSignInDateTime: rec.Created.Format(time.RFC3339), LastSignInRequestID: rec.ID}
		}
	}
	return nil
}

// appCredentialActivities is GET /beta/reports/appCredentialSignInActivities,
// one entry per client secret of the tenant's apps, filtered by appId or
// keyId.
func (s *Sim) appCredentialActivities(g *graphReq) (int, any, *graphError) {
	items := []appCredentialActivity{}
	for _, a := range g.t.Apps {
		for _, c := range a.Secrets {
			items = append(items, appCredentialActivity{
				ID: graphKey(a.ClientID, c.KeyID), KeyID: c.KeyID, KeyType: "clientSecret", AppID: a.ClientID,
				CredentialOrigin: "application", ExpirationDateTime: c.End.UTC().Format(time.RFC3339),
				SignInActivity: s.lastOK(g.t, func(ev *SignIn) bool {
					return ev.EventType == ServicePrincipal && ev.AppID == a.ClientID && ev.CredentialKeyID == c.KeyID
				}),
			})
		}
	}
	items, e := filtered(items, g.r.URL.Query().Get("$filter"))
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, s.betaCollection("reports/appCredentialSignInActivities", items), nil
}

// servicePrincipalActivities is GET
// /beta/reports/servicePrincipalSignInActivities, one entry per app of
// the tenant, filtered by appId.
func (s *Sim) servicePrincipalActivities(g *graphReq) (int, any, *graphError) {
	items := []servicePrincipalActivity{}
	for _, a := range g.t.Apps {
		mine := func(kinds ...string) func(*SignIn) bool {
			return func(ev *SignIn) bool { return ev.AppID == a.ClientID && slices.Contains(kinds, ev.EventType) }
		}
		items = append(items, servicePrincipalActivity{
			ID: graphKey(a.SPObjectID), AppID: a.ClientID,
			LastSignInActivity:                            s.lastOK(g.t, mine(InteractiveUser, NonInteractiveUser, ServicePrincipal)),
			DelegatedClientSignInActivity:                 s.lastOK(g.t, mine(InteractiveUser, NonInteractiveUser)),
			ApplicationAuthenticationClientSignInActivity: s.lastOK(g.t, mine(ServicePrincipal)),
		})
	}
	items, e := filtered(items, g.r.URL.Query().Get("$filter"))
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, s.betaCollection("reports/servicePrincipalSignInActivities", items), nil
}

func (s *Sim) betaCollection(set string, items any) map[string]any {
	return map[string]any{"@odata.context": s.URL + "/beta/$metadata#" + set, "value": items}
}
