// Package monitor is the job engine: it sweeps every user of every profile
// on a schedule, keeps tokens valid with as few requests as possible, runs
// each user's sync, and writes job state, checkpoints and sync-ids in
// batched transactions. Each user ends a sweep in exactly one state, with
// its fix; one user's failure never stops another's job.
package monitor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modauth/modauth/store"
)

type timeNow func() time.Time

// Options tune the engine. Zero values take the defaults.
type Options struct {
	HTTPClient *http.Client
	Now        func() time.Time
	// Sleep waits (Retry-After, device-code polling); tests advance a
	// simulated clock instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// Concurrency bounds the requests in flight per tenant; default 16.
	Concurrency int
	// ChunkSize is how many users share a write transaction; default 500.
	ChunkSize int
	// Interval is the time between sweeps; default 15 minutes.
	Interval time.Duration
	// CalendarPast and CalendarAhead bound the calendar sync window;
	// defaults 30 and 365 days.
	CalendarPast, CalendarAhead time.Duration
	Logger                      *slog.Logger
	// MailTLS verifies IMAP, POP and SMTP servers; nil: the system roots.
	MailTLS *tls.Config
	// BackupEvery is how often a sweep backs the store up (see
	// store.DB.AutoBackup), on the Now clock; default a day, negative
	// never. BackupKeep is how many backups are kept; default 7.
	BackupEvery time.Duration
	BackupKeep  int
	// Owner, when set, limits sweeps to the tenants this monitor owns
	// among several (package cluster); nil: every tenant, one monitor.
	Owner Owner
}

// Stats count what sweeps cost, for metrics and benchmarks.
type Stats struct {
	TokenRequests atomic.Int64 // refreshes and client-credentials requests
	Throttled     atomic.Int64 // answers of 429
	Sweeps        atomic.Int64
}

// Engine runs sweeps.
type Engine struct {
	db   *store.DB
	opts Options
	// Stats is live: read it at any time.
	Stats Stats

	mu    sync.Mutex
	conns map[string]*profileConn // by profile ID
	// expiryRead is when each profile\'s secret expiry was last read.
	expiryRead map[string]time.Time
	// signInsRead is when each profile's sign-in log was last read.
	signInsRead map[string]time.Time
	tenants     map[string]chan struct{} // per-tenant request slots
	subs        map[chan Change]struct{}
}

// New returns an engine over db.
func New(db *store.DB, opts Options) *Engine {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = 500
	}
	if opts.Interval <= 0 {
		opts.Interval = 15 * time.Minute
	}
	if opts.CalendarPast == 0 {
		opts.CalendarPast = 30 * 24 * time.Hour
	}
	if opts.CalendarAhead == 0 {
		opts.CalendarAhead = 365 * 24 * time.Hour
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BackupEvery == 0 {
		opts.BackupEvery = 24 * time.Hour
	}
	if opts.BackupKeep <= 0 {
		opts.BackupKeep = 7
	}
	return &Engine{db: db, opts: opts, conns: map[string]*profileConn{}, tenants: map[string]chan struct{}{}, subs: map[chan Change]struct{}{}, expiryRead: map[string]time.Time{}, signInsRead: map[string]time.Time{}}
}

// Summary is what a sweep did.
type Summary struct {
	Profiles int
	// Users counts the users of the swept profiles, due or not, and
	// States their states after the sweep: together the whole picture.
	Users  int
	States map[store.JobState]int
	// Ran counts, by the state each ended in, the jobs that ran: a sweep
	// with nothing due ran none, however many users are ok.
	Ran      map[store.JobState]int
	Duration time.Duration
}

func newSummary() Summary {
	return Summary{States: map[store.JobState]int{}, Ran: map[store.JobState]int{}}
}

// add counts another profile's users and jobs into s.
func (s *Summary) add(o Summary) {
	s.Users += o.Users
	for st, n := range o.States {
		s.States[st] += n
	}
	for st, n := range o.Ran {
		s.Ran[st] += n
	}
}

// Failing is how many users are in a failing state after the sweep.
func (s Summary) Failing() int {
	n := 0
	for st, c := range s.States {
		if Failing(st) {
			n += c
		}
	}
	return n
}

