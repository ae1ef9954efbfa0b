package monitor_test

import (
	"context"
	"math"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// BenchmarkSweep sweeps N users (MODAUTH_BENCH_USERS, default 10,000) of
// an app-only Graph profile against m365sim with injected latency, and
// reports how the sweep compares with what is physically possible:
//
//	time/bound   sweep time ÷ (requests × latency ÷ permitted concurrency); goal ≤ 1.15
//	tokens/min   token requests ÷ the minimum (one per tenant and resource); goal 1.00
//	writes       write transactions per sweep; goal ≤ ceil(N/500)
//
// Each iteration is one sweep; the first is a full sync, later ones delta.
// Run: go test ./monitor -run '^$' -bench Sweep -benchtime 2x
func BenchmarkSweep(b *testing.B) {
	n := 10000
	if s := os.Getenv("MODAUTH_BENCH_USERS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	const latency = 40 * time.Millisecond
	const concurrency = 32

	sim := m365sim.Start(b, m365sim.Options{Users: n + n/10, Seed: 42})
	app := sim.RegisterApp(sim.Tenant, m365sim.AppSpec{DisplayName: "bench", Required: []string{"role:Calendars.ReadWrite", "role:Contacts.ReadWrite", "role:Tasks.ReadWrite.All"}})
	sim.GrantAdminConsent(sim.Tenant, app)
	sec := sim.AddSecret(app, 365*24*time.Hour)
	db := testkit.Store(b, sim)
	p := store.Profile{ID: pid, TenantID: sim.Tenant.ID, ClientID: app.ClientID, Model: store.AppOnly,
		Protocols: []store.Protocol{store.Graph}, Folders: []string{"calendar", "contacts", "tasks"},
		Hosts: testkit.Hosts(sim)}
	if err := db.PutProfile(p); err != nil {
		b.Fatal(err)
	}
	if err := db.SetClientSecret(pid, store.ClientSecret{Value: store.Secret(sec.Value), KeyID: sec.KeyID}); err != nil {
		b.Fatal(err)
	}
	var users []store.User
	for _, u := range sim.Tenant.Users {
		if u.HasMailbox && u.Enabled && len(users) < n {
			users = append(users, store.User{Key: u.ObjectID, Account: u.UPN, UPN: u.UPN, ObjectID: u.ObjectID, Mapping: store.MappingOK})
		}
	}
	if err := db.PutUsers(pid, users...); err != nil {
		b.Fatal(err)
	}
	eng := monitor.New(db, monitor.Options{HTTPClient: sim.HTTPClient(), Now: sim.Clock.Now, Concurrency: concurrency})
	sim.SetLatency(latency)

	var ratio, tokens, writes float64
	b.ResetTimer()
	for range b.N {
		sim.Clock.Advance(16 * time.Minute)
		calls0, tok0, w0 := sim.Requests(""), eng.Stats.TokenRequests.Load(), db.WriteTransactions()
		start := time.Now() // real time: the benchmark measures it, nothing asserts on it
		sum, err := eng.Sweep(context.Background())
		elapsed := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if sum.States[store.StateOK] != len(users) {
			jobs, _ := db.Jobs(pid)
			for _, j := range jobs {
				if j.State != store.StateOK {
					b.Fatalf("states %v; e.g. %s: %+v", sum.States, j.State, j.LastError)
				}
			}
		}
		calls := sim.Requests("") - calls0
		bound := time.Duration(calls) * latency / concurrency
		ratio = elapsed.Seconds() / bound.Seconds()
		tokens = float64(eng.Stats.TokenRequests.Load() - tok0)
		writes = float64(db.WriteTransactions() - w0)
		b.Logf("%d users, %d requests, %v (bound %v), %v token requests, %v write transactions (goal ≤ %v)",
			len(users), calls, elapsed.Round(time.Millisecond), bound.Round(time.Millisecond), tokens, writes, math.Ceil(float64(len(users))/500))
	}
	b.ReportMetric(ratio, "time/bound")
	b.ReportMetric(math.Max(tokens, 1)/1, "tokens/min")
	b.ReportMetric(writes, "writes/sweep")
}
