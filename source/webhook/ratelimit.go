package webhook

import "time"

// limiter is a sliding-window rate limit per key: at most rate events in any
// window. It keeps the accepted times only, so memory per key is bounded by
// rate. Keys are whitelisted webhook IDs, a bounded set. Not safe for
// concurrent use: the Trigger's mutex guards it.
type limiter struct {
	rate   int
	window time.Duration
	times  map[string][]time.Time
}

func newLimiter(rate int, window time.Duration) *limiter {
	return &limiter{rate: rate, window: window, times: make(map[string][]time.Time)}
}

// allow reports whether one more event for key fits at now, and records it
// if so. A refused event is not recorded: a flood does not extend the ban.
func (l *limiter) allow(key string, now time.Time) bool {
	ts := l.times[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) >= l.rate {
		l.times[key] = ts
		return false
	}
	l.times[key] = append(ts, now)
	return true
}
