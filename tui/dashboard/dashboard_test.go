package dashboard

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
	"github.com/modauth/modauth/tui/internal/drive"
)

const dashProfileID = "acme-production"

// bramDelta is a Graph delta link as a checkpoint: the screen must never
// show it.
const bramDelta = "https://graph.microsoft.com/v1.0/users/bram/calendarView/delta?$deltatoken=R0usmcCM996atia_s-secret-ish-token"

// dashFixture is a dashboard on a store with five users, one of each kind:
//
//	anna   ok, 3 items, fresh token
//	bram   sign-in-needed (AADSTS50173), 2 items, refresh token 85 days old
//	carla  never synced: no job, no token, no items
//	dirk   throttled, no items, access token expired
//	eva    consent-needed, 5 items
type dashFixture struct {
	t   *testing.T
	sim *m365sim.Sim
	db  *store.DB
	c   *common.Context
	d   *Model
	now time.Time
}

func newDashFixture(t *testing.T) *dashFixture {
	t.Helper()
	sim := m365sim.Start(t, m365sim.Options{})
	db := testkit.Store(t, sim)
	c := &common.Context{Options: common.Options{DB: db, Hosts: testkit.Hosts(sim), HTTPClient: sim.HTTPClient(), Now: sim.Clock.Now},
		Width: 80, Height: 24, Dark: true, Styles: common.NewStyles(true), Ctx: testkit.Ctx(t)}
	now := c.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.PutProfile(store.Profile{
		ID: dashProfileID, Customer: "Acme", Environment: "production",
		TenantID: "6f1c2a9e-1111-2222-3333-444455556666", TenantDomain: "contoso.onmicrosoft.com",
		Model: store.Delegated, Folders: []string{"calendar", "contacts"}, WizardStep: common.StepVerify,
	}))
	must(db.SetClientSecret(dashProfileID, store.ClientSecret{
		Value: "abc8Q~not-a-real-secret-value", KeyID: "k1",
		Expiry: now.Add(23*24*time.Hour + 4*time.Hour + 30*time.Minute), ExpirySource: store.ExpiryGraph,
	}))
	p, err := db.Profile(dashProfileID)
	must(err)
	c.Profile = p

	users := []store.User{
		{Key: "anna", Name: "Anna de Vries", Account: "anna.devries@contoso.com", UPN: "anna.devries@contoso.com", Mapping: store.MappingOK},
		{Key: "bram", Name: "Bram Janssen", Account: "bjanssen@contoso.com", UPN: "bjanssen@contoso.com", Mapping: store.MappingOK},
		{Key: "carla", Name: "Carla Smit", Account: "carla@contoso.com", UPN: "carla@contoso.com", Mapping: store.MappingOK},
		{Key: "dirk", Name: "Dirk Bos", Account: "dirk@contoso.com", UPN: "dirk@contoso.com", Mapping: store.MappingOK},
		{Key: "eva", Name: "Eva Mulder", Account: "eva@fabrikam.com", UPN: "eva.mulder@contoso.com", Mapping: store.MappingMismatch},
	}
	must(db.PutUsers(dashProfileID, users...))
	must(db.PutJobs(dashProfileID, map[string]store.Job{
		"anna": {State: store.StateOK, LastRun: now.Add(-3 * time.Minute), LastSuccess: now.Add(-3 * time.Minute),
			Checkpoints: map[string]string{"calendar": "https://graph.microsoft.com/v1.0/users/anna/calendarView/delta?$deltatoken=abc"}},
		"bram": {State: store.StateSignInNeeded, LastRun: now.Add(-time.Hour), LastSuccess: now.Add(-50 * time.Hour), Failures: 3,
			Checkpoints: map[string]string{"calendar": bramDelta, "contacts": "H4sIAAAAAAAEAO29B2AcSZYlJi9tynt"},
			LastError: &store.LastError{Code: 50173, HTTPStatus: 400, At: now.Add(-time.Hour),
				Message: "AADSTS50173: The provided grant has expired due to it being revoked,\na fresh auth token is needed."}},
		"dirk": {State: store.StateThrottled, LastRun: now.Add(-10 * time.Minute), LastSuccess: now.Add(-26 * time.Hour),
			LastError: &store.LastError{HTTPStatus: 429, At: now.Add(-10 * time.Minute), Message: "Graph: 429 Too Many Requests"}},
		"eva": {State: store.StateConsentNeeded, LastRun: now.Add(-5 * time.Minute), LastSuccess: now.Add(-9 * 24 * time.Hour),
			LastError: &store.LastError{Code: 65001, At: now.Add(-5 * time.Minute), Message: "AADSTS65001: consent required"}},
	}))
	must(db.PutToken(dashProfileID, "anna", store.Token{RefreshToken: "rt-anna", AccessExpiry: now.Add(42 * time.Minute),
		Issued: now.Add(-30 * 24 * time.Hour), Refreshed: now.Add(-3 * time.Minute)}))
	must(db.PutToken(dashProfileID, "bram", store.Token{RefreshToken: "rt-bram", AccessExpiry: now.Add(-50 * time.Hour),
		Issued: now.Add(-85 * 24 * time.Hour)}))
	must(db.PutToken(dashProfileID, "dirk", store.Token{RefreshToken: "rt-dirk", AccessExpiry: now.Add(-10 * time.Minute),
		Issued: now.Add(-10 * 24 * time.Hour), Refreshed: now.Add(-65 * 24 * time.Hour)}))
	must(db.PutToken(dashProfileID, "eva", store.Token{RefreshToken: "rt-eva", AccessExpiry: now.Add(20 * time.Minute),
		Issued: now.Add(-9 * 24 * time.Hour)}))
	items := func(user, folder string, n int) {
		var its []store.Item
		for i := range n {
			its = append(its, store.Item{ID: fmt.Sprintf("%s-%s-%d", user, folder, i), ChangeKey: "ck"})
		}
		must(db.PutItems(dashProfileID, user, folder, its...))
	}
	items("anna", "calendar", 3)
	items("bram", "calendar", 1)
	items("bram", "contacts", 1)
	items("eva", "calendar", 5)

	f := &dashFixture{t: t, sim: sim, db: db, c: c, now: now}
	f.open()
	return f
}

