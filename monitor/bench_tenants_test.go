package monitor_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// BenchmarkSweep100kUsers50Tenants sweeps 50 tenants on one simulator,
// one profile each, half app-only and half delegated (every user with a
// stored refresh token), with 40 ms of latency injected by the simulator
// on every request, and reports:
//
//	sweep/physical-bound   sweep time ÷ max over tenants of
//	                       (requests to the tenant × latency ÷ request slots).
//	                       Tenants have slots of their own and are swept at
//	                       once, so the busiest tenant bounds the sweep;
//	                       goal ≤ 1.15
//	sweep/cpu-bound        sweep time ÷ (busy CPU time ÷ GOMAXPROCS): 1.00 means
//	                       every processor was busy all along, the
//	                       simulator's share included (it runs in-process)
//	token-requests/minimum token requests ÷ (one client-credentials token
//	                       per app-only profile and audience + one refresh
//	                       per delegated user and audience); goal 1.00
//	peak-RSS-MiB           the process's peak resident set (Linux VmHWM),
//	                       simulator, mapped database pages and all; goal ≤ 1024
//
// Each iteration moves the clock 2 h, past the longest access-token
// lifetime the simulator grants (90 min), so every token has expired and
// the minimum above is exact. The first iteration is a full sync, later
// ones delta. Sub-benchmarks name the total users.
//
// Run: go test ./monitor -run '^$' -bench Sweep100kUsers50Tenants -benchtime 1x -timeout 60m
func BenchmarkSweep100kUsers50Tenants(b *testing.B) {
	for _, total := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", total), func(b *testing.B) { benchTenants(b, 50, total/50) })
	}
}

const (
	benchLatency = 40 * time.Millisecond
	benchSlots   = 16 // the engine's default request slots per tenant
)

func benchTenants(b *testing.B, tenants, perTenant int) {
	sim := m365sim.Start(b, m365sim.Options{Seed: 42})
	db := testkit.Store(b, sim)
	hosts := testkit.Hosts(sim)
	f := benchFleet{tenantOf: map[string]int{}}
	for i := range tenants {
		f.addTenant(b, sim, db, hosts, i, perTenant)
	}
	eng := monitor.New(db, monitor.Options{HTTPClient: sim.HTTPClient(), Now: sim.Clock.Now, Concurrency: benchSlots,
		BackupEvery: -1}) // a backup is daily work, not a sweep's
	sim.SetLatency(benchLatency)
	resetPeakRSS()

	var last benchRun
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		sim.Clock.Advance(2 * time.Hour)
		before, tok0, cpu0 := sim.RequestCounts(), eng.Stats.TokenRequests.Load(), cpuTime()
		b.StartTimer()
		start := time.Now() // real time: the benchmark measures it, nothing asserts on it
		sum, err := eng.Sweep(context.Background())
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if sum.States[store.StateOK] != f.users {
			b.Fatalf("states %v, want %d ok", sum.States, f.users)
		}
		last = benchRun{elapsed: elapsed, cpu: cpuTime() - cpu0, tokens: eng.Stats.TokenRequests.Load() - tok0}
		last.perTenant = f.requestsByTenant(b, before, sim.RequestCounts(), tenants)
		b.StartTimer()
	}
	b.StopTimer()
	busiest := 0
	for _, n := range last.perTenant {
		busiest = max(busiest, n)
	}
	bound := time.Duration(busiest) * benchLatency / benchSlots
	b.ReportMetric(last.elapsed.Seconds()/bound.Seconds(), "sweep/physical-bound")
	b.ReportMetric(last.elapsed.Seconds()/(last.cpu.Seconds()/float64(runtime.GOMAXPROCS(0))), "sweep/cpu-bound")
	b.ReportMetric(float64(last.tokens)/float64(f.minTokens), "token-requests/minimum")
	if rss, ok := peakRSS(); ok {
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
	}
	b.Logf("%d users in %d tenants: %v (bound %v: busiest tenant %d requests); cpu %v; %d token requests (minimum %d)",
		f.users, tenants, last.elapsed.Round(time.Millisecond), bound.Round(time.Millisecond), busiest, last.cpu.Round(time.Millisecond), last.tokens, f.minTokens)
}

type benchRun struct {
	elapsed, cpu time.Duration
	tokens       int64
	perTenant    []int
}

// benchFleet is what the benchmark stored, and which tenant each user,
// app and tenant path segment belongs to.
type benchFleet struct {
	users     int
	minTokens int64
	tenantOf  map[string]int // lower-case tenant ID, domain, user object ID, client ID
}

