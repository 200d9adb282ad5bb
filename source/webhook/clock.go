package webhook

import (
	"context"
	"time"
)

// Clock is the time source of a Trigger: Now for the seen-set and the rate
// limits, After for the waits between Resolve's listings. Its method set is
// the one source/local uses, so one test clock serves both. Nil means the
// system clock.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives once, d after the call.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// sleep waits d on c, or until ctx is done (then it returns ctx.Err()).
func sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-c.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
