package monitor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modauth/modauth/store"
)

// work is one user's job in a sweep.
type work struct {
	user    store.User
	job     store.Job
	token   store.Token // stored refresh token state (delegated)
	hasTok  bool
	tokRead bool         // token and hasTok are what the store holds
	tokErr  error        // getting an access token failed
	damaged error        // the user's record or job does not decode
	rotated *store.Token // to store before the access token is used
	ran     bool         // the job started: a stopped sweep records no other
	res     result
}

// stopGrace is how long jobs in flight may run on after a sweep's
// context ends: within systemd's stop timeout, with room to commit.
const stopGrace = 3 * time.Second

// finishing is ctx for jobs already running: it ends grace after ctx.
func finishing(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	jctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return jctx, func() { stop(); cancel() }
}

// sweepProfile runs the profile's due jobs in chunks. Each chunk first
// renews the access tokens it needs, then stores the rotated refresh
// tokens together with the previous chunk's results in one transaction,
// then syncs: so a sweep costs one write transaction per chunk (plus one
// when tokens were renewed), and no rotated refresh token is ever used
// before it is stored.
//
// With only set, exactly those users' jobs run, due or not: "sync now".
func (e *Engine) sweepProfile(ctx context.Context, p store.Profile, sum *Summary, only map[string]bool) error {
	due, err := e.dueWork(p.ID, sum, only)
	if err != nil {
		return err
	}

	c, connErr := e.conn(ctx, p)
	if connErr == nil {
		e.refreshExpiry(ctx, c)
		e.readSignIns(ctx, c)
	}
	pending := &pending{Batch: store.Batch{Profile: p.ID}}
	out := writer{e: e}
	// Jobs in flight when ctx ends (a SIGTERM) get stopGrace to finish,
	// so what they did is recorded rather than cut off; no job starts
	// after it ends, and no chunk.
	jctx, release := finishing(ctx, stopGrace)
	defer release()
	for start := 0; start < len(due) && ctx.Err() == nil; start += e.opts.ChunkSize {
		chunk := due[start:min(start+e.opts.ChunkSize, len(due))]
		if connErr == nil {
			e.renewTokens(jctx, c, chunk)
		}
		pending.Tokens = map[string]store.Token{}
		for _, w := range chunk {
			if w.rotated != nil {
				pending.Tokens[w.user.Key] = *w.rotated
			}
		}
		// Rotated refresh tokens must be stored before their access
		// tokens are used; results alone can be written while the next
		// chunk syncs.
		if err := out.write(pending, len(pending.Tokens) > 0); err != nil {
			return err
		}
		e.forEach(ctx, chunk, func(w *work) {
			w.ran = true
			switch {
			case w.damaged != nil:
				w.res = failed(w.damaged)
			case connErr != nil:
				w.res = failed(connErr)
			case w.tokErr != nil:
				w.res = failed(w.tokErr)
			default:
				w.res = e.runJob(jctx, c, w)
			}
		})
		for _, w := range chunk {
			if !w.ran || jctx.Err() != nil && errors.Is(w.res.err, context.Canceled) {
				continue // not run, or cut off: it stays as it was, and due
			}
			e.record(pending, w)
			sum.States[w.job.State]++
			sum.Ran[w.job.State]++
		}
		// The batch holds what the chunk did; its work items, their
		// tokens and results, would otherwise stay in memory until the
		// profile's sweep ends: with a big profile, every user's sync-ids.
		clear(chunk)
	}
	return out.write(pending, true)
}

