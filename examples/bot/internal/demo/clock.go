package demo

import (
	"sync"
	"time"
)

// ScaledClock runs Speed times faster than the wall clock from a chosen
// start instant. It implements failover.Clock (Now) and the Now/After clock
// of source/webhook and source/local, so the 15-minute heartbeat and the
// 60-second probe play out within a short demo. It is safe for concurrent use.
type ScaledClock struct {
	mu       sync.Mutex
	start    time.Time // virtual time at realStart
	realBase time.Time
	speed    float64
	now      func() time.Time // the wall clock; replaceable in tests
}

// NewScaledClock returns a clock reading start now and running speed times
// faster than the wall clock. speed must be > 0.
func NewScaledClock(start time.Time, speed float64) *ScaledClock {
	return newScaledClock(start, speed, time.Now)
}

func newScaledClock(start time.Time, speed float64, wall func() time.Time) *ScaledClock {
	if speed <= 0 {
		speed = 1
	}
	return &ScaledClock{start: start, realBase: wall(), speed: speed, now: wall}
}

// Speed returns the factor.
func (c *ScaledClock) Speed() float64 { return c.speed }

// Now returns the virtual time.
func (c *ScaledClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.start.Add(time.Duration(float64(c.now().Sub(c.realBase)) * c.speed))
}

// Real converts a virtual duration into the wall-clock duration it takes.
func (c *ScaledClock) Real(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.speed)
}

// After returns a channel that receives the virtual time once d of virtual
// time has passed.
func (c *ScaledClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	time.AfterFunc(c.Real(d), func() { ch <- c.Now() })
	return ch
}

// Sleep waits d of virtual time.
func (c *ScaledClock) Sleep(d time.Duration) { time.Sleep(c.Real(d)) }

// NewTimer returns a channel that receives once d of virtual time from now,
// and a stop function with time.Timer.Stop's meaning (source/poll's Clock).
func (c *ScaledClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	ch := make(chan time.Time, 1)
	t := time.AfterFunc(c.Real(d), func() { ch <- c.Now() })
	return ch, t.Stop
}