// open builds the dashboard from the store, as the lead's app does.
func (f *dashFixture) open() {
	f.t.Helper()
	f.d = New(f.c)
	f.reopen()
}

// reopen loads c.Profile again, as Open does, without the engine.
func (f *dashFixture) reopen() {
	f.t.Helper()
	f.d.show(f.c)
	if f.d.loadErr != nil {
		f.t.Fatal(f.d.loadErr)
	}
	f.d.Init(f.c) // the one-second tick is not run
	f.d.SetSize(f.c)
}

// size resizes the terminal, as the frame does on a tea.WindowSizeMsg.
func (f *dashFixture) size(w, h int) {
	f.c.Width, f.c.Height = w, h
	f.d.SetSize(f.c)
}

// reload reads the store again, as after a sweep or an action.
func (f *dashFixture) reload() { f.t.Helper(); f.send(common.NoteMsg{}) }

// send delivers a message and runs what follows, like the harness but
// without the tick, which would re-arm forever.
func (f *dashFixture) send(msg tea.Msg) {
	f.t.Helper()
	f.run(f.d.Update(f.c, msg))
}

func (f *dashFixture) run(cmd tea.Cmd) {
	f.t.Helper()
	drive.Run(cmd, 300*time.Millisecond, func(msg tea.Msg) bool { _, tick := msg.(TickMsg); return tick }, func(msg tea.Msg) {
		if e, ok := msg.(common.ErrMsg); ok {
			f.t.Fatalf("error: %v", e.Err)
		}
		f.send(msg)
	})
}

// change is what the engine publishes for ev's user when it records j:
// the token metadata and item counts as the store holds them.
func (f *dashFixture) change(ev store.Event, j store.Job) jobEventMsg {
	f.t.Helper()
	toks, err := f.db.TokenMetaOf(dashProfileID, []string{ev.User})
	if err != nil {
		f.t.Fatal(err)
	}
	counts, err := f.db.CountItems(dashProfileID, ev.User)
	if err != nil {
		f.t.Fatal(err)
	}
	tok, has := toks[ev.User]
	return jobEventMsg{monitor.Change{Event: ev, Job: j, Token: tok, HasToken: has, Counts: counts}}
}

// keys types like the harness: text, or key names in angle brackets.
func (f *dashFixture) keys(s string) {
	f.t.Helper()
	drive.Type(s, f.send)
}

// screen is the header and the body as the frame lays them out, without
// colours; it fails when they do not fit the terminal.
func (f *dashFixture) screen() string {
	f.t.Helper()
	return dashScreen(f.t, f.d, f.c)
}

func dashScreen(t testing.TB, d *Model, c *common.Context) string {
	t.Helper()
	header := d.Header(c)
	body := strings.Split(d.View(c), "\n")
	if hw := ansi.StringWidth(header); hw > c.Width {
		t.Errorf("the header is %d wide at %d: %q", hw, c.Width, ansi.Strip(header))
	}
	if strings.Contains(header, "\n") {
		t.Errorf("the header has more than one line: %q", header)
	}
	if len(body) > c.BodyHeight() {
		t.Errorf("the body has %d lines, room for %d:\n%s", len(body), c.BodyHeight(), ansi.Strip(strings.Join(body, "\n")))
	}
	for i, l := range body {
		if w := ansi.StringWidth(l); w > c.Width {
			t.Errorf("body line %d is %d wide at %d: %q", i, w, c.Width, ansi.Strip(l))
		}
	}
	return ansi.Strip(header + "\n\n" + strings.Join(body, "\n"))
}

