package monitor_test

import (
	"sync"
	"testing"
	"time"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

const pid = "acme-production"

var graphScopes = testkit.GraphScopes

// fixture is a simulator, a store and an engine on one simulated clock.
type fixture struct {
	t   *testing.T
	sim *m365sim.Sim
	db  *store.DB
	eng *monitor.Engine
	app *m365sim.App
}

func newFixture(t *testing.T, opts m365sim.Options) *fixture {
	t.Helper()
	f := &fixture{t: t, sim: m365sim.Start(t, opts)}
	db := testkit.Store(t, f.sim)
	f.db = db
	f.eng = monitor.New(db, monitor.Options{HTTPClient: f.sim.HTTPClient(), Now: f.sim.Clock.Now, Sleep: testkit.Sleep(f.sim), Concurrency: 8})
	return f
}

// delegatedProfile registers a per-user Graph app with admin consent and
// stores its profile.
func (f *fixture) delegatedProfile() {
	f.app = f.sim.RegisterApp(f.sim.Tenant, m365sim.AppSpec{
		DisplayName: "Generic Exchange (production)", PublicRedirectURIs: []string{"http://localhost"}, FallbackPublicClient: true,
		Required: []string{"Calendars.ReadWrite", "Contacts.ReadWrite", "Tasks.ReadWrite", "offline_access", "openid", "profile", "User.Read"},
	})
	f.sim.GrantAdminConsent(f.sim.Tenant, f.app)
	f.putProfile(store.Profile{Model: store.Delegated, Protocols: []store.Protocol{store.Graph}, Scopes: graphScopes})
}

// monitorApp registers the profile's read-only monitoring app, as
// "register for me" does, and stores it with its secret.
func (f *fixture) monitorApp() {
	f.t.Helper()
	plan, err := appreg.NewPlan(appreg.Scenario{Product: "Generic", Environment: "production", Model: store.Delegated, Protocols: []store.Protocol{store.Graph}, Data: []appreg.Data{appreg.Calendar}})
	if err != nil {
		f.t.Fatal(err)
	}
	mon, sec := testkit.RegisterMonitor(f.sim, plan)
	p, err := f.db.Profile(pid)
	if err != nil {
		f.t.Fatal(err)
	}
	p.Monitor = &store.MonitorApp{ClientID: mon.ClientID, ServicePrincipalID: mon.SPObjectID}
	if err := f.db.PutProfile(p); err != nil {
		f.t.Fatal(err)
	}
	if err := f.db.SetMonitorSecret(pid, store.ClientSecret{Value: store.Secret(sec.Value), KeyID: sec.KeyID, Expiry: sec.End}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) putProfile(p store.Profile) {
	p.ID, p.Customer, p.Environment = pid, "Acme", "production"
	p.TenantID, p.ClientID = f.sim.Tenant.ID, f.app.ClientID
	p.Folders = []string{"calendar", "contacts", "tasks"}
	p.Hosts = testkit.Hosts(f.sim)
	if err := f.db.PutProfile(p); err != nil {
		f.t.Fatal(err)
	}
}

// user stores a product user for a simulator user, resolved as the
// wizard would.
func (f *fixture) user(key, upn string, mapping store.MappingStatus) store.User {
	u := store.User{Key: key, Name: key, Account: upn, UPN: upn, Mapping: mapping}
	if su := f.sim.Tenant.User(upn); su != nil {
		u.ObjectID, u.PrimarySMTP = su.ObjectID, su.Mail
	}
	if err := f.db.PutUsers(pid, u); err != nil {
		f.t.Fatal(err)
	}
	return u
}

// signIn signs the user in by device code and stores the token, as the
// wizard's consent step does.
func (f *fixture) signIn(key, upn string) { f.t.Helper(); f.signInScopes(key, upn, graphScopes) }

func (f *fixture) signInScopes(key, upn string, scopes []string) {
	f.t.Helper()
	p, err := f.db.Profile(pid)
	if err != nil {
		f.t.Fatal(err)
	}
	testkit.SignIn(f.t, f.db, f.sim, p, key, upn, scopes)
}

func (f *fixture) sweep() monitor.Summary {
	f.t.Helper()
	sum, err := f.eng.Sweep(testkit.Ctx(f.t))
	if err != nil {
		f.t.Fatal(err)
	}
	return sum
}

// next moves the clock past the sweep interval, so every job is due.
func (f *fixture) next() { f.sim.Clock.Advance(16 * time.Minute) }

func (f *fixture) job(key string) store.Job {
	f.t.Helper()
	j, err := f.db.Job(pid, key)
	if err != nil {
		f.t.Fatal(err)
	}
	return j
}

// synced checks that the stored sync-ids of a folder are exactly the
// mailbox's items (within the calendar window for events).
func (f *fixture) synced(key, upn string, folder m365sim.Folder) {
	f.t.Helper()
	items, err := f.db.Items(pid, key, string(folder))
	if err != nil {
		f.t.Fatal(err)
	}
	if n := f.job(key).Counts[string(folder)]; n != len(items) {
		f.t.Errorf("%s %s: the job counts %d items, the store holds %d", key, folder, n, len(items))
	}
	got := map[string]bool{}
	for _, it := range items {
		got[it.ID] = true
	}
	want := f.sim.Mailbox(f.sim.Tenant.User(upn)).IDs(folder)
	if folder == m365sim.FolderCalendar {
		now := f.sim.Clock.Now()
		if n := f.sim.Mailbox(f.sim.Tenant.User(upn)).EventsBetween(now.Add(-30*24*time.Hour), now.Add(365*24*time.Hour)); n != len(items) {
			f.t.Errorf("%s %s: %d stored, %d in the window", key, folder, len(items), n)
		}
		return
	}
	if len(got) != len(want) {
		f.t.Errorf("%s %s: %d stored, mailbox has %d", key, folder, len(got), len(want))
	}
	for _, id := range want {
		if !got[id] {
			f.t.Errorf("%s %s: item %s not stored", key, folder, id)
		}
	}
}

// events collects what the engine publishes.
type events struct {
	mu  sync.Mutex
	all []store.Event
}

func (f *fixture) subscribe() *events {
	ch, stop := f.eng.Subscribe()
	f.t.Cleanup(stop)
	e := &events{}
	go func() {
		for c := range ch {
			e.mu.Lock()
			e.all = append(e.all, c.Event)
			e.mu.Unlock()
		}
	}()
	return e
}

func (e *events) forUser(key string) []store.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []store.Event
	for _, ev := range e.all {
		if ev.User == key {
			out = append(out, ev)
		}
	}
	return out
}
