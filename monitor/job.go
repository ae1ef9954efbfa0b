package monitor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

// result is what one user's job did.
type result struct {
	err         error
	notSignedIn bool // delegated user without a stored sign-in
	folders     []store.FolderChange
	checkpoints map[string]string
	counts      map[string]int
}

func failed(err error) result { return result{err: err} }

// errDisabled: a disabled account can sign in nowhere.
var errDisabled = fmt.Errorf("the account is disabled in Entra ID: %w", flows.ErrAccountDisabled)

// runJob runs one user's sync for the profile's protocols.
func (e *Engine) runJob(ctx context.Context, c *profileConn, w *work) result {
	switch w.user.Mapping {
	case store.MappingNotFound:
		return failed(fmt.Errorf("account %s: %w", w.user.Account, exchange.ErrNotFound))
	case store.MappingNoMailbox:
		return failed(fmt.Errorf("account %s: %w", w.user.Account, exchange.ErrNoMailbox))
	case store.MappingDisabled:
		return failed(errDisabled)
	}
	if c.prof.Model == store.Delegated && !w.hasTok {
		// With a service account, the account's sign-in is the one that
		// counts: the connection finds it, or says it is missing.
		return result{notSignedIn: true}
	}
	res := result{checkpoints: map[string]string{}, counts: map[string]int{}}
	for _, proto := range c.prof.Protocols {
		var err error
		switch proto {
		case store.Graph:
			err = e.syncGraph(ctx, c, w, &res)
		case store.EWS:
			err = e.syncEWS(ctx, c, w, &res)
		case store.IMAP, store.POP, store.SMTP:
			err = e.probeMail(ctx, c, w, proto)
		default:
			err = fmt.Errorf("the %s job is not built yet", proto)
		}
		if err != nil {
			res.err = explained(c, err, w.user, proto)
			return res
		}
	}
	return res
}

// explained gives a sync's failure the connection layer's meaning and fix,
// unless it has them (a probe's).
func explained(c *profileConn, err error, u store.User, proto store.Protocol) error {
	var f *conn.Failure
	if errors.As(err, &f) {
		return err
	}
	return c.Explain(err, u, proto)
}

// syncGraph runs the delta queries of the profile's folders, one after the
// other: one request in flight per mailbox, well under Graph's four.
func (e *Engine) syncGraph(ctx context.Context, c *profileConn, w *work, res *result) error {
	g := c.UserGraph(w.user)
	for _, folder := range c.prof.Folders {
		fc, link, n, err := e.syncFolder(ctx, g, c.prof.ID, w, folder)
		if err != nil {
			return fmt.Errorf("sync %s: %w", folder, err)
		}
		res.folders = append(res.folders, fc)
		res.checkpoints[folder], res.counts[folder] = link, n
	}
	return nil
}

// syncFolder brings one folder's sync-ids up to date from its checkpoint,
// starting over when there is none or the service says it expired.
func (e *Engine) syncFolder(ctx context.Context, g *exchange.Graph, profileID string, w *work, folder string) (store.FolderChange, string, int, error) {
	start := w.job.Checkpoints[folder]
	have, err := e.storedItems(profileID, w, folder, start != "")
	if err != nil {
		return store.FolderChange{}, "", 0, err
	}
	run := func(start string, reset bool) (store.FolderChange, string, error) {
		fc := store.FolderChange{User: w.user.Key, Folder: folder, Reset: reset}
		link, err := g.Delta(ctx, start, func(items []exchange.Item) error {
			changes := make([]itemChange, len(items))
			for i, it := range items {
				changes[i] = itemChange{item: store.Item{ID: it.ID, ChangeKey: it.ChangeKey, LastModified: it.LastModified}, removed: it.Removed}
			}
			return have.apply(&fc, changes)
		})
		return fc, link, err
	}
	if start == "" {
		first, err := e.firstURL(ctx, g, w.user, folder)
		if err != nil {
			return store.FolderChange{}, "", 0, err
		}
		fc, link, err := run(first, true)
		return fc, link, have.n, err
	}
	fc, link, err := run(start, false)
	if errors.Is(err, exchange.ErrResyncRequired) {
		have.reset()
		first, ferr := e.firstURL(ctx, g, w.user, folder)
		if ferr != nil {
			return store.FolderChange{}, "", 0, ferr
		}
		fc, link, err = run(first, true)
	}
	return fc, link, have.n, err
}

func (e *Engine) firstURL(ctx context.Context, g *exchange.Graph, u store.User, folder string) (string, error) {
	id := conn.GraphID(u)
	now := e.opts.Now()
	switch folder {
	case exchange.FolderCalendar:
		return exchange.CalendarDelta(id, now.Add(-e.opts.CalendarPast), now.Add(e.opts.CalendarAhead)), nil
	case exchange.FolderContacts:
		return exchange.ContactsDelta(id, "contacts"), nil
	case exchange.FolderTasks:
		list, err := g.DefaultTaskList(ctx, id)
		if err != nil {
			return "", err
		}
		return exchange.TasksDelta(id, list), nil
	}
	return "", fmt.Errorf("unknown folder %q", folder)
}

// record puts a job's outcome into the batch: the user's one state with
// its last error, checkpoints, counts and sync-ids, the next run, and an
// event when the state changed, with the row it leaves for subscribers.
func (e *Engine) record(b *pending, w *work) {
	now := e.opts.Now()
	j, prev := w.job, w.job.State
	j.LastRun = now
	switch {
	case w.res.notSignedIn:
		// Skipped at the consent step, or never got there: either way the
		// person must sign in, so it is not "never synced".
		j.State = store.StateSignInNeeded
		msg := "the user has not signed in yet"
		if !j.LastSuccess.IsZero() {
			msg = "no sign-in is stored for this user any more"
		}
		j.LastError = &store.LastError{Message: msg, At: now}
		j.Failures++
	case w.res.err == nil:
		j.State, j.LastSuccess, j.Failures, j.LastError = store.StateOK, now, 0, nil
	default:
		j.State = classify(w.res.err)
		j.LastError = lastError(w.res.err, e.opts.Now)
		j.Failures++
	}
	if len(w.res.checkpoints) > 0 {
		j.Checkpoints = mergeMap(j.Checkpoints, w.res.checkpoints)
		j.Counts = mergeMap(j.Counts, w.res.counts)
	}
	j.NextRun = now.Add(e.backoff(j))
	if b.Jobs == nil {
		b.Jobs = map[string]store.Job{}
	}
	b.Jobs[w.user.Key] = j
	b.Folders = append(b.Folders, w.res.folders...)
	w.job = j
	if j.State != prev {
		msg := "synced"
		if j.LastError != nil {
			msg = j.LastError.Message
		}
		ev := store.Event{At: now, Profile: b.Profile, User: w.user.Key, Kind: "state", State: j.State, Message: msg}
		b.Events = append(b.Events, ev)
		b.changes = append(b.changes, change(ev, w))
		if !w.tokRead {
			b.unknownToken = append(b.unknownToken, w.user.Key)
		}
	}
}

// backoff is the wait before a job runs again: the interval, doubled per
// consecutive failure up to six hours.
func (e *Engine) backoff(j store.Job) time.Duration {
	d := e.opts.Interval
	for i := 1; i < j.Failures && d < 6*time.Hour; i++ {
		d *= 2
	}
	return min(d, max(6*time.Hour, e.opts.Interval))
}

func mergeMap[V any](dst, src map[string]V) map[string]V {
	if dst == nil {
		dst = make(map[string]V, len(src))
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}
