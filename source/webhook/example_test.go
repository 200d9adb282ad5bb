package webhook_test

import (
	"fmt"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/source/webhook"
)

func ExampleTrigger_Handle() {
	cfg := webhook.DefaultConfig()
	cfg.ControlChannelID = "1100000000000000001"
	cfg.Whitelist = []string{"1200000000000000002"}
	cfg.Username = "ET:Legacy Stats"
	trig, err := webhook.NewTrigger(cfg, nil, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	msg := func(id, webhookID, content string) *discordgo.MessageCreate {
		return &discordgo.MessageCreate{Message: &discordgo.Message{
			ID: id, ChannelID: "1100000000000000001", WebhookID: webhookID, Content: content,
			Author: &discordgo.User{ID: webhookID, Username: "ET:Legacy Stats"},
		}}
	}
	d := trig.Handle(msg("1", "1200000000000000002", "📊 `2026-01-15-222119-te_escape2-round-1.txt`"))
	fmt.Println(d.Events[0].Name.Map, d.Events[0].Name.Round, d.Events[0].Name.Kind, d.Events[0].Via)
	d = trig.Handle(msg("2", "1200000000000000002", "📊 `../../etc/passwd.txt`"))
	fmt.Println(d.Ignored)
	d = trig.Handle(msg("3", "", "📊 `2026-01-15-222119-te_escape2-round-1.txt`"))
	fmt.Println(d.Ignored)
	// Output:
	// te_escape2 1 stats webhook
	// bad_name: path separator
	// not_webhook
}
