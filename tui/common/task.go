package common

import (
	"context"
	"time"
)

// Task is a step's one piece of long work at a time: a sign-in, a resolve
// run, a connection test. Its commands run on the context Start gives and
// their messages carry the id Start gives. Answers of a stopped run are
// dropped: Stop cancels the run, and from then on Current is false for
// its id, so a late answer (one that was on its way when esc was pressed,
// or that belongs to a run a newer one replaced) never changes the
// screen. The zero Task is stopped.
type Task struct {
	id      int
	running bool
	ctx     context.Context
	cancel  context.CancelFunc
}

// Start stops the run under way, if any, and starts a new one on parent
// (context.Background when nil). It returns the run's context and id.
func (t *Task) Start(parent context.Context) (context.Context, int) {
	return t.start(parent, 0)
}

// StartTimeout is Start for a run that gives up after d.
func (t *Task) StartTimeout(parent context.Context, d time.Duration) (context.Context, int) {
	return t.start(parent, d)
}

func (t *Task) start(parent context.Context, d time.Duration) (context.Context, int) {
	t.Stop()
	if parent == nil {
		parent = context.Background()
	}
	if d > 0 {
		t.ctx, t.cancel = context.WithTimeout(parent, d)
	} else {
		t.ctx, t.cancel = context.WithCancel(parent)
	}
	t.running = true
	return t.ctx, t.id
}

// Stop cancels the run under way; its answers are no longer Current.
// Stopping a stopped Task does nothing but forget stale ids once more.
func (t *Task) Stop() {
	t.id++
	t.running = false
	if t.cancel != nil {
		t.cancel()
		t.cancel = nil
	}
}

// Running reports whether a run is under way.
func (t *Task) Running() bool { return t.running }

// Current reports whether id is the run under way: a message whose id is
// not Current is a stopped run's and is dropped.
func (t *Task) Current(id int) bool { return t.running && id == t.id }

// ID is the run's id, for the messages of its next command.
func (t *Task) ID() int { return t.id }

// Context is the run's context, for its next command. Once the run is
// stopped it is cancelled, so a command started late ends at once.
func (t *Task) Context() context.Context {
	if t.ctx == nil {
		return stoppedCtx
	}
	return t.ctx
}

// stoppedCtx is the context of a Task never started: already cancelled.
var stoppedCtx = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()
