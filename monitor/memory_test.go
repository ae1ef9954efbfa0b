package monitor_test

import (
	"context"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modauth/modauth/internal/benchsim"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// A sweep holds the results of the chunk it runs and of the one it
// writes, not of every chunk before: the engine's live heap at the end of
// a sweep of 400 users in chunks of 20 is about what it was near the
// start. The simulator runs in its own process (internal/benchsim), so
// the heap measured is the engine's.
func TestSweepReleasesFinishedChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a simulator process")
	}
	const users = 400
	sim := benchsim.Start(t, 1, users) // tenant 0 is app-only
	db, f := storeFleet(t, sim)
	// Each user's job makes four Graph requests: calendar, contacts, the
	// task lists, tasks. The heap is read at the 40th user's and at the
	// 360th's.
	ht := &heapTransport{next: http.DefaultTransport, at: [2]int64{4 * 40, 4 * 360}}
	eng := monitor.New(db, monitor.Options{HTTPClient: &http.Client{Transport: ht}, Now: sim.Clock.Now, ChunkSize: 20, Concurrency: 2, BackupEvery: -1})
	sum, err := eng.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.States[store.StateOK] != f.Users {
		t.Fatalf("states %v, want %d ok", sum.States, f.Users)
	}
	early, late := int64(ht.heap[0].Load()), int64(ht.heap[1].Load())
	if early == 0 || late == 0 {
		t.Fatalf("heap not read: %d requests", ht.n.Load())
	}
	t.Logf("live heap at the 40th user %d kB, at the 360th %d kB", early>>10, late>>10)
	// The 320 users between the two readings leave about 10 kB each of
	// sync-ids and job state in memory when nothing is released.
	if grown := late - early; grown > 1<<20 {
		t.Errorf("live heap grew by %d kB over 320 users (from %d kB to %d kB): finished chunks are kept", grown>>10, early>>10, late>>10)
	}
}

// heapTransport reads the live heap, after a collection, when the
// requests to mailboxes reach each count in at.
type heapTransport struct {
	next http.RoundTripper
	at   [2]int64
	n    atomic.Int64
	heap [2]atomic.Uint64
}

func (h *heapTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/v1.0/users/") {
		n := h.n.Add(1)
		for i, at := range h.at {
			if n == at {
				runtime.GC()
				m := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
				metrics.Read(m)
				h.heap[i].Store(m[0].Value.Uint64())
			}
		}
	}
	return h.next.RoundTrip(r)
}
