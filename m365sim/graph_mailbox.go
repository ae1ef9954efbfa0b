package m365sim

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Graph's Outlook side: mailbox settings, To Do lists, and delta queries
// over the calendar, contacts and tasks (microsoft.md §6.2). These calls
// are served outside s.mu: authentication takes it briefly, the mailbox
// has a lock of its own, and the injected latency is spent while the
// request counts against the mailbox's concurrency limit.

type mailboxReq struct {
	r      *http.Request
	c      *caller
	u      *User
	m      *Mailbox
	params map[string]string // {user}, {folder}, {list} of the route
}

type mailboxRoute struct {
	pattern     string   // below /v1.0/, with {placeholders}
	app, scopes []string // roles an app-only token needs one of; scopes a delegated one
	handle      func(*Sim, *mailboxReq) (int, any, *graphError)
	method      string // "" is GET
}

var mailboxRoutes = []*mailboxRoute{
	{pattern: "users/{user}/sendMail", app: []string{"Mail.Send"}, scopes: []string{"Mail.Send"}, handle: (*Sim).sendMail, method: http.MethodPost},
	{"users/{user}/mailboxSettings",
		[]string{"MailboxSettings.Read", "MailboxSettings.ReadWrite"}, []string{"MailboxSettings.Read", "MailboxSettings.ReadWrite"},
		(*Sim).getMailboxSettings, ""},
	{"users/{user}/calendarView/delta",
		[]string{"Calendars.Read", "Calendars.ReadWrite"}, []string{"Calendars.Read", "Calendars.ReadWrite"},
		func(s *Sim, x *mailboxReq) (int, any, *graphError) { return s.delta(x, FolderCalendar) }, ""},
	{"users/{user}/contactFolders/{folder}/contacts/delta",
		[]string{"Contacts.Read", "Contacts.ReadWrite"}, []string{"Contacts.Read", "Contacts.ReadWrite"},
		func(s *Sim, x *mailboxReq) (int, any, *graphError) { return s.delta(x, FolderContacts) }, ""},
	{"users/{user}/todo/lists",
		[]string{"Tasks.Read.All", "Tasks.ReadWrite.All"}, []string{"Tasks.Read", "Tasks.ReadWrite"},
		(*Sim).listTaskLists, ""},
	{"users/{user}/todo/lists/{list}/tasks/delta",
		[]string{"Tasks.Read.All", "Tasks.ReadWrite.All"}, []string{"Tasks.Read", "Tasks.ReadWrite"},
		func(s *Sim, x *mailboxReq) (int, any, *graphError) { return s.delta(x, FolderTasks) }, ""},
}

