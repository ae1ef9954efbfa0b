package m365sim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
)

const graphURI = "https://graph.microsoft.com"

// mailRoles are what a sync daemon holds.
var mailRoles = []string{"Calendars.ReadWrite", "Contacts.ReadWrite", "Tasks.ReadWrite.All"}

// syncRun follows a delta query from start (a path below /v1.0 or a
// link) to its deltaLink and returns the items, the deltaLink and the
// number of pages.
func syncRun(t *testing.T, s *m365sim.Sim, token, start string, pageSize int) ([]map[string]any, string, int) {
	t.Helper()
	var h http.Header
	if pageSize > 0 {
		h = http.Header{"Prefer": {fmt.Sprintf("odata.maxpagesize=%d", pageSize)}}
	}
	var items []map[string]any
	for next, pages := strings.TrimPrefix(start, s.URL+"/v1.0"), 1; ; pages++ {
		status, _, body := graphRaw(t, s, token, "GET", next, nil, h)
		want(t, "delta "+next, status, body, http.StatusOK)
		items = append(items, values(body)...)
		if link, _ := body["@odata.deltaLink"].(string); link != "" {
			if !strings.HasPrefix(link, s.URL+"/v1.0/") || !strings.Contains(link, "$deltatoken=") || len(values(body)) > max(pageSize, 50) {
				t.Fatalf("last page: %v", body)
			}
			return items, link, pages
		}
		link, _ := body["@odata.nextLink"].(string)
		if !strings.HasPrefix(link, s.URL+"/v1.0/") || !strings.Contains(link, "$skiptoken=") || (pageSize > 0 && len(values(body)) != pageSize) {
			t.Fatalf("page without a proper nextLink: %v", body)
		}
		next = strings.TrimPrefix(link, s.URL+"/v1.0")
	}
}

