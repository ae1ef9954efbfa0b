package m365sim

import (
	"sync"
	"time"
)

// Clock is the simulator's time. A test's clock stands at a chosen instant
// and moves only when Advance moves it (by hand, or through an injected
// sleep), so every run sees the same times; `modauth demo`'s clock follows
// the wall clock. Either way Advance lets a test jump past a token's
// expiry or a refresh token's 90 days of inactivity without sleeping.
type Clock struct {
	mu     sync.Mutex
	frozen bool      // stands at start: it does not follow the wall clock
	start  time.Time // with frozen
	offset time.Duration
}

// NewClock returns a clock that reads the wall clock.
func NewClock() *Clock { return &Clock{} }

// NewClockAt returns a clock that stands at t until advanced.
func NewClockAt(t time.Time) *Clock { return &Clock{frozen: true, start: t} }

// Now returns the simulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		return c.start.Add(c.offset)
	}
	return time.Now().Add(c.offset)
}

// Advance moves simulated time forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}
