package monitor_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

const (
	anna   = "anna.devries@contoso.com"
	bram   = "bjanssen@contoso.onmicrosoft.com"
	claire = "claire.dubois@contoso.com"
	eva    = "eva.schmidt@contoso.com"
)

var folders = []m365sim.Folder{m365sim.FolderCalendar, m365sim.FolderContacts, m365sim.FolderTasks}

func TestGraphSyncFirstDeltaAndResync(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.delegatedProfile()
	f.user("AV", anna, store.MappingOK)
	f.signIn("AV", anna)
	ev := f.subscribe()

	sum := f.sweep()
	if sum.States[store.StateOK] != 1 {
		t.Fatalf("states %v", sum.States)
	}
	for _, fo := range folders {
		f.synced("AV", anna, fo)
	}
	j := f.job("AV")
	if j.LastSuccess.IsZero() || j.Checkpoints["calendar"] == "" || j.Counts["contacts"] != f.sim.Mailbox(f.sim.Tenant.User(anna)).Count(m365sim.FolderContacts) {
		t.Errorf("job %+v", j)
	}

	// Delta: an added event, an updated contact, a deleted task.
	mb := f.sim.Mailbox(f.sim.Tenant.User(anna))
	added := mb.Add(m365sim.FolderCalendar)
	mb.Touch(m365sim.FolderContacts, mb.IDs(m365sim.FolderContacts)[0])
	if tasks := mb.IDs(m365sim.FolderTasks); len(tasks) > 0 {
		mb.Delete(m365sim.FolderTasks, tasks[0])
	}
	f.next()
	f.sweep()
	for _, fo := range folders {
		f.synced("AV", anna, fo)
	}
	items, _ := f.db.Items(pid, "AV", "calendar")
	found := false
	for _, it := range items {
		found = found || it.ID == added
	}
	if !found {
		t.Error("the added event has no sync-id")
	}

	// An expired delta token means a full resync, not a failure.
	f.sim.ExpireDeltaTokens(f.sim.Tenant.User(anna))
	mb.Add(m365sim.FolderContacts)
	f.next()
	f.sweep()
	if j := f.job("AV"); j.State != store.StateOK {
		t.Fatalf("after expired delta: %s %v", j.State, j.LastError)
	}
	for _, fo := range folders {
		f.synced("AV", anna, fo)
	}
	if got := ev.forUser("AV"); len(got) != 1 || got[0].State != store.StateOK {
		t.Errorf("events %+v: want one state change (never synced -> ok)", got)
	}
}

func TestTokensAreRenewedOnlyWhenNeeded(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.delegatedProfile()
	for _, u := range []struct{ key, upn string }{{"AV", anna}, {"BJ", bram}, {"CD", claire}} {
		f.user(u.key, u.upn, store.MappingOK)
		f.signIn(u.key, u.upn)
	}
	before, _ := f.db.Token(pid, "AV")
	f.sweep()
	if n := f.eng.Stats.TokenRequests.Load(); n != 3 {
		t.Errorf("first sweep: %d token requests, want one per user", n)
	}
	after, _ := f.db.Token(pid, "AV")
	if after.RefreshToken == before.RefreshToken || after.RefreshToken.IsZero() {
		t.Error("the rotated refresh token was not stored")
	}
	f.next()
	f.sweep()
	if n := f.eng.Stats.TokenRequests.Load(); n != 3 {
		t.Errorf("second sweep within the token's life: %d token requests in all, want still 3", n)
	}
	f.sim.Clock.Advance(90 * time.Minute) // past every access token's life
	f.sweep()
	if n := f.eng.Stats.TokenRequests.Load(); n != 6 {
		t.Errorf("after expiry: %d token requests in all, want 6", n)
	}
}