func (f *dashFixture) sees(texts ...string) {
	f.t.Helper()
	s := f.screen()
	for _, text := range texts {
		if !strings.Contains(s, text) {
			f.t.Fatalf("the screen lacks %q:\n%s", text, s)
		}
	}
}

func (f *dashFixture) lacks(texts ...string) {
	f.t.Helper()
	s := f.screen()
	for _, text := range texts {
		if strings.Contains(s, text) {
			f.t.Fatalf("the screen shows %q:\n%s", text, s)
		}
	}
}

// rowKeys are the user keys of the current view, in order.
func (f *dashFixture) rowKeys() []string {
	var out []string
	for _, u := range f.d.Rows() {
		out = append(out, u.Key)
	}
	return out
}

func (f *dashFixture) wantRows(want ...string) {
	f.t.Helper()
	if got := f.rowKeys(); !slices.Equal(got, want) {
		f.t.Fatalf("rows %v, want %v\n%s", got, want, f.screen())
	}
}

func (f *dashFixture) selected() string {
	u, _ := f.d.Selected()
	return u.Key
}

func TestDashboardColumnsFitAt80x24(t *testing.T) {
	f := newDashFixture(t)
	f.send(sweepMsg{at: f.now.Add(-time.Minute), next: f.now.Add(4 * time.Minute)})
	f.sees("acme-production", "secret 23d 4h", "next sweep in 4m",
		"Name▲", "UPN", "State", "Last ok", "Sync-id",
		"Anna de Vries", "anna.devries@contoso.com", "ok", "3m ago", "✓",
		"Carla Smit", "never-synced", "never", "✗",
		"sign-in-needed", "throttled", "consent-needed",
		"all: 5 of 5")
	f.lacks("Access", "RT age", "Last error")

	// A long header at 80 columns loses its least useful parts, not the
	// secret or the stale badge.
	f.send(sweepMsg{at: f.now, next: f.now.Add(4 * time.Minute), err: errors.New("dial tcp: lookup graph.microsoft.com: no such host")})
	f.sees("acme-production", "secret 23d 4h", "stale 1m")

	f.size(120, 40)
	f.sees("Items", "Access", "RT age", "Last error",
		"in 42m", "expired", "85d", "65d", "AADSTS50173", "secret 23d 4h (graph)", "contoso", "delegated", "production")

	// Narrower than 80 still fits.
	f.size(60, 20)
	f.screen()
}

func TestDashboardSortByEachColumnAndReverse(t *testing.T) {
	f := newDashFixture(t)
	f.size(120, 40)
	f.wantRows("anna", "bram", "carla", "dirk", "eva")

	// Every column on screen at 120 wide sorts, both ways: modauth's own,
	// and with the product's sign-ins read, the product's two as well.
	seen := map[dashCol]bool{}
	for _, product := range []bool{false, true} {
		f.d.readsProduct = product
		on := dashLayout(120, product)
		for range on {
			col := f.d.sortCol
			seen[col] = true
			title := dashColSpecs[col].title
			for _, desc := range []bool{false, true} {
				arrow := "▲"
				if desc {
					arrow = "▼"
				}
				f.sees(title + arrow)
				keys := f.rowKeys()
				for i := 1; i < len(keys); i++ {
					a, b := &f.d.rows[f.d.byKey[keys[i-1]]], &f.d.rows[f.d.byKey[keys[i]]]
					c := f.d.cmpCol(a, b, col)
					if (!desc && c > 0) || (desc && c < 0) {
						t.Fatalf("sorted by %s (desc %v): %s before %s\n%s", title, desc, keys[i-1], keys[i], f.screen())
					}
				}
				f.keys("S")
			}
			f.keys("s")
		}
	}
	// All but the product's narrow one-cell column, which 80 wide shows.
	if len(seen) != int(dashCols)-1 || seen[colProduct] || !slices.ContainsFunc(dashLayout(80, true), func(c dashColumn) bool { return c.col == colProduct }) {
		t.Fatalf("s visited %d columns of %d at 120 wide", len(seen), dashCols)
	}
	f.d.readsProduct = false
	if f.d.sortCol != colName {
		t.Fatalf("s did not come back to the name: %v", f.d.sortCol)
	}

	// Some orders spelled out.
	f.keys("S")
	f.wantRows("eva", "dirk", "carla", "bram", "anna")
	f.keys("s") // UPN, ascending again
	f.wantRows("anna", "bram", "carla", "dirk", "eva")
	f.keys("s") // state: well to worst
	f.wantRows("anna", "carla", "dirk", "eva", "bram")
	f.keys("sss") // last ok, sync-id, items: by count
	f.wantRows("carla", "dirk", "bram", "anna", "eva")
	f.keys("S")
	f.wantRows("eva", "anna", "bram", "dirk", "carla")
	f.keys("s") // access: no token, then the soonest expiry
	f.wantRows("carla", "bram", "dirk", "eva", "anna")
	f.keys("s") // rt age: youngest first, no token first of all
	f.wantRows("carla", "anna", "eva", "dirk", "bram")

	// At 80 columns s cycles through what is on screen only.
	f.size(80, 24)
	f.d.sortCol = colSyncID
	f.keys("s")
	if f.d.sortCol != colName {
		t.Fatalf("after sync-id at 80 columns s sorts by %v, want the name", f.d.sortCol)
	}
}

