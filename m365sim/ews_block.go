package m365sim

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// EWS retirement in Exchange Online (microsoft.md §5.1, §9.3): from
// 1 October 2026 Microsoft disables EWS tenant by tenant, leaving it only
// to the apps in the organisation's EwsAllowedAppIDs while EwsEnabled is
// $true; from 1 April 2027 EWS in Exchange Online is off for every app.
// Exchange Server on-premises is never affected.
var (
	EWSBlockStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	EWSRetirement = time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)
)

// ewsPolicy is a tenant's organisation-level EWS settings
// (Set-OrganizationConfig -EwsEnabled, -EwsAllowedAppIDs).
type ewsPolicy struct {
	// enabled is EwsEnabled: nil for $null, the value nobody set.
	enabled *bool
	allowed []string // EwsAllowedAppIDs, lower-case
	// reached: Microsoft's October 2026 disablement has reached the
	// tenant, turning a $null EwsEnabled into $false. The rollout goes
	// tenant by tenant; the simulator's tenants start unreached, so the
	// demo and tests that do not ask for the block never see it.
	reached bool
}

// AllowEWS sets the tenant's EwsEnabled to $true and adds the apps to its
// EwsAllowedAppIDs: from then on only listed apps may use EWS, as with
// Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs "id1,id2".
func (s *Sim) AllowEWS(t *Tenant, appIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	on := true
	t.ews.enabled = &on
	for _, id := range appIDs {
		if id = strings.ToLower(id); !slices.Contains(t.ews.allowed, id) {
			t.ews.allowed = append(t.ews.allowed, id)
		}
	}
}

// DisableEWS sets the tenant's EwsEnabled to $false: no app may use EWS.
func (s *Sim) DisableEWS(t *Tenant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	off := false
	t.ews.enabled = &off
}

// EWSDisablementReached says whether Microsoft's EWS retirement has
// reached the tenant: from 1 October 2026 (on the simulator's clock) a
// $null EwsEnabled counts as $false, and from 1 April 2027 no app may use
// EWS. A tenant it has not reached keeps EWS at any date, so that the
// suite passes whatever day it runs on and the demo's EWS presets work.
func (s *Sim) EWSDisablementReached(t *Tenant, reached bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.ews.reached = reached
}

// refusal is why Exchange Online refuses an app EWS at now, or "".
// The caller holds s.mu.
func (p *ewsPolicy) refusal(appID string, now time.Time) string {
	switch {
	case p.reached && !now.Before(EWSRetirement):
		return ewsRetiredBody
	case p.enabled == nil && p.reached && !now.Before(EWSBlockStart),
		p.enabled != nil && !*p.enabled,
		p.enabled != nil && !slices.Contains(p.allowed, strings.ToLower(appID)):
		return ewsBlockedBody
	}
	return ""
}

// The bodies of the refusals are our guess: Microsoft documents only
// the HTTP 403 from /EWS/Exchange.asmx (microsoft.md §9.3), not what it
// says. Plain text, no SOAP and no WWW-Authenticate, so a client must
// not rely on any of the words.
const (
	ewsBlockedBody = "EWS is not allowed for this application in this organization (EwsEnabled, EwsAllowedAppIDs).\r\n"
	ewsRetiredBody = "EWS is disabled in Exchange Online.\r\n"
)

// refuseEWS answers a blocked EWS request as §9.3 reports it: HTTP 403.
func refuseEWS(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write([]byte(body))
}