// Each failure state is reached by its fault, with its fix, and the
// other users' jobs go on untouched.
func TestFailureStatesLeaveOthersAlone(t *testing.T) {
	cases := []struct {
		name  string
		fault func(f *fixture)
		state store.JobState
	}{
		{"sessions revoked", func(f *fixture) { f.sim.RevokeSessions(f.sim.Tenant.User(bram)) }, store.StateSignInNeeded},
		{"90 days unused", func(f *fixture) { f.sim.AgeRefreshTokens(f.sim.Tenant.User(bram), 91*24*time.Hour) }, store.StateSignInNeeded},
		{"MFA required", func(f *fixture) { f.sim.RequireMFA(f.sim.Tenant.User(bram)) }, store.StateSignInNeeded},
		{"throttled mailbox", func(f *fixture) { f.sim.ThrottleMailbox(f.sim.Tenant.User(bram), 50, 30*time.Second) }, store.StateThrottled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, m365sim.Options{})
			f.delegatedProfile()
			f.user("AV", anna, store.MappingOK)
			f.user("BJ", bram, store.MappingMismatch)
			f.signIn("AV", anna)
			f.signIn("BJ", bram)
			c.fault(f)
			f.sim.Clock.Advance(90 * time.Minute) // tokens must be refreshed
			f.sweep()
			if j := f.job("AV"); j.State != store.StateOK {
				t.Errorf("anna: %s %v", j.State, j.LastError)
			}
			j := f.job("BJ")
			if j.State != c.state || j.LastError == nil || monitor.Fixes[j.State] == "" {
				t.Errorf("bram: %s %+v", j.State, j.LastError)
			}
			if !j.NextRun.After(f.sim.Clock.Now()) {
				t.Error("a failed job must be scheduled again")
			}
		})
	}
}

func TestMappingAndSignInStates(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.delegatedProfile()
	f.user("AV", anna, store.MappingOK)
	f.signIn("AV", anna)
	f.user("CD", claire, store.MappingOK) // never signed in
	f.user("XX", "anna.devris@contoso.com", store.MappingNotFound)
	f.user("ES", eva, store.MappingNoMailbox)
	sum := f.sweep()
	want := map[string]store.JobState{"AV": store.StateOK, "CD": store.StateSignInNeeded, "XX": store.StateUPNInvalid, "ES": store.StateNoMailbox}
	for key, st := range want {
		if j := f.job(key); j.State != st {
			t.Errorf("%s: %s, want %s (%v)", key, j.State, st, j.LastError)
		}
	}
	if sum.Users != 4 || sum.Jobs() != 4 || sum.States[store.StateOK] != 1 || sum.Failing() != 3 {
		t.Errorf("summary %+v", sum)
	}
}

func TestSecretExpiredAppOnly(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.app = f.sim.RegisterApp(f.sim.Tenant, m365sim.AppSpec{DisplayName: "moveIT (production)", Required: []string{"role:Calendars.ReadWrite", "role:Contacts.ReadWrite", "role:Tasks.ReadWrite.All"}})
	f.sim.GrantAdminConsent(f.sim.Tenant, f.app)
	sec := f.sim.AddSecret(f.app, 30*24*time.Hour)
	f.putProfile(store.Profile{Model: store.AppOnly, Protocols: []store.Protocol{store.Graph}})
	if err := f.db.SetClientSecret(pid, store.ClientSecret{Value: store.Secret(sec.Value), KeyID: sec.KeyID, Expiry: sec.End}); err != nil {
		t.Fatal(err)
	}
	f.user("AV", anna, store.MappingOK)
	f.user("CD", claire, store.MappingOK)
	f.sweep()
	for _, key := range []string{"AV", "CD"} {
		if j := f.job(key); j.State != store.StateOK {
			t.Fatalf("%s: %s %v", key, j.State, j.LastError)
		}
	}
	if n := f.eng.Stats.TokenRequests.Load(); n != 1 {
		t.Errorf("%d token requests: app-only needs one per tenant and resource", n)
	}
	f.sim.ExpireSecret(f.app, sec.KeyID)
	f.sim.Clock.Advance(2 * time.Hour)
	f.sweep()
	j := f.job("AV")
	if j.State != store.StateSecretExpired || j.LastError.Code != 7000222 || !strings.Contains(monitor.Fixes[j.State], "rotate") {
		t.Errorf("after expiry: %s %+v", j.State, j.LastError)
	}
}

