package testutil

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 15, 21, 0, 0, 0, time.UTC)

func fired(ch <-chan time.Time) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestClockManual(t *testing.T) {
	t.Parallel()
	c := NewClock(t0)
	if !fired(c.After(0)) {
		t.Fatal("After(0) did not fire at once")
	}
	a := c.After(2 * time.Second)
	b, stop := c.NewTimer(3 * time.Second)
	<-c.Armed()
	if !c.HasTimerAt(t0.Add(2*time.Second)) || c.PendingUntil(t0.Add(3*time.Second)) != 2 {
		t.Fatal("armed timers not visible")
	}
	if got := c.Advance(time.Second); !got.Equal(t0.Add(time.Second)) || fired(a) {
		t.Fatalf("after 1s: now %v, early fire %v", got, fired(a))
	}
	c.Advance(time.Second)
	if !fired(a) {
		t.Fatal("2s timer did not fire at its deadline")
	}
	if !stop() || stop() {
		t.Fatal("stop: want true once, then false")
	}
	c.Advance(time.Hour)
	if fired(b) {
		t.Fatal("stopped timer fired")
	}
	if got := c.Waits(); len(got) != 3 || got[1] != 2*time.Second {
		t.Fatalf("waits %v", got)
	}
}

func TestClockAuto(t *testing.T) {
	t.Parallel()
	c := NewAutoClock(t0)
	tests := []struct {
		d    time.Duration
		want time.Time
	}{
		{time.Second, t0.Add(time.Second)},
		{-time.Second, t0.Add(time.Second)},
		{time.Minute, t0.Add(61 * time.Second)},
	}
	for _, tc := range tests {
		select {
		case at := <-c.After(tc.d):
			if !at.Equal(tc.want) || !c.Now().Equal(tc.want) {
				t.Fatalf("After(%v) fired at %v, now %v; want %v", tc.d, at, c.Now(), tc.want)
			}
		default:
			t.Fatalf("After(%v) did not fire at once", tc.d)
		}
	}
}
