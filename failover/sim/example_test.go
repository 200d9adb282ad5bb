package sim_test

import (
	"fmt"
	"os"

	"github.com/roundfeed/roundfeed/failover/sim"
)

// Run one policy on one scenario.
func ExampleRun() {
	p, _ := sim.PolicyByName(sim.PolicyRoundfeed)
	sc, _ := sim.ScenarioByName(sim.ScenarioNotifierCrash)
	r, err := sim.Run(p, sc, 1, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Lost, r.Duplicates, r.LatencyMax <= 180)
	// Output: 0 0 true
}

// Compare the policies on a silent notifier crash.
func ExampleTable() {
	sc, _ := sim.ScenarioByName(sim.ScenarioNotifierCrash)
	rows, err := sim.Table(sim.Policies(), []sim.Scenario{sc}, sim.Options{Seed: 1, Nights: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rows {
		fmt.Printf("%-9s lost=%d slow=%v\n", r.Policy, r.Lost, r.LatencyMax > 180)
	}
	// Output:
	// both      lost=0 slow=false
	// proposal  lost=0 slow=true
	// roundfeed lost=0 slow=false
}

// Print the whole table.
func ExampleWriteTable() {
	rows, err := sim.Table(sim.Policies(), sim.Scenarios()[:1], sim.Options{Seed: 1, Nights: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := sim.WriteTable(os.Stdout, rows[:1]); err != nil {
		fmt.Println(err)
	}
	// Output:
	//   policy  scenario  files  lost  dup  p50 s  p99 s  max s  handshakes/h  discovery/h  failovers
	//   both    healthy      66     0    0    3.9    4.8    4.8         71.35        360.0          0
}