func TestUnreachableKeepsLastGoodData(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.delegatedProfile()
	f.user("AV", anna, store.MappingOK)
	f.signIn("AV", anna)
	f.sweep()
	good := f.job("AV")
	f.sim.FailNext("/v1.0/", 100, 503)
	f.next()
	f.sweep()
	j := f.job("AV")
	if j.State != store.StateUnreachable || !j.LastSuccess.Equal(good.LastSuccess) || j.Checkpoints["calendar"] != good.Checkpoints["calendar"] {
		t.Errorf("job %+v", j)
	}
	if items, _ := f.db.Items(pid, "AV", "contacts"); len(items) == 0 {
		t.Error("the synced items were dropped")
	}
}

// A delta sync reads only the stored items its changes name, not the
// whole folder: with 20,000 more items stored in a folder, a steady sweep
// allocates no more than a megabyte (it decoded every one of them).
func TestDeltaSyncReadsOnlyTheItemsItChanges(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.delegatedProfile()
	f.user("AV", anna, store.MappingOK)
	f.signIn("AV", anna)
	f.sweep()
	many := make([]store.Item, 20_000)
	for i := range many {
		many[i] = store.Item{ID: fmt.Sprintf("AAMkAGI2-stored-%05d", i), ChangeKey: "EQAAABYAAAB", LastModified: f.sim.Clock.Now()}
	}
	if err := f.db.PutItems(pid, "AV", "contacts", many...); err != nil {
		t.Fatal(err)
	}
	mb := f.sim.Mailbox(f.sim.Tenant.User(anna))
	mb.Touch(m365sim.FolderContacts, mb.IDs(m365sim.FolderContacts)[0])
	f.next()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f.sweep()
	runtime.ReadMemStats(&after)
	if j := f.job("AV"); j.State != store.StateOK {
		t.Fatalf("delta sweep: %s %v", j.State, j.LastError)
	}
	got := after.TotalAlloc - before.TotalAlloc
	t.Logf("the delta sweep allocated %d kB", got>>10)
	if got > 1<<20 {
		t.Errorf("a delta sweep of one user allocated %d kB", got>>10)
	}
}

func TestWriteTransactionsPerSweep(t *testing.T) {
	f := newFixture(t, m365sim.Options{Users: 40})
	f.delegatedProfile()
	n := 0
	for _, u := range f.sim.Tenant.Users {
		if u.HasMailbox && u.Enabled && n < 30 {
			key := strings.Split(u.UPN, "@")[0]
			f.user(key, u.UPN, store.MappingOK)
			f.signIn(key, u.UPN)
			n++
		}
	}
	f.eng = monitor.New(f.db, monitor.Options{HTTPClient: f.sim.HTTPClient(), Now: f.sim.Clock.Now, Sleep: testkit.Sleep(f.sim), ChunkSize: 10})
	before := f.db.WriteTransactions()
	f.sweep()
	if got := f.db.WriteTransactions() - before; got != 4 { // 3 chunks, plus one for renewed tokens
		t.Errorf("first sweep of 30 users in chunks of 10: %d write transactions, want 4", got)
	}
	f.next()
	before = f.db.WriteTransactions()
	f.sweep()
	if got := f.db.WriteTransactions() - before; got != 3 {
		t.Errorf("steady sweep: %d write transactions, want 3", got)
	}
}