// dueWork lists the profile's users whose job is due (with only set,
// exactly those users), and counts the others' states into sum. A user
// whose record or job does not decode is listed, to fail alone with the
// damage as its error; a damaged job is then written anew.
func (e *Engine) dueWork(profileID string, sum *Summary, only map[string]bool) ([]*work, error) {
	users, damagedUsers, err := e.db.UsersAndDamaged(profileID)
	if err != nil {
		return nil, err
	}
	jobs, damagedJobs, err := e.db.JobsAndDamaged(profileID)
	if err != nil {
		return nil, err
	}
	all := make([]*work, 0, len(users)+len(damagedUsers))
	for _, u := range users {
		all = append(all, &work{user: u, damaged: damagedJobs[u.Key]})
	}
	for key, err := range damagedUsers {
		all = append(all, &work{user: store.User{Key: key}, damaged: err})
	}
	slices.SortFunc(all, func(a, b *work) int { return strings.Compare(a.user.Key, b.user.Key) })

	now := e.opts.Now()
	var due []*work
	for _, w := range all {
		w.job = jobs[w.user.Key]
		if w.job.State == "" {
			w.job.State = store.StateNeverSynced
		}
		if only != nil && !only[w.user.Key] {
			continue
		}
		sum.Users++
		if only == nil && w.job.NextRun.After(now) {
			sum.States[w.job.State]++
			continue
		}
		due = append(due, w)
	}
	return due, nil
}

// writer commits a sweep's batches in order, one at a time, each in the
// background unless the caller must wait for it.
type writer struct {
	e        *Engine
	inflight chan error
}

// write commits b (and empties it) after the batch before it; with wait
// it returns once b is durable, else at once.
func (w *writer) write(b *pending, wait bool) error {
	if w.inflight != nil {
		if err := <-w.inflight; err != nil {
			return err
		}
		w.inflight = nil
	}
	batch := *b
	*b = pending{Batch: store.Batch{Profile: b.Profile}}
	if wait {
		return w.e.commit(&batch)
	}
	done := make(chan error, 1)
	w.inflight = done
	go func() { done <- w.e.commit(&batch) }()
	return nil
}

// commit writes the pending batch and tells subscribers.
func (e *Engine) commit(b *pending) error {
	if b.Empty() {
		return nil
	}
	if err := e.db.Apply(b.Batch); err != nil {
		return fmt.Errorf("store sweep results: %w", err)
	}
	e.publish(b)
	return nil
}

// forEach runs fn for each work item. The tenant's request slots bound
// the requests in flight; twice as many workers keep every slot busy while
// some workers decode answers or read the store between requests.
func (e *Engine) forEach(ctx context.Context, ws []*work, fn func(*work)) {
	jobs := make(chan *work)
	var wg sync.WaitGroup
	for range min(len(ws), 2*e.opts.Concurrency) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range jobs {
				fn(w)
			}
		}()
	}
	for _, w := range ws {
		if ctx.Err() != nil {
			break
		}
		jobs <- w
	}
	close(jobs)
	wg.Wait()
}

// renewTokens gets each delegated user of the chunk an access token for
// every audience the profile uses, refreshing where needed.
func (e *Engine) renewTokens(ctx context.Context, c *profileConn, chunk []*work) {
	if c.prof.Model == store.AppOnly || c.prof.OnPremises {
		return
	}
	e.forEach(ctx, chunk, func(w *work) {
		if w.damaged != nil || !usable(w.user) {
			return
		}
		tok, err := e.db.Token(c.prof.ID, w.user.Key)
		if isNotFound(err) {
			w.tokRead = true
			return
		}
		if err != nil {
			w.tokErr = err
			return
		}
		w.token, w.hasTok, w.tokRead = tok, true, true
		for _, aud := range c.Audiences() {
			rotated, err := c.Renew(ctx, w.user.Key, w.token, aud)
			if err != nil {
				w.tokErr = err
				return
			}
			if rotated != nil {
				w.token, w.rotated = *rotated, rotated
			}
		}
	})
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// usable reports whether a user's mapping allows a job at all.
func usable(u store.User) bool {
	switch u.Mapping {
	case store.MappingNotFound, store.MappingNoMailbox, store.MappingDisabled:
		return false
	}
	return true
}
