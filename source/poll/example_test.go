package poll_test

import (
	"context"
	"fmt"

	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/source/poll"
)

// oneFile is a Lister with one file.
type oneFile struct{}

func (oneFile) List(context.Context) ([]source.Entry, error) {
	n, err := parser.ValidateName("2026-11-28-210501-supply-round-1.txt")
	return []source.Entry{{Name: n}}, err
}

func ExamplePoller() {
	m, err := failover.NewMachine(failover.DefaultConfig(), poll.SystemClock())
	if err != nil {
		panic(err)
	}
	guard := poll.NewGuard(m, func(r failover.Result) {
		// Log transitions and post alerts here.
	})
	sc := failover.DefaultScheduleConfig()
	sc.DeadFrom, sc.DeadUntil = 0, 0 // no dead hours, so this example lists at once whenever it runs
	sched, err := failover.NewSchedule(sc)
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := poll.New(poll.Config{
		Server: "main", Schedule: sched, Guard: guard, Lister: oneFile{},
		Emit: func(e source.Event) {
			fmt.Println(e.Server, e.Via, e.Name)
			cancel() // a real bot hands the event to the pipeline and keeps going
		},
		Players: func() int { return 6 },
	})
	if err != nil {
		panic(err)
	}
	// In the bot: call p.Seen(name) for each file the webhook reports.
	err = p.Run(ctx) // polling starts on: the first listing runs at once
	fmt.Println(err)
	// Output:
	// main poll 2026-11-28-210501-supply-round-1.txt
	// context canceled
}
