package failover_test

import (
	"fmt"
	"time"

	"github.com/roundfeed/roundfeed/failover"
)

func ExampleMachine() {
	clk := failover.NewManualClock(time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC))
	m, err := failover.NewMachine(failover.DefaultConfig(), clk)
	if err != nil {
		panic(err)
	}
	show := func(r failover.Result) {
		for _, t := range r.Transitions {
			fmt.Println(t)
		}
		for _, a := range r.Alerts {
			fmt.Println(a)
		}
	}
	fmt.Println("start:", m.Mode())

	// Two rounds arrive by push and import fine: push is healthy.
	show(m.Record(m.Generation(), failover.KindStats, failover.Success, ""))
	clk.Advance(15 * time.Minute)
	show(m.Record(m.Generation(), failover.KindStats, failover.Success, ""))

	// A round push announced cannot be fetched: polling comes back at once.
	gen := m.Generation() // stamped when the import starts
	clk.Advance(10 * time.Minute)
	show(m.Record(gen, failover.KindStats, failover.Failure, "not_found"))
	fmt.Println("polling:", m.PollingEnabled(), "failovers:", m.Status().Failovers)
	// Output:
	// start: on
	// polling on -> off: push healthy: 2 consecutive stats successes
	// polling off -> on: push failure: stats not_found
	// alert failover: push failure: stats not_found
	// polling: true failovers: 1
}

func ExampleSchedule() {
	s, err := failover.NewSchedule(failover.DefaultScheduleConfig())
	if err != nil {
		panic(err)
	}
	paris := s.Location()
	now := time.Date(2026, 11, 28, 21, 0, 0, 0, paris)
	p := s.Plan(failover.PlanInput{
		Now:      now,
		Players:  8,
		LastPoll: now.Add(-20 * time.Second),
		Mode:     failover.PollingOn,
	})
	fmt.Println(p.Phase, p.Interval, p.NextPoll.Sub(now))

	// At 01:59 polling would be due at 02:09, which is in the dead hours: it
	// moves to 11:00.
	now = time.Date(2026, 11, 29, 1, 59, 0, 0, paris)
	p = s.Plan(failover.PlanInput{Now: now, LastPoll: now, LastFullList: now, Mode: failover.PollingOn})
	fmt.Println(p.Phase, p.NextPoll.In(paris).Format("Jan 2 15:04"))
	// Output:
	// active 1m0s 40s
	// idle Nov 29 11:00
}
