// Package testutil holds test doubles shared by the module's tests: a virtual
// clock (Clock) and a log sink safe for concurrent writers (SyncBuffer).
//
// It imports only the standard library and is imported only from _test.go
// files, so it never reaches a production binary's dependency graph.
package testutil

import (
	"sync"
	"time"
)

// Clock is a virtual clock for tests. It has the shapes the module's Clock
// interfaces ask for: Now plus After (source/local, source/sftp, source/webhook,
// examples/notifier) or NewTimer (source/poll).
//
// A clock made by NewClock is manual: timers fire only when Advance moves the
// time to or past their deadline. A clock made by NewAutoClock moves itself:
// each After or NewTimer advances the time by d at once and returns a channel
// that has already fired, so waits take no real time yet show in Now.
//
// Every method is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	auto   bool
	timers []*clockTimer
	waits  []time.Duration
	armed  chan struct{}
}

type clockTimer struct {
	at time.Time
	ch chan time.Time
}

// NewClock returns a manual clock reading t.
func NewClock(t time.Time) *Clock {
	return &Clock{now: t, armed: make(chan struct{}, 100)}
}

// NewAutoClock returns a clock reading t whose waits advance it at once.
func NewAutoClock(t time.Time) *Clock {
	c := NewClock(t)
	c.auto = true
	return c
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives the clock's time once, d after the
// call. A d of zero or less fires at once.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	ch, _ := c.NewTimer(d)
	return ch
}

// NewTimer is After plus a stop function with time.Timer.Stop's meaning: it
// reports whether it stopped the timer before it fired.
func (c *Clock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	if c.auto {
		c.now = c.now.Add(max(d, 0))
	}
	if c.auto || d <= 0 {
		ch <- c.now
		return ch, func() bool { return false }
	}
	tm := &clockTimer{at: c.now.Add(d), ch: ch}
	c.timers = append(c.timers, tm)
	select {
	case c.armed <- struct{}{}:
	default:
	}
	return ch, func() bool { return c.stop(tm) }
}

func (c *Clock) stop(tm *clockTimer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, t := range c.timers {
		if t == tm {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			return true
		}
	}
	return false
}

// Advance moves the time by d, fires the timers that are due and returns the
// new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			t.ch <- c.now
		} else {
			kept = append(kept, t)
		}
	}
	clear(c.timers[len(kept):])
	c.timers = kept
	return c.now
}

// Waits returns the durations asked of After and NewTimer so far, in order.
func (c *Clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// Armed receives (best effort, up to 100 buffered) each time a manual clock
// arms a timer that has not fired yet.
func (c *Clock) Armed() <-chan struct{} { return c.armed }

// PendingUntil returns how many pending timers are due at or before t.
func (c *Clock) PendingUntil(t time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, tm := range c.timers {
		if !tm.at.After(t) {
			n++
		}
	}
	return n
}

// HasTimerAt reports whether a pending timer is due exactly at t.
func (c *Clock) HasTimerAt(t time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, tm := range c.timers {
		if tm.at.Equal(t) {
			return true
		}
	}
	return false
}
