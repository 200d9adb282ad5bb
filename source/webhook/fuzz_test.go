package webhook

import (
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/parser"
)

// FuzzHandle feeds arbitrary content and embeds from a whitelisted webhook.
// Handle must never panic; any accepted or rate-limited name must pass
// ValidateName and be a backticked token of the content, never of an embed;
// a STATS_READY trigger must carry a map and round a valid name can hold.
func FuzzHandle(f *testing.F) {
	f.Add("📊 `"+goodName+"`", "Round Complete", "**te_escape2** - Round 1", "Map", "te_escape2")
	f.Add("🏆 `2026-01-15-222119-te_escape2-round-1-endstats.txt`", "", "", "", "")
	f.Add("📊 `../"+goodName+"`", "", "`"+goodName+"`", "file", "`"+goodName+"`")
	f.Add(ReadyContent, "", "", "Lua_RoundEnd", "1768512079")
	f.Add(ReadyContent, "Map", "te_escape2", "Round", "1")
	f.Add("```"+goodName+"```", "", "", "", "")
	f.Add("`\x00.txt` `"+goodName+"`", "", "", "", "")
	f.Add(HeartbeatContent, "", "", "", "")
	f.Fuzz(func(t *testing.T, content, f1name, f1value, f2name, f2value string) {
		trig, _ := newTestTrigger(t, nil)
		m := hookMessage(msgID(1), content)
		m.Embeds = []*discordgo.MessageEmbed{{
			Title:       f1name,
			Description: f1value,
			Fields: []*discordgo.MessageEmbedField{
				{Name: f1name, Value: f1value},
				{Name: f2name, Value: f2value},
				{Name: "Lua_RoundEnd", Value: f2value},
				{Name: "Round", Value: f1value},
			},
		}}
		d := trig.Handle(m)
		for _, e := range append(d.Events, d.RateLimited...) {
			if _, err := parser.ValidateName(e.Name.Raw); err != nil {
				t.Fatalf("accepted %q: %v", e.Name.Raw, err)
			}
			if !strings.Contains(content, "`"+e.Name.Raw+"`") {
				t.Fatalf("accepted %q, not a backticked token of the content", e.Name.Raw)
			}
		}
		for _, r := range []*ReadyTrigger{d.Ready, d.LimitedReady} {
			if r == nil {
				continue
			}
			if content != ReadyContent || r.Round < 1 || r.Round > 10 || r.RoundEnd.Unix() <= 0 {
				t.Fatalf("ready %+v from %q", r, content)
			}
			if _, err := parser.ValidateName("2000-01-01-000000-" + r.Map + "-round-1.txt"); err != nil {
				t.Fatalf("ready map %q: %v", r.Map, err)
			}
		}
	})
}
