package m365sim

import (
	"math"
	"net/http"
	"strings"
	"time"
)

// The simulator serves three resources of Graph beta, with v1.0's
// authentication: the sign-in log, which v1.0 serves without the event
// types, credential key IDs and non-interactive sign-ins (microsoft.md
// §9.1), and the sign-in activity reports.

// betaRoutes maps lower-case paths below /beta/ to their GET handlers.
var betaRoutes = map[string]graphHandler{
	"auditlogs/signins":                        (*Sim).listSignIns,
	"reports/appcredentialsigninactivities":    (*Sim).appCredentialActivities,
	"reports/serviceprincipalsigninactivities": (*Sim).servicePrincipalActivities,
}

// The report endpoints' throttle: 5 requests per 10 seconds per app and
// tenant (learn …/graph/throttling-limits).
const (
	reportLimit  = 5
	reportWindow = 10 * time.Second
)

// Permissions and directory roles the logs and reports need.
const (
	auditLogReadAll  = "AuditLog.Read.All"
	directoryReadAll = "Directory.Read.All"

	roleReportsReader = "Reports Reader"
	roleGlobalReader  = "Global Reader"
	roleSecReader     = "Security Reader"
	roleSecAdmin      = "Security Administrator"
)

// readReports: AuditLog.Read.All, and for a signed-in user a role that
// may read reports.
var readReports = access{
	perms:    []string{auditLogReadAll},
	dirRoles: []string{roleReportsReader, roleSecReader, roleSecAdmin, roleGlobalReader, roleGlobalAdmin},
	purpose:  "read sign-in logs",
}

// serveBeta answers /beta/ requests as serveGraph does /v1.0/ ones.
func (s *Sim) serveBeta(w http.ResponseWriter, r *http.Request) {
	s.setRequestIDs(w, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	status, body, e := s.routeBeta(r)
	s.writeGraph(w, status, body, e)
}

func (s *Sim) routeBeta(r *http.Request) (int, any, *graphError) {
	c, e := s.authenticate(r)
	if e != nil {
		return 0, nil, e
	}
	path := strings.Trim(strings.TrimPrefix(r.URL.Path, "/beta/"), "/")
	h, ok := betaRoutes[strings.ToLower(path)]
	if !ok {
		seg, _, _ := strings.Cut(path, "/")
		return 0, nil, gerr(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", seg)
	}
	if r.Method != http.MethodGet {
		return 0, nil, gerr(http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
	}
	if e := s.throttleReports(c); e != nil {
		return 0, nil, e
	}
	if e := c.allow(readReports); e != nil {
		return 0, nil, e
	}
	// The sign-in log needs Directory.Read.All too (a known issue).
	if strings.EqualFold(path, "auditLogs/signIns") && !c.has(directoryReadAll) {
		return 0, nil, errForbidden("")
	}
	if c.tenant.noPremium {
		return 0, nil, gerr(http.StatusForbidden, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Neither tenant is B2C or tenant doesn't have premium license")
	}
	return h(s, &graphReq{r: r, c: c, t: c.tenant})
}

// throttleReports counts the caller's requests to the logs and reports on
// the simulator's clock and refuses the sixth within ten seconds, telling
// when the oldest of them leaves the window. Callers hold s.mu.
func (s *Sim) throttleReports(c *caller) *graphError {
	key := c.tenant.ID + "|" + c.appID
	now := s.Clock.Now()
	var recent []time.Time
	for _, at := range s.reportCalls[key] {
		if now.Sub(at) < reportWindow {
			recent = append(recent, at)
		}
	}
	s.reportCalls[key] = recent
	if len(recent) < reportLimit {
		s.reportCalls[key] = append(recent, now)
		return nil
	}
	wait := max(int(math.Ceil(recent[0].Add(reportWindow).Sub(now).Seconds())), 1)
	e := gerr(http.StatusTooManyRequests, "TooManyRequests", "Too many requests have been made to this endpoint. Please retry after %d seconds.", wait)
	e.retryAfter = time.Duration(wait) * time.Second
	return e
}
