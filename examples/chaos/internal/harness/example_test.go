package harness_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/roundfeed/roundfeed/examples/chaos/internal/harness"
)

// A run's schedule comes from its seed alone: the files, their webhook
// messages (dropped, delayed, duplicated, reordered) and the faults.
func ExampleNewPlan() {
	p := harness.NewPlan(7, time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC), 1)
	lines := strings.Split(p.String(), "\n")
	for _, l := range lines[:8] {
		fmt.Println(strings.TrimRight(l, " "))
	}
	// Output:
	// seed 7: 2 matches, 8 files, trigger rate 2/s
	//       13ms ssh-cut-mid-read   for 814ms
	//       26ms twin-worker        for 684ms
	//       32ms archive-unwritable for 791ms
	//       50ms write              2026-11-27-175959-te_escape2-round-1-endstats.txt
	//       77ms message            2026-11-27-175959-te_escape2-round-1-endstats.txt id 1300000000000007001
	//      105ms write              2026-11-27-180000-te_escape2-round-1.txt
	//      118ms message            2026-11-27-180000-te_escape2-round-1.txt id 1300000000000007002
}