// matchMailboxRoute finds the route of a /v1.0/ path; literal segments
// match without regard to case, as on Graph.
func matchMailboxRoute(path string) (*mailboxRoute, map[string]string) {
	rest, ok := strings.CutPrefix(path, "/v1.0/")
	if !ok {
		return nil, nil
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	for _, rt := range mailboxRoutes {
		pat := strings.Split(rt.pattern, "/")
		if len(pat) != len(segs) {
			continue
		}
		params := map[string]string{}
		for i, p := range pat {
			if strings.HasPrefix(p, "{") {
				params[strings.Trim(p, "{}")] = segs[i]
			} else if !strings.EqualFold(p, segs[i]) {
				params = nil
				break
			}
		}
		if params != nil {
			return rt, params
		}
	}
	return nil, nil
}

// RestrictAppAccess puts an application access policy on the app
// (New-ApplicationAccessPolicy -AccessRight RestrictAccess): its app-only
// mailbox requests reach the users named and no one else. No users lifts
// the policy.
func (s *Sim) RestrictAppAccess(appID string, users ...*User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.appPolicy == nil {
		s.appPolicy = map[string]map[string]bool{}
	}
	if len(users) == 0 {
		delete(s.appPolicy, appID)
		return
	}
	in := map[string]bool{}
	for _, u := range users {
		in[u.ObjectID] = true
	}
	s.appPolicy[appID] = in
}

// Outlook's errors, worded after the real service.
func errAccessDenied() *graphError {
	return gerr(http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
}

func errNoMailbox() *graphError {
	return gerr(http.StatusNotFound, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.")
}

func errItemNotFound() *graphError {
	return gerr(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
}

func (s *Sim) serveMailbox(w http.ResponseWriter, r *http.Request, rt *mailboxRoute, params map[string]string) {
	x, latency, e := s.admitMailbox(r, rt, params)
	var status int
	var body any
	if e == nil {
		x.m = s.Mailbox(x.u)
		var release func()
		if release, e = x.m.enter(x.c.appID); e == nil {
			ok := pause(r, latency)
			if ok {
				status, body, e = rt.handle(s, x)
			}
			release() // before answering, so the client's next request finds the slot free
			if !ok {
				return
			}
			latency = 0
		}
	}
	if !pause(r, latency) {
		return
	}
	if e != nil {
		s.writeGraphError(w, e)
		return
	}
	writeJSON(w, status, body)
}

// pause waits d, or until the client gives up.
func pause(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// admitMailbox checks the token, the permission, the user and the
// per-mailbox throttle, under s.mu.
func (s *Sim) admitMailbox(r *http.Request, rt *mailboxRoute, params map[string]string) (*mailboxReq, time.Duration, *graphError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	latency := s.latency
	c, e := s.authenticate(r)
	if e != nil {
		return nil, latency, e
	}
	if r.Method != cmp.Or(rt.method, http.MethodGet) {
		return nil, latency, gerr(http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
	}
	need := rt.scopes
	if c.user == nil {
		need = rt.app
	}
	if !c.has(need...) {
		return nil, latency, errAccessDenied()
	}
	u := c.tenant.lookupUser(params["user"])
	if u == nil { // the mail API takes a mailbox's address too (reference §6.2)
		u = c.tenant.userByAddress(params["user"])
	}
	switch {
	case u == nil:
		return nil, latency, gerr(http.StatusNotFound, "ErrorInvalidUser", "The requested user '%s' is invalid.", params["user"])
	case c.user != nil && c.user != u: // delegated access reaches the signed-in user's own mailbox only
		return nil, latency, errAccessDenied()
	case !u.HasMailbox:
		return nil, latency, errNoMailbox()
	case c.user == nil && s.appPolicy[c.appID] != nil && !s.appPolicy[c.appID][u.ObjectID]:
		// An application access policy keeps the app to some mailboxes.
		return nil, latency, gerr(http.StatusForbidden, "ErrorAccessDenied", "Access to OData is disabled.")
	}
	if f := s.takeFault("#mailbox:" + u.ObjectID); f != nil {
		e := gerr(http.StatusTooManyRequests, "ApplicationThrottled", "Application is over its request limit for this mailbox.")
		e.retryAfter = f.retryAfter
		return nil, latency, e
	}
	return &mailboxReq{r: r, c: c, u: u, params: params}, latency, nil
}

// sendMail takes a message for the mailbox, as Graph's sendMail does: 202
// and no body. The simulator sends nothing; it keeps what was sent, for
// tests (Sent).
func (s *Sim) sendMail(x *mailboxReq) (int, any, *graphError) {
	var req struct {
		Message struct {
			Subject      string
			ToRecipients []struct{ EmailAddress struct{ Address string } }
		}
		SaveToSentItems *bool
	}
	if err := json.NewDecoder(io.LimitReader(x.r.Body, 1<<20)).Decode(&req); err != nil || len(req.Message.ToRecipients) == 0 {
		return 0, nil, gerr(http.StatusBadRequest, "ErrorInvalidRecipients", "At least one recipient is not valid.")
	}
	s.sentMu.Lock()
	defer s.sentMu.Unlock()
	s.sent = append(s.sent, SentMail{From: x.u.Mail, To: req.Message.ToRecipients[0].EmailAddress.Address, Subject: req.Message.Subject, AppID: x.c.appID})
	return http.StatusAccepted, nil, nil
}

// SentMail is a message the simulator's sendMail took.
type SentMail struct{ From, To, Subject, AppID string }

// Sent is every message sendMail took, in order.
func (s *Sim) Sent() []SentMail {
	s.sentMu.Lock()
	defer s.sentMu.Unlock()
	return slices.Clone(s.sent)
}

func (s *Sim) getMailboxSettings(x *mailboxReq) (int, any, *graphError) {
	return http.StatusOK, map[string]any{
		"@odata.context":                        s.URL + "/v1.0/$metadata#users('" + x.u.ObjectID + "')/mailboxSettings",
		"archiveFolder":                         x.m.FolderID(FolderInbox),
		"timeZone":                              "W. Europe Standard Time",
		"dateFormat":                            "dd-MM-yyyy",
		"timeFormat":                            "HH:mm",
		"userPurpose":                           "user",
		"delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
		"automaticRepliesSetting":               map[string]any{"status": "disabled", "externalAudience": "all", "internalReplyMessage": "", "externalReplyMessage": ""},
		"language":                              map[string]any{"locale": "nl-NL", "displayName": "Nederlands (Nederland)"},
		"workingHours": map[string]any{
			"daysOfWeek": []string{"monday", "tuesday", "wednesday", "thursday", "friday"},
			"startTime":  "08:00:00.0000000", "endTime": "17:00:00.0000000",
			"timeZone": map[string]any{"name": "W. Europe Standard Time"},
		},
	}, nil
}

func (s *Sim) listTaskLists(x *mailboxReq) (int, any, *graphError) {
	id := x.m.FolderID(FolderTasks)
	return http.StatusOK, map[string]any{
		"@odata.context": s.URL + "/v1.0/$metadata#users('" + x.u.ObjectID + "')/todo/lists",
		"value": []map[string]any{{
			"@odata.etag": `W/"` + changeKey(id, 0) + `"`, "id": id, "displayName": "Tasks",
			"isOwner": true, "isShared": false, "wellknownListName": "defaultList",
		}},
	}, nil
}

// deltaPageSize is the page size without Prefer: odata.maxpagesize.
const deltaPageSize = 50

// delta serves a delta query: the first URL, a nextLink ($skiptoken) or
// a deltaLink ($deltatoken).
func (s *Sim) delta(x *mailboxReq, f Folder) (int, any, *graphError) {
	switch f {
	case FolderContacts:
		if id := x.params["folder"]; !strings.EqualFold(id, "contacts") && id != x.m.FolderID(f) {
			return 0, nil, errItemNotFound()
		}
	case FolderTasks:
		if x.params["list"] != x.m.FolderID(f) {
			return 0, nil, errItemNotFound()
		}
	}
	q := x.r.URL.Query()
	token := q.Get("$deltatoken")
	if token == "" {
		token = q.Get("$skiptoken")
	}
	var cur cursor
	if token != "" {
		c, ok := decodeCursor(token)
		if !ok || c.Kind != "graph" || c.User != x.u.ObjectID || c.Folder != f {
			return 0, nil, errSyncState(c.Epoch, x.m.epochNow())
		}
		cur = c
	} else {
		cur = cursor{Kind: "graph", User: x.u.ObjectID, Folder: f, Epoch: x.m.epochNow()}
		if f == FolderCalendar {
			from, to, e := calendarWindow(q)
			if e != nil {
				return 0, nil, e
			}
			cur.From, cur.To = from.Unix(), to.Unix()
		}
	}
	if n := preferPageSize(x.r); n > 0 {
		cur.Page = n
	}
	size := cur.Page
	if size <= 0 {
		size = deltaPageSize
	}
	var window func(time.Time) bool
	if f == FolderCalendar {
		from, to := time.Unix(cur.From, 0), time.Unix(cur.To, 0)
		window = func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	}
	changes, next, done, ok := x.m.changes(cur, size, window)
	if !ok {
		return 0, nil, errSyncState(cur.Epoch, x.m.epochNow())
	}
	values := make([]map[string]any, 0, len(changes))
	for _, c := range changes {
		values = append(values, graphItem(f, c))
	}
	types := map[Folder]string{FolderCalendar: "event", FolderContacts: "contact", FolderTasks: "todoTask"}
	body := map[string]any{"@odata.context": s.URL + "/v1.0/$metadata#Collection(" + types[f] + ")", "value": values}
	link := s.URL + x.r.URL.EscapedPath()
	if done {
		body["@odata.deltaLink"] = link + "?$deltatoken=" + next.encode()
	} else {
		body["@odata.nextLink"] = link + "?$skiptoken=" + next.encode()
	}
	return http.StatusOK, body, nil
}

// errSyncState is Graph's answer to a delta token it no longer has, in
// the real wording (seen on calendarView/delta).
func errSyncState(generation, highest int) *graphError {
	return gerr(http.StatusGone, "SyncStateNotFound", "The sync state generation is not found; generation=%d;[highest=%d].", generation, highest)
}

// calendarWindow reads startDateTime and endDateTime, which calendarView
// requires; Graph matches query parameter names without regard to case.
func calendarWindow(q map[string][]string) (from, to time.Time, e *graphError) {
	get := func(name string) string {
		for k, v := range q {
			if strings.EqualFold(k, name) && len(v) > 0 {
				return v[0]
			}
		}
		return ""
	}
	missing := gerr(http.StatusBadRequest, "ErrorInvalidParameter", "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.")
	from, ok1 := parseGraphTime(get("startDateTime"))
	to, ok2 := parseGraphTime(get("endDateTime"))
	if !ok1 || !ok2 {
		return from, to, missing
	}
	if !to.After(from) {
		return from, to, gerr(http.StatusBadRequest, "ErrorInvalidParameter", "The parameter 'EndDateTime' must be later than 'StartDateTime'.")
	}
	return from, to, nil
}

// parseGraphTime reads an ISO 8601 time; one without a zone is UTC.
func parseGraphTime(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// preferPageSize reads Prefer: odata.maxpagesize=N; 0 when absent.
func preferPageSize(r *http.Request) int {
	for _, h := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(h, ",") {
			if v, ok := cutPrefixFold(strings.TrimSpace(p), "odata.maxpagesize="); ok {
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
					return n
				}
			}
		}
	}
	return 0
}

// graphItem is a delta answer's item: the resource in full, or its
// removal.
func graphItem(f Folder, c change) map[string]any {
	it := c.item
	if c.kind == changeDelete {
		return map[string]any{"id": it.id, "@removed": map[string]string{"reason": "deleted"}}
	}
	const stamp = "2006-01-02T15:04:05.0000000Z"
	v := map[string]any{
		"@odata.etag":          `W/"` + it.changeKey + `"`,
		"id":                   it.id,
		"createdDateTime":      it.created.UTC().Format(stamp),
		"lastModifiedDateTime": it.modified.UTC().Format(stamp),
	}
	switch f {
	case FolderCalendar:
		const local = "2006-01-02T15:04:05.0000000"
		v["@odata.type"] = "#microsoft.graph.event"
		v["changeKey"] = it.changeKey
		v["subject"] = it.title
		v["type"] = "singleInstance"
		v["start"] = map[string]string{"dateTime": it.start.UTC().Format(local), "timeZone": "UTC"}
		v["end"] = map[string]string{"dateTime": it.start.Add(time.Hour).UTC().Format(local), "timeZone": "UTC"}
	case FolderContacts:
		v["@odata.type"] = "#microsoft.graph.contact"
		v["changeKey"] = it.changeKey
		v["displayName"], v["givenName"], v["surname"] = it.title, it.given, it.sur
		v["emailAddresses"] = []map[string]string{{"name": it.title, "address": it.email}}
	case FolderTasks:
		// A todoTask has no changeKey property on Graph: only its etag.
		v["@odata.type"] = "#microsoft.graph.todoTask"
		v["title"], v["status"], v["importance"] = it.title, "notStarted", "normal"
	}
	return v
}