func TestSyncNowRunsOnlyTheNamedUsers(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.delegatedProfile()
	f.user("AV", anna, store.MappingOK)
	f.user("CD", claire, store.MappingOK)
	f.signIn("AV", anna)
	f.sweep()
	first, claireFirst := f.job("AV").LastRun, f.job("CD").LastRun
	f.sim.Clock.Advance(time.Minute) // not due for another 14 minutes
	sum, err := f.eng.SyncNow(testkit.Ctx(t), pid, "AV")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Users != 1 || !f.job("AV").LastRun.After(first) || !f.job("CD").LastRun.Equal(claireFirst) {
		t.Errorf("summary %+v; anna ran %v, claire %v", sum, f.job("AV").LastRun, f.job("CD").LastRun)
	}
}

// The secret's expiry comes from Graph when the app may read its own
// registration; otherwise the entered date stays, with its source.
func TestSecretExpiryFromGraph(t *testing.T) {
	for _, canRead := range []bool{true, false} {
		f := newFixture(t, m365sim.Options{})
		required := []string{"role:Calendars.ReadWrite"}
		if canRead {
			required = append(required, "role:Application.Read.All")
		}
		f.app = f.sim.RegisterApp(f.sim.Tenant, m365sim.AppSpec{DisplayName: "x", Required: required})
		f.sim.GrantAdminConsent(f.sim.Tenant, f.app)
		sec := f.sim.AddSecret(f.app, 100*24*time.Hour)
		f.putProfile(store.Profile{Model: store.AppOnly, Protocols: []store.Protocol{store.Graph}})
		entered := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := f.db.SetClientSecret(pid, store.ClientSecret{Value: store.Secret(sec.Value), Expiry: entered, ExpirySource: store.ExpiryEntered}); err != nil {
			t.Fatal(err)
		}
		f.sweep()
		cs, _ := f.db.ClientSecret(pid)
		p, _ := f.db.Profile(pid)
		switch {
		case canRead && (cs.ExpirySource != store.ExpiryGraph || !cs.Expiry.Equal(sec.End) || cs.KeyID != sec.KeyID || p.SecretExpirySource != store.ExpiryGraph):
			t.Errorf("readable: %+v, profile source %s", cs, p.SecretExpirySource)
		case !canRead && (cs.ExpirySource != store.ExpiryEntered || !cs.Expiry.Equal(entered)):
			t.Errorf("not readable: %+v", cs)
		}
	}
}

// An application access policy that leaves a user's mailbox out puts that
// user in blocked-by-policy with the policy's fix, not consent-needed:
// the others sync.
func TestAppAccessPolicyBlocksAMailbox(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.app = f.sim.RegisterApp(f.sim.Tenant, m365sim.AppSpec{DisplayName: "x", Required: []string{"role:Calendars.ReadWrite", "role:Contacts.ReadWrite", "role:Tasks.ReadWrite.All"}})
	f.sim.GrantAdminConsent(f.sim.Tenant, f.app)
	sec := f.sim.AddSecret(f.app, 100*24*time.Hour)
	f.putProfile(store.Profile{Model: store.AppOnly, Protocols: []store.Protocol{store.Graph}, Folders: []string{"calendar"}})
	if err := f.db.SetClientSecret(pid, store.ClientSecret{Value: store.Secret(sec.Value)}); err != nil {
		t.Fatal(err)
	}
	f.user("AV", anna, store.MappingOK)
	f.user("CD", "claire.dubois@contoso.com", store.MappingOK)
	f.sim.RestrictAppAccess(f.app.ClientID, f.sim.Tenant.User("claire.dubois@contoso.com"))
	f.sweep()
	if j := f.job("CD"); j.State != store.StateOK {
		t.Errorf("claire, in the policy: %s %+v", j.State, j.LastError)
	}
	j := f.job("AV")
	if j.State != store.StateBlockedByPolicy || !strings.Contains(monitor.FixFor(j), "ApplicationAccessPolicy") {
		t.Errorf("anna, outside the policy: %s, fix %q", j.State, monitor.FixFor(j))
	}
}