func TestDashboardFiltersWithCounts(t *testing.T) {
	f := newDashFixture(t)
	for _, tc := range []struct {
		key, label string
		want       []string
	}{
		{"2", "failing: 3 of 5", []string{"bram", "dirk", "eva"}},
		{"3", "no sync-id: 2 of 5", []string{"carla", "dirk"}},
		{"4", "sign-in needed: 1 of 5", []string{"bram"}},
		{"5", "expiring: 2 of 5", []string{"bram", "dirk"}},
		{"1", "all: 5 of 5", []string{"anna", "bram", "carla", "dirk", "eva"}},
	} {
		f.keys(tc.key)
		f.sees(tc.label)
		f.wantRows(tc.want...)
	}
	// The cursor stays on its user when a filter keeps them.
	f.keys("<home><down><down><down>")
	if f.selected() != "dirk" {
		t.Fatalf("selected %q, want dirk", f.selected())
	}
	f.keys("3")
	if f.selected() != "dirk" {
		t.Fatalf("after filter 3 selected %q, want dirk", f.selected())
	}
}

func TestDashboardSearchNarrowsAndEscClears(t *testing.T) {
	f := newDashFixture(t)
	f.keys("/")
	if !f.d.Modal() {
		t.Fatal("the search box is open but the screen is not modal")
	}
	f.keys("B")
	f.wantRows("bram", "dirk") // Bram, Dirk Bos
	f.keys("r")
	f.wantRows("bram")
	f.sees(`search "br": 1`)
	f.keys("<backspace><backspace>mulder") // by UPN and name
	f.wantRows("eva")
	f.keys("<enter>")
	if f.d.Modal() {
		t.Fatal("enter did not close the search box")
	}
	f.wantRows("eva")
	f.sees(`search "mulder": 1`)

	// Keys reach the table again; the search and a filter combine.
	f.keys("/<backspace><backspace><backspace><backspace><backspace><backspace>contoso.com<enter>2")
	f.wantRows("bram", "dirk", "eva")
	f.keys("/<esc>")
	if f.d.Modal() {
		t.Fatal("esc did not close the search box")
	}
	f.wantRows("bram", "dirk", "eva")
	f.lacks("search")
	f.keys("1")
	f.wantRows("anna", "bram", "carla", "dirk", "eva")
}

