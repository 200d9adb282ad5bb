package webhook

import "time"

// seenSet remembers keys (message IDs, STATS_READY payload keys) for a TTL,
// in bounded memory. Keys are added in clock order, so a FIFO queue holds
// them oldest first and expiry pops from its front. Not safe for concurrent
// use: the Trigger's mutex guards it.
type seenSet struct {
	ttl   time.Duration
	max   int
	at    map[string]time.Time
	order []seenItem // oldest first; order[head:] is live
	head  int
}

type seenItem struct {
	key string
	at  time.Time
}

func newSeenSet(ttl time.Duration, max int) *seenSet {
	return &seenSet{ttl: ttl, max: max, at: make(map[string]time.Time)}
}

// has reports whether key was added less than ttl before now.
func (s *seenSet) has(key string, now time.Time) bool {
	t, ok := s.at[key]
	return ok && now.Sub(t) < s.ttl
}

// add remembers key at now. It returns how many live entries had to be
// forgotten early because the set was full.
func (s *seenSet) add(key string, now time.Time) (evicted int) {
	s.expire(now)
	if _, ok := s.at[key]; ok {
		// Still queued under its old time; refresh by re-adding. The stale
		// queue item is skipped when popped (its time no longer matches).
		s.at[key] = now
		s.order = append(s.order, seenItem{key, now})
		return 0
	}
	for len(s.at) >= s.max {
		s.pop()
		evicted++
	}
	s.at[key] = now
	s.order = append(s.order, seenItem{key, now})
	return evicted
}

// expire forgets entries older than ttl.
func (s *seenSet) expire(now time.Time) {
	for s.head < len(s.order) && now.Sub(s.order[s.head].at) >= s.ttl {
		s.pop()
	}
}

// pop removes the oldest queue item, and its key unless it was refreshed.
func (s *seenSet) pop() {
	it := s.order[s.head]
	s.order[s.head] = seenItem{}
	s.head++
	if t, ok := s.at[it.key]; ok && t.Equal(it.at) {
		delete(s.at, it.key)
	}
	// Compact once the dead prefix is half the slice, so memory stays
	// proportional to the live entries.
	if s.head > 64 && s.head*2 >= len(s.order) {
		n := copy(s.order, s.order[s.head:])
		clear(s.order[n:])
		s.order = s.order[:n]
		s.head = 0
	}
}

func (s *seenSet) len() int { return len(s.at) }
