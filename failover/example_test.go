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

// After the last round, players stay in voice and push is silent. Quiet
// folder checks (source/poll reports each probe that saw no change) tell
// the heartbeat there was nothing to push, so polling stays off.
func ExampleMachine_Quiet() {
	clk := failover.NewManualClock(time.Date(2026, 11, 29, 0, 55, 0, 0, time.UTC))
	m, err := failover.NewMachine(failover.DefaultConfig(), clk)
	if err != nil {
		panic(err)
	}
	m.Record(0, failover.KindStats, failover.Success, "")
	m.Record(0, failover.KindStats, failover.Success, "") // the last round: polling off
	for range 30 {
		clk.Advance(time.Minute)
		m.Quiet() // a probe saw no change
		m.Tick(7) // still in voice
	}
	fmt.Println("after 30 quiet minutes:", m.Mode())

	// The probes stop (SSH is down): 15 minutes later the heartbeat fires.
	clk.Advance(15 * time.Minute)
	for _, t := range m.Tick(7).Transitions {
		fmt.Println(t)
	}
	// Output:
	// after 30 quiet minutes: off
	// polling off -> on: heartbeat: no push success and no quiet folder check for 15m0s with 7 players in voice
}