func TestDashboardDetailPane(t *testing.T) {
	f := newDashFixture(t)
	var evs []store.Event
	for i := range 12 {
		evs = append(evs, store.Event{At: f.now.Add(time.Duration(i-12) * time.Hour), Profile: dashProfileID,
			User: "bram", Kind: "sync", State: store.StateOK, Message: fmt.Sprintf("synced round %02d", i)})
	}
	evs = append(evs,
		store.Event{At: f.now.Add(-time.Hour), Profile: dashProfileID, User: "bram", Kind: "token", State: store.StateSignInNeeded, Message: "refresh refused: AADSTS50173"},
		store.Event{At: f.now.Add(-time.Hour), Profile: dashProfileID, User: "anna", Kind: "sync", State: store.StateOK, Message: "anna's own event"},
		store.Event{At: f.now.Add(-time.Hour), Profile: "other-profile", User: "bram", Kind: "sync", Message: "another profile's bram"},
	)
	if _, err := f.db.Append(evs...); err != nil {
		t.Fatal(err)
	}

	f.keys("<down><enter>")
	if f.selected() != "bram" || !f.d.detail || f.d.Modal() {
		t.Fatalf("selected %q, detail %v, modal %v: the detail pane is open and not modal", f.selected(), f.d.detail, f.d.Modal())
	}
	s := f.screen()
	for _, want := range []string{
		"Bram Janssen · bjanssen@contoso.com",
		"State: sign-in-needed", "failed 3 times in a row",
		"refresh token unused for 85d of 90d",
		"Last error (1h ago): AADSTS50173: The provided grant",
		"AADSTS50173 FreshTokenNeeded: the grant was revoked",
		"Fix: The user signs in again",
		"calendar: synced (delta link) · 1 item",
		"contacts: synced (sync state) · 1 item",
		"History",
		"refresh refused: AADSTS50173",
		"synced round 11",
	} {
		if !strings.Contains(s, want) {
			t.Fatalf("the detail lacks %q:\n%s", want, s)
		}
	}
	for _, bad := range []string{"deltatoken", "https://graph", "H4sI", "anna's own event", "another profile's"} {
		if strings.Contains(s, bad) {
			t.Fatalf("the detail shows %q:\n%s", bad, s)
		}
	}
	// Instead of the table at 80x24.
	if strings.Contains(s, "Sync-id") {
		t.Fatalf("at 80x24 the detail should replace the table:\n%s", s)
	}

	// At 120x40 it goes below the table, with the whole history: the last
	// ten events, newest first.
	f.size(120, 40)
	s = f.screen()
	if !strings.Contains(s, "Sync-id") {
		t.Fatalf("at 120x40 the table should stay:\n%s", s)
	}
	newest, older := strings.Index(s, "refresh refused"), strings.Index(s, "synced round 11")
	if newest < 0 || older < 0 || newest > older {
		t.Fatalf("history not newest first:\n%s", s)
	}
	if !strings.Contains(s, "synced round 03") || strings.Contains(s, "synced round 02") {
		t.Fatalf("history should hold the last 10 events:\n%s", s)
	}

	// A new event for this user shows at once, without reading the log.
	f.send(f.change(store.Event{Seq: 1 << 40, At: f.now, Profile: dashProfileID, User: "bram", Kind: "state", State: store.StateSignInNeeded, Message: "still refused"},
		store.Job{State: store.StateSignInNeeded, LastRun: f.now, LastError: &store.LastError{Message: "still refused", At: f.now}}))
	f.sees("still refused")

	// Moving follows with the history of the next user.
	f.keys("<down>")
	f.sees("Carla Smit · carla@contoso.com", "never-synced", "calendar: not synced yet · 0 items", "no events yet")
	f.lacks("refresh refused")
	f.sees("Fix: modauth has not run this user's job yet")

	f.keys("<esc>")
	if f.d.Modal() || f.d.detail {
		t.Fatal("esc did not close the detail pane")
	}
	f.lacks("History")
}

func TestDashboardJobEventMovesRowsAcrossTheFailingFilter(t *testing.T) {
	f := newDashFixture(t)
	f.keys("2")
	f.wantRows("bram", "dirk", "eva")
	f.keys("<down><down>") // on eva
	f.sees("failing: 3 of 5")

	// Anna fails: she enters the view in her sorted place, the cursor stays
	// on Eva, and nothing is rebuilt.
	fail := store.Job{State: store.StateSignInNeeded, LastRun: f.now, LastError: &store.LastError{Code: 70008, Message: "AADSTS70008: expired", At: f.now}}
	f.send(f.change(store.Event{Profile: dashProfileID, User: "anna", Kind: "state", State: store.StateSignInNeeded}, fail))
	if f.d.dirty {
		t.Fatal("a job event rebuilt the whole view")
	}
	f.wantRows("anna", "bram", "dirk", "eva")
	if f.selected() != "eva" {
		t.Fatalf("selected %q, want eva", f.selected())
	}
	f.sees("failing: 4 of 5")

	// Bram is fixed: he leaves the view.
	ok := store.Job{State: store.StateOK, LastRun: f.now, LastSuccess: f.now}
	f.send(f.change(store.Event{Profile: dashProfileID, User: "bram", Kind: "state", State: store.StateOK}, ok))
	f.wantRows("anna", "dirk", "eva")
	f.sees("failing: 3 of 5")
	if f.selected() != "eva" {
		t.Fatalf("selected %q, want eva", f.selected())
	}

	// An event of another profile, or without a user, changes nothing.
	f.send(jobEventMsg{monitor.Change{Event: store.Event{Profile: "other", User: "carla"}, Job: fail}})
	f.send(jobEventMsg{monitor.Change{Event: store.Event{Profile: dashProfileID, Kind: "secret"}, Job: fail}})
	f.wantRows("anna", "dirk", "eva")

	// Sorted by state, descending, a changed state moves the row, and the
	// incremental view equals a full rebuild.
	f.keys("1ssS")
	if f.d.sortCol != colState || !f.d.desc {
		t.Fatalf("sort %v desc %v", f.d.sortCol, f.d.desc)
	}
	f.send(f.change(store.Event{Profile: dashProfileID, User: "carla", Kind: "state", State: store.StateSecretExpired}, store.Job{State: store.StateSecretExpired}))
	got := f.rowKeys()
	if got[0] != "carla" {
		t.Fatalf("carla (secret-expired) should lead a worst-first sort: %v", got)
	}
	f.d.markDirty()
	if want := f.rowKeys(); !slices.Equal(got, want) {
		t.Fatalf("incremental view %v, full rebuild %v", got, want)
	}
	f.sees("all: 5 of 5")
}