// addTenant makes tenant i with a profile of perTenant users: app-only
// for even i, delegated with a refresh token per user for odd i.
func (f *benchFleet) addTenant(b testing.TB, sim *m365sim.Sim, db *store.DB, hosts store.Hosts, i, perTenant int) {
	b.Helper()
	domain := fmt.Sprintf("tenant%02d.example", i)
	t := sim.AddTenant(domain, perTenant+perTenant/5)
	id := fmt.Sprintf("t%02d-production", i)
	p := store.Profile{ID: id, Customer: domain, Environment: "production", TenantID: t.ID,
		Protocols: []store.Protocol{store.Graph}, Folders: []string{"calendar", "contacts", "tasks"}, Hosts: hosts}
	var app *m365sim.App
	if i%2 == 0 {
		app = sim.RegisterApp(t, m365sim.AppSpec{DisplayName: "bench app-only", Required: []string{"role:Calendars.ReadWrite", "role:Contacts.ReadWrite", "role:Tasks.ReadWrite.All"}})
		p.Model = store.AppOnly
		f.minTokens++ // one Graph token for the profile
	} else {
		app = sim.RegisterApp(t, m365sim.AppSpec{DisplayName: "bench delegated", PublicRedirectURIs: []string{"http://localhost"}, FallbackPublicClient: true,
			Required: []string{"Calendars.ReadWrite", "Contacts.ReadWrite", "Tasks.ReadWrite", "offline_access", "openid", "profile", "User.Read"}})
		p.Model, p.Scopes = store.Delegated, graphScopes
	}
	sim.GrantAdminConsent(t, app)
	p.ClientID = app.ClientID
	if err := db.PutProfile(p); err != nil {
		b.Fatal(err)
	}
	if p.Model == store.AppOnly {
		sec := sim.AddSecret(app, 365*24*time.Hour)
		if err := db.SetClientSecret(id, store.ClientSecret{Value: store.Secret(sec.Value), KeyID: sec.KeyID}); err != nil {
			b.Fatal(err)
		}
	}
	for _, k := range []string{t.ID, domain, app.ClientID} {
		f.tenantOf[strings.ToLower(k)] = i
	}
	batch := store.Batch{Profile: id, Tokens: map[string]store.Token{}}
	for _, u := range t.Users {
		if !u.HasMailbox || !u.Enabled || len(batch.Users) == perTenant {
			continue
		}
		batch.Users = append(batch.Users, store.User{Key: u.ObjectID, Account: u.UPN, UPN: u.UPN, ObjectID: u.ObjectID, Mapping: store.MappingOK})
		f.tenantOf[strings.ToLower(u.ObjectID)] = i
		if p.Model == store.Delegated {
			rt := sim.DeviceSignedIn(t, app, u)
			batch.Tokens[u.ObjectID] = store.Token{RefreshToken: store.Secret(rt), Scopes: graphScopes, ViaDevice: true}
			f.minTokens++ // one Graph refresh per user
		}
	}
	if len(batch.Users) < perTenant {
		b.Fatalf("%s: %d users with a mailbox, want %d", domain, len(batch.Users), perTenant)
	}
	if err := db.Apply(batch); err != nil {
		b.Fatal(err)
	}
	f.users += len(batch.Users)
}

// requestsByTenant counts each tenant's requests between two counts by
// path: /{tenant}/... at the identity platform, /v1.0/users/{id}/... and
// /v1.0/applications(appId='…') at Graph. A path of no known tenant
// stops the benchmark, so no request escapes the bound.
func (f *benchFleet) requestsByTenant(b *testing.B, before, after map[string]int, tenants int) []int {
	out := make([]int, tenants)
	for path, n := range after {
		if n -= before[path]; n == 0 {
			continue
		}
		segs := strings.Split(strings.Trim(path, "/"), "/")
		key := segs[0]
		switch {
		case key == "v1.0" && len(segs) > 2 && segs[1] == "users":
			key = segs[2]
		case key == "v1.0" && len(segs) > 1:
			_, key, _ = strings.Cut(segs[1], "'")
			key, _, _ = strings.Cut(key, "'")
		}
		i, ok := f.tenantOf[strings.ToLower(key)]
		if !ok {
			b.Fatalf("%d requests to %s: no tenant known for it", n, path)
		}
		out[i] += n
	}
	return out
}

// cpuTime is the CPU time the Go scheduler spent busy so far: all of the
// process's processors' time less their idle time (runtime/metrics).
func cpuTime() time.Duration {
	m := []metrics.Sample{{Name: "/cpu/classes/total:cpu-seconds"}, {Name: "/cpu/classes/idle:cpu-seconds"}}
	metrics.Read(m)
	return time.Duration((m[0].Value.Float64() - m[1].Value.Float64()) * float64(time.Second))
}

// resetPeakRSS starts the peak resident set afresh (Linux), so that it
// measures the sweeps rather than the setup's garbage.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS reads VmHWM, the peak resident set, from /proc (Linux only).
func peakRSS() (int64, bool) {
	fh, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}
