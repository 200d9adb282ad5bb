package poll

import "time"

// Clock is the poller's time source: the current time plus timers that fire
// on the same time line. Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
	// NewTimer returns a channel that receives once, d from now, and a stop
	// function with time.Timer.Stop's meaning.
	NewTimer(d time.Duration) (<-chan time.Time, func() bool)
}

// SystemClock returns the wall clock with real timers. Inside a
// testing/synctest bubble its time is the bubble's virtual time.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}