func TestDashboardAppliesAChangeWithoutReadingTheStore(t *testing.T) {
	f := newDashFixture(t)
	db := f.db
	reads, unseals := db.ReadTransactions(), db.Unseals()

	// Anna's job fails, her token was refreshed and she has more items: the
	// row takes all of it from the change.
	job := store.Job{State: store.StateSignInNeeded, LastRun: f.now, LastSuccess: f.now.Add(-time.Hour),
		LastError: &store.LastError{Code: 70008, Message: "AADSTS70008: expired", At: f.now}}
	tok := store.Token{AccessExpiry: f.now.Add(time.Hour), Issued: f.now.Add(-2 * 24 * time.Hour), Refreshed: f.now.Add(-time.Minute)}
	f.send(jobEventMsg{monitor.Change{Event: store.Event{Profile: dashProfileID, User: "anna", Kind: "state", State: job.State},
		Job: job, Token: tok, HasToken: true, Counts: map[string]int{"calendar": 7, "contacts": 2}}})
	if n := db.ReadTransactions() - reads; n != 0 {
		t.Errorf("an engine change cost %d read transactions, want 0", n)
	}
	if n := db.Unseals() - unseals; n != 0 {
		t.Errorf("an engine change unsealed %d refresh tokens, want 0", n)
	}
	r := f.d.rows[f.d.byKey["anna"]]
	if r.state() != store.StateSignInNeeded || r.items != 9 || !r.hasToken || !r.rtSince().Equal(tok.Refreshed) || r.errLine != "AADSTS70008: expired" {
		t.Errorf("anna's row: state %s, %d items, token %v since %v, error %q", r.state(), r.items, r.hasToken, r.rtSince(), r.errLine)
	}

	// A user imported since the load costs the read of their record, and
	// still no refresh token.
	if err := db.PutUsers(dashProfileID, store.User{Key: "fred", Name: "Fred Visser", Account: "fred@contoso.com", UPN: "fred@contoso.com", Mapping: store.MappingOK}); err != nil {
		t.Fatal(err)
	}
	reads, unseals = db.ReadTransactions(), db.Unseals()
	f.send(jobEventMsg{monitor.Change{Event: store.Event{Profile: dashProfileID, User: "fred", Kind: "state", State: store.StateOK},
		Job: store.Job{State: store.StateOK, LastRun: f.now, LastSuccess: f.now}, Counts: map[string]int{"calendar": 4}}})
	if n := db.ReadTransactions() - reads; n != 1 {
		t.Errorf("a new user's change cost %d read transactions, want 1 (the user record)", n)
	}
	if n := db.Unseals() - unseals; n != 0 {
		t.Errorf("a new user's change unsealed %d refresh tokens, want 0", n)
	}
	f.wantRows("anna", "bram", "carla", "dirk", "eva", "fred")
	if r := f.d.rows[f.d.byKey["fred"]]; r.state() != store.StateOK || r.items != 4 || r.hasToken {
		t.Errorf("fred's row: state %s, %d items, token %v", r.state(), r.items, r.hasToken)
	}
}

func TestDashboardSecretCountdownLevels(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		left time.Duration
		want dashLevel
	}{
		{90 * day, levelNormal},
		{30*day + time.Second, levelNormal},
		{30 * day, levelWarn},
		{15 * day, levelWarn},
		{14 * day, levelWarnBold},
		{8 * day, levelWarnBold},
		{7 * day, levelError},
		{time.Hour, levelError},
		{0, levelError},
		{-3 * day, levelError},
	} {
		if got := secretLevel(tc.left); got != tc.want {
			t.Errorf("secretLevel(%v) = %v, want %v", tc.left, got, tc.want)
		}
	}

	f := newDashFixture(t)
	if lvl := f.d.secretLevel(f.now); lvl != levelWarn {
		t.Fatalf("23 days left: level %v, want warn", lvl)
	}
	// The countdown is live: the header reads the clock each frame.
	f.sim.Clock.Advance(16 * 24 * time.Hour)
	if lvl := f.d.secretLevel(f.c.Now()); lvl != levelWarnBold {
		t.Fatalf("7 days 4 hours left: level %v, want warn bold", lvl)
	}
	f.sees("secret 7d 4h")
	f.sim.Clock.Advance(8 * 24 * time.Hour)
	f.sees("secret expired 19h ago")

	// Each level has its own look when there are colours.
	t.Setenv("NO_COLOR", "")
	st := common.NewStyles(true)
	looks := map[string]dashLevel{}
	for _, l := range []dashLevel{levelNormal, levelWarn, levelWarnBold, levelError} {
		looks[l.style(&st).Render("x")] = l
	}
	if len(looks) != 4 {
		t.Errorf("the four levels render alike in pairs: %v", looks)
	}
}