func idsOf(items []map[string]any) []string {
	var ids []string
	for _, it := range items {
		ids = append(ids, it["id"].(string))
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids []string) []string {
	return slices.Sorted(slices.Values(ids))
}

// The first URLs of delta queries, as the monitor builds them.
func calendarPath(u *m365sim.User, from, to time.Time) string {
	q := url.Values{"startDateTime": {from.UTC().Format(time.RFC3339)}, "endDateTime": {to.UTC().Format(time.RFC3339)}}
	return "/users/" + url.PathEscape(u.ObjectID) + "/calendarView/delta?" + q.Encode()
}

func contactsPath(user, folder string) string {
	return "/users/" + url.PathEscape(user) + "/contactFolders/" + url.PathEscape(folder) + "/contacts/delta"
}

func tasksPath(user, list string) string {
	return "/users/" + url.PathEscape(user) + "/todo/lists/" + url.PathEscape(list) + "/tasks/delta"
}

func TestGraphDeltaFirstSyncPages(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	tok := appToken(t, s, graphURI, mailRoles...)
	anna := s.Tenant.User("anna.devries@contoso.com")
	m := s.Mailbox(anna)
	for range 12 {
		m.Add(m365sim.FolderContacts) // more than a page, whatever the seed gave
	}
	now := s.Clock.Now()

	// A window around everything: all events.
	items, _, pages := syncRun(t, s, tok, calendarPath(anna, now.AddDate(0, 0, -70), now.AddDate(0, 0, 410)), 7)
	if got := idsOf(items); !slices.Equal(got, sorted(m.IDs(m365sim.FolderCalendar))) || pages != (len(got)+6)/7 {
		t.Errorf("calendar: %d events in %d pages, mailbox has %d", len(got), pages, m.Count(m365sim.FolderCalendar))
	}
	for _, it := range items {
		if it["changeKey"] == "" || it["subject"] == nil || it["lastModifiedDateTime"] == nil || it["start"] == nil {
			t.Fatalf("event %v", it)
		}
	}
	// A narrow window: only the events in it.
	from, to := now.AddDate(0, 0, -30), now.AddDate(0, 0, 100)
	items, _, _ = syncRun(t, s, tok, calendarPath(anna, from, to), 0)
	if n := m.EventsBetween(from, to); len(items) != n || n == m.Count(m365sim.FolderCalendar) {
		t.Errorf("window: %d events, want %d of %d", len(items), n, m.Count(m365sim.FolderCalendar))
	}
	status, body := graphCall(t, s, tok, "GET", "/users/"+anna.ObjectID+"/calendarView/delta", nil)
	if code, _ := graphErr(body); status != http.StatusBadRequest || code != "ErrorInvalidParameter" {
		t.Errorf("no window: %d %v", status, body)
	}

	// Contacts by the well-known name and by the folder's ID.
	for _, folder := range []string{"contacts", m.FolderID(m365sim.FolderContacts)} {
		items, _, pages := syncRun(t, s, tok, contactsPath(anna.UPN, folder), 10)
		if got := idsOf(items); !slices.Equal(got, sorted(m.IDs(m365sim.FolderContacts))) || pages < 2 {
			t.Errorf("contacts of folder %s: %d in %d pages, want %d", folder, len(got), pages, m.Count(m365sim.FolderContacts))
		}
	}
	status, body = graphCall(t, s, tok, "GET", contactsPath(anna.ObjectID, "AAMkAnotafolder"), nil)
	if status != http.StatusNotFound {
		t.Errorf("unknown contact folder: %d %v", status, body)
	}

	// Tasks: find the default list, then sync it.
	m.Add(m365sim.FolderTasks)
	status, body = graphCall(t, s, tok, "GET", "/users/"+anna.ObjectID+"/todo/lists", nil)
	lists := values(body)
	if status != http.StatusOK || len(lists) != 1 || lists[0]["wellknownListName"] != "defaultList" || lists[0]["displayName"] != "Tasks" {
		t.Fatalf("todo lists: %d %v", status, body)
	}
	items, _, _ = syncRun(t, s, tok, tasksPath(anna.ObjectID, lists[0]["id"].(string)), 0)
	if got := idsOf(items); !slices.Equal(got, sorted(m.IDs(m365sim.FolderTasks))) {
		t.Errorf("tasks: %v, want %v", got, m.IDs(m365sim.FolderTasks))
	}
}

func TestGraphDeltaIncremental(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	tok := appToken(t, s, graphURI, mailRoles...)
	bram := s.Tenant.User("bjanssen@contoso.onmicrosoft.com")
	m := s.Mailbox(bram)
	now := s.Clock.Now()
	_, link, _ := syncRun(t, s, tok, calendarPath(bram, now.AddDate(0, 0, -70), now.AddDate(0, 0, 410)), 0)

	ids := m.IDs(m365sim.FolderCalendar)
	s.Clock.Advance(time.Hour)
	added := []string{m.Add(m365sim.FolderCalendar), m.Add(m365sim.FolderCalendar)}
	if !m.Touch(m365sim.FolderCalendar, ids[0]) || !m.Delete(m365sim.FolderCalendar, ids[1]) {
		t.Fatal("touch or delete of a seeded event failed")
	}
	gone := m.Add(m365sim.FolderCalendar) // added and deleted between syncs: not reported
	m.Delete(m365sim.FolderCalendar, gone)

	items, link2, _ := syncRun(t, s, tok, link, 0)
	got := map[string]string{}
	for _, it := range items {
		switch {
		case it["@removed"] != nil:
			got[it["id"].(string)] = "removed " + jsonOf(it["@removed"])
		case it["subject"] != nil:
			got[it["id"].(string)] = "full"
		}
	}
	wantChanges := map[string]string{added[0]: "full", added[1]: "full", ids[0]: "full", ids[1]: `removed {"reason":"deleted"}`}
	if jsonOf(got) != jsonOf(wantChanges) {
		t.Errorf("changes %v, want %v", got, wantChanges)
	}
	for _, it := range items {
		if it["id"] == ids[0] && !strings.HasPrefix(it["lastModifiedDateTime"].(string), s.Clock.Now().UTC().Format("2006-01-02T15")) {
			t.Errorf("touched event %v", it)
		}
	}
	if items, _, _ := syncRun(t, s, tok, link2, 0); len(items) != 0 {
		t.Errorf("nothing changed, yet %v", items)
	}

	// Expired sync state: the stored links are gone, a new sync works.
	s.ExpireDeltaTokens(bram)
	status, body := graphCall(t, s, tok, "GET", strings.TrimPrefix(link2, s.URL+"/v1.0"), nil)
	if code, _ := graphErr(body); status != http.StatusGone || code != "SyncStateNotFound" {
		t.Errorf("expired deltaLink: %d %v", status, body)
	}
	items, _, _ = syncRun(t, s, tok, calendarPath(bram, now.AddDate(0, 0, -70), now.AddDate(0, 0, 410)), 0)
	if len(items) != m.Count(m365sim.FolderCalendar) {
		t.Errorf("resync: %d of %d", len(items), m.Count(m365sim.FolderCalendar))
	}
	// Another user's token, and garbage, are no sync state either.
	anna := s.Tenant.User("anna.devries@contoso.com")
	_, annaLink, _ := syncRun(t, s, tok, contactsPath(anna.ObjectID, "contacts"), 0)
	tokenPart := annaLink[strings.Index(annaLink, "?"):]
	for _, path := range []string{contactsPath(bram.ObjectID, "contacts") + tokenPart, contactsPath(bram.ObjectID, "contacts") + "?$deltatoken=garbage"} {
		if status, body := graphCall(t, s, tok, "GET", path, nil); status != http.StatusGone {
			t.Errorf("%s: %d %v", path, status, body)
		}
	}
}

func TestGraphMailboxAccess(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	now := s.Clock.Now()
	anna, bram, eva := s.Tenant.User("anna.devries@contoso.com"), s.Tenant.User("bjanssen@contoso.onmicrosoft.com"), s.Tenant.User("eva.schmidt@contoso.com")
	annaTok := userToken(t, s, anna.UPN, graphURI+"/Calendars.ReadWrite")
	evaTok := userToken(t, s, eva.UPN, graphURI+"/Calendars.ReadWrite")
	appTok := appToken(t, s, graphURI, mailRoles...)
	noRole := appToken(t, s, graphURI, "User.Read.All")
	cases := []struct {
		name, token string
		user        *m365sim.User
		status      int
		code        string
	}{
		{"anna reading her own calendar", annaTok, anna, http.StatusOK, ""},
		{"anna reading bram's", annaTok, bram, http.StatusForbidden, "ErrorAccessDenied"},
		{"eva without a mailbox", evaTok, eva, http.StatusNotFound, "MailboxNotEnabledForRESTAPI"},
		{"app reading eva's", appTok, eva, http.StatusNotFound, "MailboxNotEnabledForRESTAPI"},
		{"app without Calendars.ReadWrite", noRole, anna, http.StatusForbidden, "ErrorAccessDenied"},
		{"app reading dieter's (disabled)", appTok, s.Tenant.User("dieter.wagner@contoso.com"), http.StatusOK, ""},
	}
	for _, c := range cases {
		status, body := graphCall(t, s, c.token, "GET", calendarPath(c.user, now, now.AddDate(0, 1, 0)), nil)
		if code, msg := graphErr(body); status != c.status || code != c.code || (c.code == "ErrorAccessDenied" && msg != "Access is denied. Check credentials and try again.") {
			t.Errorf("%s: %d %v", c.name, status, body)
		}
	}
	status, body := graphCall(t, s, annaTok, "GET", contactsPath(anna.ObjectID, "contacts"), nil)
	if code, _ := graphErr(body); status != http.StatusForbidden || code != "ErrorAccessDenied" {
		t.Errorf("contacts without Contacts.ReadWrite: %d %v", status, body)
	}
	status, body = graphCall(t, s, appTok, "GET", calendarPath(&m365sim.User{ObjectID: "00000000-0000-4000-8000-000000000000"}, now, now.AddDate(0, 1, 0)), nil)
	if status != http.StatusNotFound {
		t.Errorf("unknown user: %d %v", status, body)
	}
}

// concurrent sends the requests at once and returns their statuses and
// Retry-After headers.
func concurrent(t *testing.T, s *m365sim.Sim, reqs []struct{ token, path string }) (statuses []int, retry []string, codes []string) {
	t.Helper()
	statuses, retry, codes = make([]int, len(reqs)), make([]string, len(reqs)), make([]string, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", s.URL+"/v1.0"+r.path, nil)
			req.Header.Set("Authorization", "Bearer "+r.token)
			resp, err := s.HTTPClient().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			statuses[i], retry[i] = resp.StatusCode, resp.Header.Get("Retry-After")
			codes[i], _ = graphErr(body)
		})
	}
	wg.Wait()
	return statuses, retry, codes
}

