package m365sim

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The simulator serves the part of Microsoft Graph v1.0 that app
// registration needs (applications, service principals, app role
// assignments, delegated permission grants) on its own URL, with Graph's
// error shape, so modauth can set up an app the way an admin script would.

// graphError is a Graph error: {"error":{"code","message","innerError"}}.
type graphError struct {
	status     int
	code       string
	message    string
	retryAfter time.Duration // sent as Retry-After (seconds) when set
}

func (e *graphError) Error() string { return e.code + ": " + e.message }

func gerr(status int, code, format string, args ...any) *graphError {
	return &graphError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// Common Graph errors, worded after the real service.
func errNotFound(id string) *graphError {
	return gerr(http.StatusNotFound, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
}

func errBadRequest(format string, args ...any) *graphError {
	return gerr(http.StatusBadRequest, "Request_BadRequest", format, args...)
}

func errInvalidValue(property, resource string) *graphError {
	return errBadRequest("Invalid value specified for property '%s' of resource '%s'.", property, resource)
}

// errForbidden is Graph's 403; detail, when set, says which directory role
// is missing, which modauth passes on to the admin.
func errForbidden(detail string) *graphError {
	msg := "Insufficient privileges to complete the operation."
	if detail != "" {
		msg += " " + detail
	}
	return gerr(http.StatusForbidden, "Authorization_RequestDenied", "%s", msg)
}

// graphReq is an authenticated Graph call, its path split up:
// /v1.0/{set}/{key}/{action} or /v1.0/{set}(appId='{key}')/{action}.
type graphReq struct {
	r       *http.Request
	c       *caller
	t       *Tenant
	set     string
	key     string
	byAppID bool
	action  string
}

type graphHandler func(*Sim, *graphReq) (status int, body any, e *graphError)

// graphRoutes maps "METHOD set[/{key}[/action]]" to handlers.
var graphRoutes = map[string]graphHandler{
	"GET applications":                               (*Sim).listApplications,
	"POST applications":                              (*Sim).createApplication,
	"GET applications/{key}":                         (*Sim).getApplication,
	"PATCH applications/{key}":                       (*Sim).patchApplication,
	"POST applications/{key}/addPassword":            (*Sim).addPassword,
	"POST applications/{key}/removePassword":         (*Sim).removePassword,
	"GET servicePrincipals":                          (*Sim).listServicePrincipals,
	"POST servicePrincipals":                         (*Sim).createServicePrincipal,
	"GET servicePrincipals/{key}":                    (*Sim).getServicePrincipal,
	"GET servicePrincipals/{key}/appRoleAssignedTo":  (*Sim).listAppRoleAssignedTo,
	"POST servicePrincipals/{key}/appRoleAssignedTo": (*Sim).assignAppRole,
	"GET servicePrincipals/{key}/appRoleAssignments": (*Sim).listAppRoleAssignments,
	"GET oauth2PermissionGrants":                     (*Sim).listPermissionGrants,
	"POST oauth2PermissionGrants":                    (*Sim).createPermissionGrant,
	"GET oauth2PermissionGrants/{key}":               (*Sim).getPermissionGrant,
	"PATCH oauth2PermissionGrants/{key}":             (*Sim).patchPermissionGrant,
	"GET users":                                      (*Sim).listUsers,
	"GET users/{key}":                                (*Sim).getUser,
}

// graphNames are the entity sets and actions the simulator knows, in
// their canonical case: Graph matches URL segments case-insensitively.
var graphNames = []string{"applications", "servicePrincipals", "oauth2PermissionGrants", "users",
	"addPassword", "removePassword", "appRoleAssignedTo", "appRoleAssignments"}

// serveGraph authenticates a /v1.0/ request, routes it and writes the
// answer. It holds s.mu throughout, as the identity endpoints do, except
// for mailbox data (graph_mailbox.go), which has locks of its own.
func (s *Sim) serveGraph(w http.ResponseWriter, r *http.Request) {
	s.setRequestIDs(w, r)
	if rt, params := matchMailboxRoute(r.URL.Path); rt != nil {
		s.serveMailbox(w, r, rt, params)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	status, body, e := s.routeGraph(r)
	s.writeGraph(w, status, body, e)
}

// setRequestIDs sets the request-id Graph gives every answer and echoes
// the client's client-request-id, or makes one up.
func (s *Sim) setRequestIDs(w http.ResponseWriter, r *http.Request) {
	reqID, clientReqID := s.newGUID(), r.Header.Get("client-request-id")
	if clientReqID == "" {
		clientReqID = s.newGUID()
	}
	w.Header().Set("request-id", reqID)
	w.Header().Set("client-request-id", clientReqID)
}

// writeGraph writes a handler's answer: the error, an empty status, or
// the JSON body.
func (s *Sim) writeGraph(w http.ResponseWriter, status int, body any, e *graphError) {
	switch {
	case e != nil:
		s.writeGraphError(w, e)
	case body == nil:
		w.WriteHeader(status)
	default:
		writeJSON(w, status, body)
	}
}

func (s *Sim) routeGraph(r *http.Request) (int, any, *graphError) {
	c, e := s.authenticate(r)
	if e != nil {
		return 0, nil, e
	}
	g, route, e := parseGraphPath(r.URL.Path)
	if e != nil {
		return 0, nil, e
	}
	g.r, g.c, g.t = r, c, c.tenant
	h, ok := graphRoutes[r.Method+" "+route]
	if !ok {
		for k := range graphRoutes {
			if strings.HasSuffix(k, " "+route) {
				return 0, nil, gerr(http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
			}
		}
		seg := g.set
		if g.action != "" && slices.Contains(graphNames, g.set) {
			seg = g.action
		}
		return 0, nil, gerr(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", seg)
	}
	return h(s, g)
}

// parseGraphPath splits a /v1.0/ path and returns the route it asks for,
// in the form of graphRoutes' keys.
func parseGraphPath(path string) (*graphReq, string, *graphError) {
	segs := strings.Split(strings.Trim(strings.TrimPrefix(path, "/v1.0/"), "/"), "/")
	g := &graphReq{}
	set, paren, hasParen := strings.Cut(segs[0], "(")
	g.set = canonicalName(set)
	rest := segs[1:]
	if hasParen {
		name, value, ok := strings.Cut(strings.TrimSuffix(paren, ")"), "=")
		if !ok || !strings.HasSuffix(paren, ")") || !strings.EqualFold(name, "appId") {
			return nil, "", gerr(http.StatusBadRequest, "BadRequest", "Bad request. Please fix the request before retrying: the key '%s' is not valid.", paren)
		}
		g.key, g.byAppID = strings.Trim(value, "'"), true
	} else if len(rest) > 0 {
		g.key, rest = rest[0], rest[1:]
	}
	if len(rest) > 1 {
		return nil, "", gerr(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", rest[1])
	}
	route := g.set
	if g.key != "" {
		route += "/{key}"
	}
	if len(rest) == 1 {
		g.action = canonicalName(rest[0])
		route += "/" + g.action
	}
	return g, route, nil
}

func canonicalName(seg string) string {
	for _, n := range graphNames {
		if strings.EqualFold(n, seg) {
			return n
		}
	}
	return seg
}

// writeGraphError sends e with the innerError the real service adds; the
// request IDs are the ones serveGraph put in the headers.
func (s *Sim) writeGraphError(w http.ResponseWriter, e *graphError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int(e.retryAfter.Seconds())))
	}
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="", authorization_uri="%s/common/oauth2/authorize", client_id="%s"`, s.URL, GraphAppID))
	}
	writeJSON(w, e.status, map[string]any{"error": map[string]any{
		"code":    e.code,
		"message": e.message,
		"innerError": map[string]string{
			"date":              s.Clock.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        w.Header().Get("request-id"),
			"client-request-id": w.Header().Get("client-request-id"),
		},
	}})
}

// decodeBody reads a JSON request body; an empty body leaves v as it is.
func decodeBody(r *http.Request, v any) *graphError {
	err := json.NewDecoder(r.Body).Decode(v)
	if err == nil || err == io.EOF {
		return nil
	}
	return gerr(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
}

// collection is Graph's list answer.
func (s *Sim) collection(set string, items any) map[string]any {
	return map[string]any{"@odata.context": s.URL + "/v1.0/$metadata#" + set, "value": items}
}

// entityContext is the @odata.context of a single entity of set.
func (s *Sim) entityContext(set string) string {
	return s.URL + "/v1.0/$metadata#" + set + "/$entity"
}

// filtered applies a $filter of the form "property eq 'value'", the form
// app registration scripts use; Graph compares these strings without
// regard to case. Other filters are refused as Graph refuses what a
// property does not support.
func filtered[T any](items []T, filter string) ([]T, *graphError) {
	if filter == "" {
		return items, nil
	}
	prop, value, ok := strings.Cut(filter, " eq ")
	prop, value = strings.TrimSpace(prop), strings.TrimSpace(value)
	if !ok || len(value) < 2 || value[0] != '\'' || value[len(value)-1] != '\'' {
		return nil, gerr(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported Query.")
	}
	value = strings.ReplaceAll(value[1:len(value)-1], "''", "'")
	out := []T{}
	for _, it := range items {
		b, _ := json.Marshal(it)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		for k, v := range m {
			if strings.EqualFold(k, prop) {
				if sv, _ := v.(string); strings.EqualFold(sv, value) {
					out = append(out, it)
				}
			}
		}
	}
	return out, nil
}

// containsFold reports whether list holds s, ignoring case as Graph does
// for permission names and enumerations.
func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(v string) bool { return strings.EqualFold(v, s) })
}

// graphKey encodes GUIDs the way Entra derives some object IDs (an
// oauth2PermissionGrant's is its client, resource and principal IDs):
// bytes in .NET order, base64url without padding.
func graphKey(guids ...string) string {
	var b []byte
	for _, g := range guids {
		raw, _ := hex.DecodeString(strings.ReplaceAll(g, "-", ""))
		if len(raw) != 16 {
			raw = make([]byte, 16)
		}
		slices.Reverse(raw[0:4])
		slices.Reverse(raw[4:6])
		slices.Reverse(raw[6:8])
		b = append(b, raw...)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