func TestDashboardStaleBadgeAfterAFailedSweep(t *testing.T) {
	f := newDashFixture(t)
	f.size(120, 40)
	f.send(sweepMsg{at: f.now.Add(-12 * time.Minute), next: f.now.Add(4 * time.Minute)})
	f.sees("next sweep in 4m")
	f.lacks("stale", "could not be reached")

	f.send(sweepMsg{at: f.now, next: f.now.Add(5 * time.Minute), err: errors.New("dial tcp: lookup login.microsoftonline.com: no such host")})
	f.sees("stale 12m", "next sweep in 5m", "Microsoft could not be reached: dial tcp", "showing data from 12m ago",
		// The data is still there.
		"Anna de Vries", "Bram Janssen", "all: 5 of 5")

	f.sim.Clock.Advance(6 * time.Minute)
	f.sees("stale 18m", "sweep due")

	f.send(sweepMsg{at: f.c.Now(), next: f.c.Now().Add(5 * time.Minute)})
	f.lacks("stale", "could not be reached")
}

func TestDashboardScrollsAndKeepsTheCursorOnReload(t *testing.T) {
	f := newDashFixture(t)
	var more []store.User
	for i := range 60 {
		more = append(more, store.User{Key: fmt.Sprintf("u%02d", i), Name: fmt.Sprintf("User %02d", i), Account: fmt.Sprintf("u%02d@contoso.com", i)})
	}
	if err := f.db.PutUsers(dashProfileID, more...); err != nil {
		t.Fatal(err)
	}
	f.reload()
	f.sees("all: 65 of 65", "rows 1-")
	f.keys("<end>")
	f.sees("User 59", "of 65")
	f.lacks("Anna de Vries")
	f.keys("<home><pgdown>")
	page := f.d.win.Rows
	if page < 5 || f.d.win.Cursor != page {
		t.Fatalf("pgdown moved to %d, page %d", f.d.win.Cursor, page)
	}
	f.keys("<pgup><down>")
	if f.selected() != "bram" {
		t.Fatalf("selected %q, want bram", f.selected())
	}
	// A reload (after a sweep or an action) keeps the filter, the sort and
	// the user under the cursor.
	f.keys("S")
	sel := f.selected()
	if err := f.db.PutUsers(dashProfileID, store.User{Key: "aaron", Name: "Aaron", Account: "aaron@contoso.com"}); err != nil {
		t.Fatal(err)
	}
	f.reload()
	if f.selected() != sel || !f.d.desc {
		t.Fatalf("after a reload selected %q (want %q), desc %v", f.selected(), sel, f.d.desc)
	}
	f.sees("all: 66 of 66")
}

func TestDashboardAppOnlyHasNoTokenAges(t *testing.T) {
	f := newDashFixture(t)
	f.c.Profile.Model = store.AppOnly
	f.reopen()
	f.size(120, 40)
	f.keys("5")
	f.sees("app-only", "expiring: 0 of 5")
	f.keys("1")
	s := f.screen()
	if n := strings.Count(s, "—"); n != 10 {
		t.Fatalf("want — for access and refresh token age of all 5 users, got %d:\n%s", n, s)
	}
	if strings.Contains(s, "in 42m") || strings.Contains(s, "85d") {
		t.Fatalf("an app-only profile shows token ages:\n%s", s)
	}
}

// The next sweep is timed on the interface's clock: a test's clock stands
// days or years away from the wall clock, and the timer must still wait
// the sweep interval, not fire at once.
func TestDashboardTimesTheNextSweepOnItsClock(t *testing.T) {
	f := newDashFixture(t)
	cmd := f.d.Update(f.c, sweepMsg{at: f.now, next: f.now.Add(15 * time.Minute)})
	fired := false
	drive.Run(cmd, 1500*time.Millisecond, nil, func(msg tea.Msg) {
		_, tick := msg.(sweepTickMsg)
		fired = fired || tick
	})
	if fired {
		t.Error("the next sweep started at once, not 15 minutes on")
	}
}