func TestGraphMailboxConcurrencyLimit(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	a, b := appToken(t, s, graphURI, mailRoles...), appToken(t, s, graphURI, mailRoles...)
	anna, bram := s.Tenant.User("anna.devries@contoso.com"), s.Tenant.User("bjanssen@contoso.onmicrosoft.com")
	path := func(u *m365sim.User) string { return contactsPath(u.ObjectID, "contacts") }
	s.SetLatency(300 * time.Millisecond)

	// Four per app and mailbox: app A on Anna, app A on Bram, app B on Anna.
	var reqs []struct{ token, path string }
	for range 4 {
		reqs = append(reqs, struct{ token, path string }{a, path(anna)}, struct{ token, path string }{a, path(bram)}, struct{ token, path string }{b, path(anna)})
	}
	statuses, _, _ := concurrent(t, s, reqs)
	for i, st := range statuses {
		if st != http.StatusOK {
			t.Errorf("request %d within the limit: %d", i, st)
		}
	}
	// Six at once from one app on one mailbox: two too many.
	reqs = reqs[:0]
	for range 6 {
		reqs = append(reqs, struct{ token, path string }{a, path(anna)})
	}
	statuses, retry, codes := concurrent(t, s, reqs)
	throttled := 0
	for i, st := range statuses {
		if st == http.StatusTooManyRequests {
			throttled++
			if retry[i] == "" || codes[i] != "ApplicationThrottled" {
				t.Errorf("429 without Retry-After or code: %q %q", retry[i], codes[i])
			}
		}
	}
	if throttled != 2 {
		t.Errorf("%d of 6 concurrent requests throttled, want 2: %v", throttled, statuses)
	}
}

