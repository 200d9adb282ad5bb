package sftp

import "time"

// backoff returns the wait before connect attempt failures+1 after failures
// consecutive failed attempts: min doubled per failure, capped at max, with
// "equal jitter" (half fixed, half random by jitter in [0, 1)), so a fleet of
// bots that lost the server at the same moment does not return in lockstep,
// and no wait is shorter than half its step.
func backoff(failures int, min, max time.Duration, jitter float64) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := min
	for i := 1; i < failures && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	if jitter < 0 {
		jitter = 0
	}
	if jitter >= 1 {
		jitter = 0.999999
	}
	return d/2 + time.Duration(jitter*float64(d/2))
}
