package m365sim

import (
	"sync"
	"time"
)

// Clock is the simulator's time. It follows the wall clock, shifted by
// whatever Advance added, so a test can jump past a token's expiry or a
// refresh token's 90 days of inactivity without sleeping, while `modauth
// demo` simply runs in real time.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// NewClock returns a clock that reads the wall clock.
func NewClock() *Clock { return &Clock{} }

// Now returns the simulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves simulated time forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}
