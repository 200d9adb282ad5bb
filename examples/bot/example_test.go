package main

import (
	"fmt"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source/webhook"
)

// Example_ownBot shows the push path inside an existing discordgo bot: the
// control channel's messages go to a webhook.Trigger, accepted file names
// become events for your importer, and each import's outcome goes to the
// failover machine, which says when your SFTP polling must run.
func Example_ownBot() {
	cfg := webhook.DefaultConfig()
	cfg.ControlChannelID = "200"
	cfg.Whitelist = []string{"600"} // the notifier's webhook ID
	cfg.Username = "ET:Legacy Stats"
	trig, err := webhook.NewTrigger(cfg, nil, nil)
	if err != nil {
		panic(err)
	}
	clock := failover.NewManualClock(time.Date(2026, 1, 15, 21, 0, 0, 0, time.UTC))
	machine, err := failover.NewMachine(failover.DefaultConfig(), clock)
	if err != nil {
		panic(err)
	}

	// In your bot: session.AddHandler(func(s *discordgo.Session, m *discordgo.MessageCreate) { ... })
	onMessage := func(m *discordgo.MessageCreate) {
		d := trig.Handle(m)
		for _, ev := range d.Events {
			gen := machine.Generation() // stamp the work when it starts
			// ... fetch, parse and store ev.Name here; then report the outcome:
			kind := failover.KindStats
			if ev.Name.Kind == parser.KindEndstats {
				kind = failover.KindEndstats
			}
			res := machine.Record(gen, kind, failover.Success, "")
			fmt.Printf("import %s (via %s)\n", ev.Name, ev.Via)
			for _, t := range res.Transitions {
				fmt.Println("polling:", t.To)
			}
		}
		if d.Limited() {
			machine.Record(0, failover.KindStats, failover.Failure, "rate_limited")
		}
	}

	for i, name := range []string{"2026-01-15-222119-te_escape2-round-1.txt", "2026-01-15-223840-te_escape2-round-2.txt"} {
		onMessage(&discordgo.MessageCreate{Message: &discordgo.Message{
			ID: fmt.Sprint(1000 + i), ChannelID: "200", WebhookID: "600", Content: "📊 `" + name + "`",
			Author: &discordgo.User{ID: "600", Username: "ET:Legacy Stats", Bot: true},
		}})
	}
	// A normal user typing the same text is ignored.
	onMessage(&discordgo.MessageCreate{Message: &discordgo.Message{
		ID: "1002", ChannelID: "200", Content: "📊 `2026-01-15-224000-supply-round-1.txt`",
		Author: &discordgo.User{ID: "42", Username: "someone"},
	}})
	fmt.Println("polling enabled:", machine.PollingEnabled())
	// Output:
	// import 2026-01-15-222119-te_escape2-round-1.txt (via webhook)
	// import 2026-01-15-223840-te_escape2-round-2.txt (via webhook)
	// polling: off
	// polling enabled: false
}
