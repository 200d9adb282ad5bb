package failover_test

import (
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/failover"
)

// BenchmarkRecord measures one outcome through the machine, alternating
// transitions so both paths run.
func BenchmarkRecord(b *testing.B) {
	clk := failover.NewManualClock(time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC))
	m, err := failover.NewMachine(failover.DefaultConfig(), clk)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		o := failover.Success
		if i%4 == 3 {
			o = failover.Failure
		}
		m.Record(m.Generation(), failover.KindStats, o, "missed")
		m.Tick(6)
	}
}

// BenchmarkPlan measures one schedule plan (the poller calls it every step).
func BenchmarkPlan(b *testing.B) {
	s, err := failover.NewSchedule(failover.DefaultScheduleConfig())
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 28, 21, 0, 0, 0, s.Location())
	in := failover.PlanInput{Now: now, Players: 7, LastPoll: now.Add(-30 * time.Second),
		LastProbe: now.Add(-10 * time.Second), LastFullList: now.Add(-time.Hour), Mode: failover.PollingOff}
	b.ReportAllocs()
	for b.Loop() {
		s.Plan(in)
	}
}
