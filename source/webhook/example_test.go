package webhook_test

import (
	"context"
	"fmt"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
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

// listing is a stand-in for the SFTP or local lister of the stats folder.
type listing []source.Entry

func (l listing) List(context.Context) ([]source.Entry, error) { return l, nil }

func ExampleTrigger_Resolve() {
	cfg := webhook.DefaultConfig()
	cfg.ControlChannelID = "1100000000000000001"
	cfg.Whitelist = []string{"1200000000000000002"}
	trig, _ := webhook.NewTrigger(cfg, nil, nil)

	// The Lua webhook: no file name, the round's metadata in an embed.
	field := func(name, value string) *discordgo.MessageEmbedField {
		return &discordgo.MessageEmbedField{Name: name, Value: value}
	}
	d := trig.Handle(&discordgo.MessageCreate{Message: &discordgo.Message{
		ID: "1", ChannelID: "1100000000000000001", WebhookID: "1200000000000000002", Content: "STATS_READY",
		Author: &discordgo.User{ID: "1200000000000000002", Username: "ET:Legacy Lua"},
		Embeds: []*discordgo.MessageEmbed{{Fields: []*discordgo.MessageEmbedField{
			field("Map", "te_escape2"), field("Round", "1"), field("Winner", "Axis"),
			field("Lua_Playtime", "612 sec"), field("Lua_RoundEnd", "1768512079"), // 22:21:19 in Paris
		}}},
	}})

	var folder listing
	for _, n := range []string{
		"2026-01-15-222119-te_escape20-round-1.txt", // another map
		"2026-01-15-222120-te_escape2-round-1.txt",  // one second after the round end: this one
		"2026-01-15-200000-te_escape2-round-1.txt",  // hours earlier
	} {
		name, _ := parser.ValidateName(n)
		folder = append(folder, source.Entry{Name: name})
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	ev, err := trig.Resolve(context.Background(), *d.Ready, folder, paris)
	fmt.Println(ev.Name, ev.Meta["winner"], err)
	// Output: 2026-01-15-222120-te_escape2-round-1.txt Axis <nil>
}
