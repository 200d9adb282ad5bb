package failover_test

import (
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/failover"
)

// TestScheduleInvariants walks a whole year (both DST changes, every
// midnight) in 13-minute steps and checks what must hold at every instant:
// the dead phase is exactly the 02:00-11:00 wall-clock window; nothing is
// ever planned inside it or before now; in the dead phase everything waits
// for the window's end, which reads 11:00 and is at most 10 hours away;
// outside it, a probe is planned exactly when polling is OFF or polls more
// slowly than the probe interval, and never later than a probe interval
// after the folder was last looked at (probe or listing).
func TestScheduleInvariants(t *testing.T) {
	t.Parallel()
	s, err := failover.NewSchedule(failover.DefaultScheduleConfig())
	if err != nil {
		t.Fatal(err)
	}
	loc := s.Location()
	inDead := func(t time.Time) bool { h := t.In(loc).Hour(); return h >= 2 && h < 11 }
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	end := time.Date(2027, 1, 1, 0, 0, 0, 0, loc)
	n := 0
	for now := start; now.Before(end); now = now.Add(13 * time.Minute) {
		n++
		for _, mode := range []failover.Mode{failover.PollingOn, failover.PollingOff} {
			in := failover.PlanInput{Now: now, Players: n % 9, Mode: mode,
				LastPoll: now.Add(-time.Duration(n%13) * time.Minute), LastProbe: now.Add(-30 * time.Second),
				LastFullList: now.Add(-time.Duration(n%40) * time.Minute), LastFile: now.Add(-time.Duration(n%50) * time.Minute)}
			p := s.Plan(in)
			if (p.Phase == failover.PhaseDead) != inDead(now) {
				t.Fatalf("%s: phase %s", now.In(loc), p.Phase)
			}
			for _, next := range []time.Time{p.NextPoll, p.NextProbe, p.NextFullList} {
				if next.IsZero() {
					continue
				}
				if next.Before(now) {
					t.Fatalf("%s (%s): planned %s, before now", now.In(loc), mode, next.In(loc))
				}
				if inDead(next) {
					t.Fatalf("%s (%s): planned %s, inside dead hours", now.In(loc), mode, next.In(loc))
				}
				if p.Phase == failover.PhaseDead {
					w := next.In(loc)
					if w.Hour() != 11 || w.Minute() != 0 || w.Second() != 0 || next.Sub(now) > 10*time.Hour {
						t.Fatalf("%s: dead phase waits until %s", now.In(loc), w)
					}
				}
			}
			if p.NextFullList.IsZero() {
				t.Fatalf("%s: no full listing planned", now.In(loc))
			}
			if p.Phase != failover.PhaseDead {
				probeIv := s.Config().ProbeInterval
				wantProbe := mode == failover.PollingOff || p.Interval > probeIv
				if !p.NextProbe.IsZero() != wantProbe {
					t.Fatalf("%s (%s, %s, poll every %v): probe planned %v, want %v", now.In(loc), mode, p.Phase, p.Interval, !p.NextProbe.IsZero(), wantProbe)
				}
				looked := later(in.LastProbe, later(in.LastPoll, in.LastFullList))
				if wantProbe && p.NextProbe.After(later(now, looked.Add(probeIv))) && !inDead(looked.Add(probeIv)) {
					t.Fatalf("%s (%s): probe at %s, more than %v after the folder was last looked at", now.In(loc), mode, p.NextProbe.In(loc), probeIv)
				}
			}
		}
	}
	if n < 40000 {
		t.Fatalf("walked %d instants", n)
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