// Jobs is how many jobs ran.
func (s Summary) Jobs() int {
	n := 0
	for _, c := range s.Ran {
		n += c
	}
	return n
}

// Sweep runs every due job of every profile once. The profiles are swept
// at the same time: each tenant's request slots bound its own requests, so
// one after another would leave every other tenant's slots idle while a
// tenant's latency is waited out. A profile that cannot be swept stops no
// other; the errors are returned together, in the profiles' order.
func (e *Engine) Sweep(ctx context.Context) (Summary, error) {
	start := time.Now()
	sum := newSummary()
	e.backup()
	profiles, err := e.db.Profiles()
	if err != nil {
		return sum, fmt.Errorf("sweep: %w", err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex // guards sum
		errs = make([]error, len(profiles))
	)
	for i, p := range profiles {
		if ctx.Err() != nil {
			break // stopped: no new profile starts
		}
		if !sweepable(p) {
			continue // the wizard has not got that far
		}
		wg.Go(func() {
			held, release, ok, err := e.hold(ctx, p)
			if err != nil || !ok {
				if err != nil {
					errs[i] = fmt.Errorf("sweep profile %s: %w", p.ID, err)
				}
				return // another monitor's tenant
			}
			defer release()
			ps := newSummary()
			err = e.sweepProfile(held, p, &ps, nil)
			mu.Lock()
			defer mu.Unlock()
			sum.add(ps)
			if err != nil {
				errs[i] = fmt.Errorf("sweep profile %s: %w", p.ID, err)
				return
			}
			sum.Profiles++
		})
	}
	wg.Wait()
	e.Stats.Sweeps.Add(1)
	sum.Duration = time.Since(start)
	if ctx.Err() != nil {
		errs = append(errs, fmt.Errorf("sweep stopped: %w", ctx.Err()))
	}
	return sum, errors.Join(errs...)
}

// backup backs the store up when one is due. A failed backup is logged,
// not fatal: the sweep's work matters more than its insurance.
func (e *Engine) backup() {
	if e.opts.BackupEvery < 0 {
		return
	}
	path, err := e.db.AutoBackup(e.opts.Now(), e.opts.BackupEvery, e.opts.BackupKeep)
	switch {
	case err != nil:
		e.opts.Logger.Error("backup failed", "err", err)
	case path != "":
		e.opts.Logger.Info("backed up the store", "path", path)
	}
}

// SyncNow runs the jobs of the named users of a profile at once, whether
// they are due or not: the dashboard's "sync now".
func (e *Engine) SyncNow(ctx context.Context, profileID string, keys ...string) (Summary, error) {
	start := time.Now()
	sum := newSummary()
	p, err := e.db.Profile(profileID)
	if err != nil {
		return sum, fmt.Errorf("sync now: %w", err)
	}
	held, release, ok, err := e.hold(ctx, p)
	if err != nil {
		return sum, fmt.Errorf("sync now: %w", err)
	}
	defer release()
	if !ok {
		return sum, fmt.Errorf("sync now: profile %s: its tenant is swept by another monitor, run sync now on that one: %w", p.ID, ErrNotOwner)
	}
	only := make(map[string]bool, len(keys))
	for _, k := range keys {
		only[k] = true
	}
	if err := e.sweepProfile(held, p, &sum, only); err != nil {
		return sum, fmt.Errorf("sync now: %w", err)
	}
	sum.Profiles, sum.Duration = 1, time.Since(start)
	return sum, nil
}

// Interval is the time between sweeps.
func (e *Engine) Interval() time.Duration { return e.opts.Interval }

// Run sweeps every Interval until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	for {
		if _, err := e.Sweep(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			e.opts.Logger.Error("sweep failed", "err", err)
		}
		t := time.NewTimer(e.opts.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// tenantSlots returns the request slots shared by every profile of a tenant.
func (e *Engine) tenantSlots(tenant string) chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.tenants[tenant]
	if !ok {
		s = make(chan struct{}, e.opts.Concurrency)
		e.tenants[tenant] = s
	}
	return s
}