func TestGraphMailboxFaults(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	tok := appToken(t, s, graphURI, mailRoles...)
	anna, bram := s.Tenant.User("anna.devries@contoso.com"), s.Tenant.User("bjanssen@contoso.onmicrosoft.com")
	s.ThrottleMailbox(anna, 2, 7*time.Second)
	for i := range 3 {
		status, hdr, body := graphRaw(t, s, tok, "GET", contactsPath(anna.ObjectID, "contacts"), nil, nil)
		code, _ := graphErr(body)
		if i < 2 && (status != http.StatusTooManyRequests || hdr.Get("Retry-After") != "7" || code != "ApplicationThrottled") {
			t.Errorf("throttled request %d: %d %v %v", i, status, hdr, body)
		}
		if i == 2 && status != http.StatusOK {
			t.Errorf("after the throttle: %d %v", status, body)
		}
		if status, body := graphCall(t, s, tok, "GET", contactsPath(bram.ObjectID, "contacts"), nil); status != http.StatusOK {
			t.Errorf("bram during anna's throttle: %d %v", status, body)
		}
	}
	s.FailNext("/contacts/delta", 1, http.StatusServiceUnavailable)
	if status, _ := graphCall(t, s, tok, "GET", contactsPath(anna.ObjectID, "contacts"), nil); status != http.StatusServiceUnavailable {
		t.Errorf("FailNext: %d", status)
	}
	s.Throttle("/calendarView/delta", 1, 2*time.Second)
	now := s.Clock.Now()
	if status, hdr, _ := graphRaw(t, s, tok, "GET", calendarPath(anna, now, now.AddDate(0, 1, 0)), nil, nil); status != http.StatusTooManyRequests || hdr.Get("Retry-After") != "2" {
		t.Errorf("Throttle: %d %v", status, hdr)
	}
}

// Same seed, same mailbox: IDs and counts come from the seed and the user.
func TestMailboxesAreDeterministic(t *testing.T) {
	a := m365sim.Start(t, m365sim.Options{Seed: 3, Users: 20})
	b := m365sim.Start(t, m365sim.Options{Seed: 3, Users: 20})
	c := m365sim.Start(t, m365sim.Options{Seed: 4, Users: 20})
	for i := range a.Tenant.Users {
		ua, ub := a.Tenant.Users[i], b.Tenant.Users[i]
		if !ua.HasMailbox {
			continue
		}
		for _, f := range []m365sim.Folder{m365sim.FolderCalendar, m365sim.FolderContacts, m365sim.FolderTasks} {
			if !slices.Equal(a.Mailbox(ua).IDs(f), b.Mailbox(ub).IDs(f)) {
				t.Fatalf("user %d, %s differs", i, f)
			}
		}
		if n := a.Mailbox(ua).Count(m365sim.FolderCalendar); n < 5 || n > 40 {
			t.Errorf("user %d has %d events", i, n)
		}
	}
	anna := "anna.devries@contoso.com"
	if slices.Equal(a.Mailbox(a.Tenant.User(anna)).IDs(m365sim.FolderContacts), c.Mailbox(c.Tenant.User(anna)).IDs(m365sim.FolderContacts)) {
		t.Error("another seed gave the same contacts")
	}
	if a.Mailbox(a.Tenant.User("eva.schmidt@contoso.com")) != nil {
		t.Error("eva has no mailbox")
	}
}
