package monitor_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/benchsim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// BenchmarkSweep100kUsers50Tenants sweeps 50 tenants on one simulator,
// one profile each, half app-only and half delegated (every user with a
// stored refresh token), with 40 ms of latency injected by the simulator
// on every request. The simulator runs in a process of its own (the test
// binary again, with benchsim.Env set: internal/benchsim), so that the
// benchmark's process is the engine alone: its CPU time and resident set
// are the engine's, store and mapped database included. It reports:
//
//	sweep/physical-bound   sweep time ÷ max over tenants of
//	                       (requests to the tenant × latency ÷ request slots).
//	                       Tenants have slots of their own and are swept at
//	                       once, so the busiest tenant bounds the sweep, as
//	                       long as latency is the only limit; goal ≤ 1.15
//	sweep/cpu-bound        sweep time ÷ (the engine process's CPU time, user
//	                       and system, ÷ GOMAXPROCS): 1.00 means the engine
//	                       kept every core busy all along; above, the cores
//	                       went to the simulator or to other processes
//	sweep/engine-bound     sweep time ÷ max(the physical bound, the engine's
//	                       CPU time ÷ GOMAXPROCS): how far the sweep is from
//	                       what the engine alone would allow. On a machine
//	                       whose cores the simulator (and others) share, it
//	                       is above 1.00 by their share: compare
//	                       sweep/machine-bound
//	sweep/machine-bound    sweep time ÷ max(the physical bound, the engine's
//	                       and the simulator's CPU time together ÷
//	                       GOMAXPROCS), when both run on the same cores:
//	                       above 1.00, the cores also went to other processes
//	token-requests/minimum token requests ÷ (one client-credentials token
//	                       per app-only profile and audience + one refresh
//	                       per delegated user and audience); goal 1.00
//	peak-RSS-MiB           the engine process's peak resident set (Linux
//	                       VmHWM) during the sweeps, mapped database pages
//	                       included, the simulator not; goal ≤ 1024
//	peak-heap-MiB          the engine's peak of live and not yet swept heap
//	                       objects (runtime/metrics
//	                       /memory/classes/heap/objects:bytes, sampled every
//	                       10 ms during the sweeps)
//
// The log line adds the simulator's CPU time in the sweep. Each iteration
// moves both clocks 2 h, past the longest access-token lifetime the
// simulator grants (90 min), so every token has expired and the minimum
// above is exact. The first iteration is a full sync, later ones delta.
// Sub-benchmarks name the total users.
//
// Run: go test ./monitor -run '^$' -bench Sweep100kUsers50Tenants -benchtime 1x -timeout 60m
func BenchmarkSweep100kUsers50Tenants(b *testing.B) {
	for _, total := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", total), func(b *testing.B) { benchTenants(b, 50, total/50, benchLatency) })
	}
}

// BenchmarkSweepLatencyBound is BenchmarkSweep100kUsers50Tenants with 4
// tenants of 1,000 users (two chunks each) and 100 ms of latency: the CPU
// the engine and the simulator need is then well under the physical bound
// even on two shared cores, so sweep/physical-bound shows what the
// engine's own structure (the connection's setup, chunks, the wait for
// rotated tokens, jobs of sequential requests in the slots) costs over the
// bound when latency is the limit, as it is on a real tenant.
//
// Run: go test ./monitor -run '^$' -bench SweepLatencyBound -benchtime 1x
func BenchmarkSweepLatencyBound(b *testing.B) { benchTenants(b, 4, 1000, 100*time.Millisecond) }

const (
	benchLatency = 40 * time.Millisecond
	benchSlots   = 16 // the engine's default request slots per tenant
)

func benchTenants(b *testing.B, tenants, perTenant int, latency time.Duration) {
	sim := benchsim.Start(b, tenants, perTenant)
	db, f := storeFleet(b, sim)
	eng := monitor.New(db, monitor.Options{HTTPClient: &http.Client{}, Now: sim.Clock.Now, Concurrency: benchSlots,
		BackupEvery: -1}) // a backup is daily work, not a sweep's
	sim.SetLatency(b, latency)
	runtime.GC()
	resetPeakRSS()
	heap := sampleHeap()

	var last benchRun
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		sim.Advance(b, 2*time.Hour)
		before, tok0, cpu0 := sim.Counts(b), eng.Stats.TokenRequests.Load(), benchsim.ProcessCPU()
		b.StartTimer()
		start := time.Now() // real time: the benchmark measures it, nothing asserts on it
		sum, err := eng.Sweep(context.Background())
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if sum.States[store.StateOK] != f.Users {
			b.Fatalf("states %v, want %d ok", sum.States, f.Users)
		}
		after := sim.Counts(b)
		last = benchRun{elapsed: elapsed, cpu: benchsim.ProcessCPU() - cpu0, simCPU: after.CPU - before.CPU, tokens: eng.Stats.TokenRequests.Load() - tok0}
		last.perTenant = f.RequestsByTenant(b, before.Requests, after.Requests, tenants)
		b.StartTimer()
	}
	b.StopTimer()
	peakHeap := heap()
	bound, busiest := benchsim.Bound(last.perTenant, latency, benchSlots)
	cpuBound := last.cpu / time.Duration(runtime.GOMAXPROCS(0))
	b.ReportMetric(last.elapsed.Seconds()/bound.Seconds(), "sweep/physical-bound")
	if cpuBound > 0 {
		b.ReportMetric(last.elapsed.Seconds()/cpuBound.Seconds(), "sweep/cpu-bound")
	}
	b.ReportMetric(last.elapsed.Seconds()/max(bound, cpuBound).Seconds(), "sweep/engine-bound")
	machine := (last.cpu + last.simCPU) / time.Duration(runtime.GOMAXPROCS(0))
	b.ReportMetric(last.elapsed.Seconds()/max(bound, machine).Seconds(), "sweep/machine-bound")
	b.ReportMetric(float64(last.tokens)/float64(f.MinTokens), "token-requests/minimum")
	if rss, ok := peakRSS(); ok {
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
	}
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
	b.Logf("%d users in %d tenants: %v (bound %v: busiest tenant %d requests); engine cpu %v, simulator cpu %v; %d token requests (minimum %d)",
		f.Users, tenants, last.elapsed.Round(time.Millisecond), bound.Round(time.Millisecond), busiest,
		last.cpu.Round(time.Millisecond), last.simCPU.Round(time.Millisecond), last.tokens, f.MinTokens)
}

// storeFleet opens a bbolt store on the engine's clock and stores the
// simulator's fleet in it.
func storeFleet(t testing.TB, sim *benchsim.Sim) (*store.DB, *benchsim.Fleet) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "modauth.db"), store.Options{Now: sim.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, sim.Store(t, db)
}

type benchRun struct {
	elapsed, cpu, simCPU time.Duration
	tokens               int64
	perTenant            []int
}

// sampleHeap samples the heap's objects every 10 ms until the function
// it returns is called, which returns the peak.
func sampleHeap() func() uint64 {
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		m := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(m)
			peak = max(peak, m[0].Value.Uint64())
			select {
			case <-tick.C:
			case <-stop:
				done <- peak
				return
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
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
