package failover

import (
	"sync"
	"time"
)

// Clock tells the time. The machine and the schedule read it and never call
// time.Now themselves, so tests and the simulator run them on virtual time.
//
// Now must be safe for concurrent use when the clock is shared between
// goroutines (ManualClock is). The package has no wall clock of its own, on
// purpose; source/poll provides one.
type Clock interface {
	Now() time.Time
}

// ManualClock is a Clock that moves only when told to: Advance and Set. It is
// meant for tests and the simulator. It is safe for concurrent use.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a ManualClock reading t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d (backward if d is negative) and
// returns the new time.
func (c *ManualClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// Set moves the clock to t, forward or backward.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