// TestDashboardStatesSortAndShowByMonitorStates: every state sorts in the
// order of monitor.States (worst last, ascending), has a label that fits
// the state column whole and no two alike, and a failing state is red.
func TestDashboardStatesSortAndShowByMonitorStates(t *testing.T) {
	labels := map[string]store.JobState{}
	for i, s := range monitor.States {
		if i > 0 && dashStateRank(s) >= dashStateRank(monitor.States[i-1]) {
			t.Errorf("%s sorts as well as or worse than %s", s, monitor.States[i-1])
		}
		l := dashStateLabel(s)
		if len(l) > dashColSpecs[colState].width {
			t.Errorf("%s: label %q is cut in %d cells", s, l, dashColSpecs[colState].width)
		}
		if o, ok := labels[l]; ok {
			t.Errorf("%s and %s both show as %q", s, o, l)
		}
		labels[l] = s
		if monitor.NeedsPerson(s) && dashStateInk(s) != inkError {
			t.Errorf("%s needs a person but is not red", s)
		}
	}
	if got, n := worstState(map[store.JobState]int{store.StateThrottled: 3, store.StateMailboxDenied: 1, store.StateOK: 9}); got != store.StateMailboxDenied || n != 1 {
		t.Errorf("worst of throttled and mailbox-access-denied: %s (%d)", got, n)
	}
}

// A profile of mail protocols only (Flowfact) proves sign-ins and keeps no
// sync-ids: its users show — and are never "no sync-id", which would send
// the admin after a fault that is not there.
func TestDashboardMailProfileHasNoSyncIDs(t *testing.T) {
	f := newDashFixture(t)
	p := f.c.Profile
	p.Protocols = []store.Protocol{store.IMAP, store.POP, store.SMTP}
	if err := f.db.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	f.c.Profile, _ = f.db.Profile(p.ID)
	f.reopen()
	f.keys("3")
	f.sees("no sync-id: 0 of 5")
	f.keys("1")
	if s := f.screen(); strings.Contains(s, "✗") && !strings.Contains(s, "✗ ") {
		t.Errorf("a mail profile's sync-id column shows ✗:\n%s", s)
	}
	if strings.Count(f.screen(), "—") < 5 {
		t.Errorf("want — in the sync-id column of all 5 users:\n%s", f.screen())
	}
}

// While the wizard is shown over the dashboard (n, c), the engine's own
// messages keep it going: a change is taken and the feed read on, a sweep's
// end arms the next one; the screen's own ticks wait for Open. (Before,
// they reached the wizard and were lost: sweeps stopped until a restart.)
func TestDashboardEngineRunsBehindTheWizard(t *testing.T) {
	f := newDashFixture(t)
	f.d.Open(f.c) // starts the engine; its first commands are not run here
	if _, ok := f.d.Background(f.c, tea.KeyPressMsg{Code: 'q', Text: "q"}); ok {
		t.Error("a key is not the engine's")
	}
	listen, ok := f.d.Background(f.c, jobEventMsg{})
	if !ok || listen == nil {
		t.Fatal("an engine change behind the wizard does not read the feed on")
	}
	next, ok := f.d.Background(f.c, sweepMsg{at: f.now, next: f.now.Add(15 * time.Minute)})
	if !ok || next == nil || f.d.run.last == nil {
		t.Error("a sweep's end behind the wizard does not arm the next sweep")
	}
}

// TestDashboardOnEtcdShowsTheMonitorsSweeps: on the store the monitors
// share in etcd the dashboard sweeps nothing itself (no token request),
// says who does, and shows what a monitor recorded at its next re-read.
func TestDashboardOnEtcdShowsTheMonitorsSweeps(t *testing.T) {
	f := newDashFixture(t)
	f.size(120, 40)
	f.c.Owner = monitor.Onlooker{}
	f.run(f.d.Open(f.c))
	f.sees("swept by the monitors on etcd")
	f.lacks("next sweep")

	// A monitor elsewhere records Carla's first sync.
	if err := f.db.PutJobs(dashProfileID, map[string]store.Job{"carla": {State: store.StateOK, LastRun: f.now, LastSuccess: f.now}}); err != nil {
		t.Fatal(err)
	}
	f.send(sweepTickMsg{})
	if line := lineWith(f.screen(), "Carla Smit"); !strings.Contains(line, "ok") || strings.Contains(line, "never") {
		t.Errorf("Carla's row after the re-read: %q", line)
	}
	if n := f.sim.Requests("/oauth2/v2.0/token"); n != 0 {
		t.Errorf("the dashboard made %d token request(s) on the monitors' store", n)
	}
}

// lineWith is the screen's first line holding s.
func lineWith(screen, s string) string {
	for line := range strings.Lines(screen) {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
