package monitor

import "github.com/modauth/modauth/store"

// Change is what the engine tells a subscriber about one user: the state
// event it logged, and that user's row as the same transaction left it,
// so a live screen updates without reading the store. Only Event is
// persisted; the rest is for the screen.
//
// The maps are shared between subscribers: read them, never change them.
type Change struct {
	Event store.Event
	// Job is the job as recorded, checkpoints and counts included.
	Job store.Job
	// Token is the user's token metadata; its RefreshToken is always
	// empty. HasToken is false when no token is stored.
	Token    store.Token
	HasToken bool
	// Counts are the stored sync-ids per folder after the job.
	Counts map[string]int
}

// pending is a batch still to commit, with a Change per event.
type pending struct {
	store.Batch
	changes []Change
	// unknownToken are the users of changes whose token the sweep did
	// not read (no connection, app-only, not mapped): their metadata is
	// read after the commit, without unsealing.
	unknownToken []string
}

// change is the row a recorded job leaves, with the event ev.
func change(ev store.Event, w *work) Change {
	c := Change{Event: ev, Job: w.job, Counts: w.job.Counts}
	if w.tokRead {
		c.Token, c.HasToken = w.token, w.hasTok
		c.Token.RefreshToken = ""
	}
	return c
}

// Subscribe returns a channel of the changes the engine writes, one per
// state event, for a live screen, and a function to stop. A slow
// subscriber misses changes rather than holding up the sweep: the events
// bucket has every event, and the store every row.
func (e *Engine) Subscribe() (<-chan Change, func()) {
	ch := make(chan Change, 256)
	e.mu.Lock()
	e.subs[ch] = struct{}{}
	e.mu.Unlock()
	return ch, func() {
		e.mu.Lock()
		if _, ok := e.subs[ch]; ok {
			delete(e.subs, ch)
			close(ch)
		}
		e.mu.Unlock()
	}
}

func (e *Engine) subscribed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.subs) > 0
}

// publish tells subscribers a committed batch's changes, first reading
// the token metadata the sweep did not have.
func (e *Engine) publish(p *pending) {
	if len(p.changes) == 0 || !e.subscribed() {
		return
	}
	changes := p.changes
	if len(p.unknownToken) > 0 {
		meta, err := e.db.TokenMetaOf(p.Profile, p.unknownToken)
		if err != nil {
			// The screen reloads after the sweep; a change with a wrong
			// token would mislead until then.
			e.opts.Logger.Error("read token metadata for subscribers", "profile", p.Profile, "err", err)
			return
		}
		unknown := make(map[string]bool, len(p.unknownToken))
		for _, k := range p.unknownToken {
			unknown[k] = true
		}
		for i := range changes {
			if k := changes[i].Event.User; unknown[k] {
				changes[i].Token, changes[i].HasToken = meta[k]
			}
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for ch := range e.subs {
		for _, c := range changes {
			select {
			case ch <- c:
			default:
			}
		}
	}
}
