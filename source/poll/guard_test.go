package poll_test

import (
	"sync"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/source/poll"
)

// Many goroutines share one Guard. The callback runs without the machine's
// lock (it calls Status, which would deadlock otherwise), one at a time, and
// sees every transition in generation order.
func TestGuardConcurrent(t *testing.T) {
	t.Parallel()
	clk := failover.NewManualClock(time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC))
	m, err := failover.NewMachine(failover.DefaultConfig(), clk)
	if err != nil {
		t.Fatal(err)
	}
	var (
		g        *poll.Guard
		inCb     sync.Mutex // held by the callback: overlapping calls would fail TryLock
		got      []failover.Transition
		overlaps int
	)
	g = poll.NewGuard(m, func(r failover.Result) {
		if !inCb.TryLock() {
			overlaps++
			return
		}
		defer inCb.Unlock()
		_ = g.Status()
		got = append(got, r.Transitions...)
	})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 500 {
				switch (w + i) % 5 {
				case 0:
					g.Record(g.Generation(), failover.KindStats, failover.Failure, "missed")
				case 4:
					g.Tick(6)
					_ = g.PollingEnabled()
				default:
					g.Record(0, failover.KindStats, failover.Success, "")
				}
			}
		})
	}
	wg.Wait()
	if overlaps != 0 {
		t.Fatalf("%d callbacks overlapped", overlaps)
	}
	s := g.Status()
	if len(got) == 0 || uint64(len(got)) != s.Generation-1 {
		t.Fatalf("callback saw %d transitions, machine made %d", len(got), s.Generation-1)
	}
	for i := 1; i < len(got); i++ {
		if got[i].From != got[i-1].To {
			t.Fatalf("transition %d out of order: %v after %v", i, got[i], got[i-1])
		}
	}
	snap, err := g.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Restore(snap); err != nil || g.Mode() != failover.PollingOn {
		t.Fatalf("restore: mode %s err %v", g.Mode(), err)
	}
	if err := g.Restore([]byte("{")); err == nil {
		t.Fatal("bad snapshot accepted")
	}
}
