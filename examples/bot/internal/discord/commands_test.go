package discord

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

func testStatus(pollingOn bool) func(context.Context, string) ([]StatusView, error) {
	now := time.Date(2026, 1, 15, 22, 0, 0, 0, time.UTC)
	return func(context.Context, string) ([]StatusView, error) {
		return []StatusView{{
			SmartEnabled: true, PollingOn: pollingOn, ConsecutiveSuccesses: 1, ConsecutiveFailures: 0,
			LastWebhookSuccess: now.Add(-90 * time.Second), SuccessThreshold: 2, FailureThreshold: 1,
			HeartbeatTimeout: 15 * time.Minute, HeartbeatMinPlayers: 4,
			TimeWebhook: 3 * time.Hour, TimePolling: 20 * time.Minute, Failovers: 3, Recoveries: 2,
			MeanTimeToRecover: 4 * time.Minute, LastProbe: now.Add(-30 * time.Second), OutboxBacklog: 5,
			PlayersInVoice: 7, Now: now,
		}}, nil
	}
}

// serversStatus answers for two servers, alpha polling and bravo not.
func serversStatus(ctx context.Context, server string) ([]StatusView, error) {
	all := []StatusView{{Server: "alpha", SmartEnabled: true, PollingOn: true}, {Server: "bravo", SmartEnabled: true}}
	if server == "" {
		return all, nil
	}
	for _, v := range all {
		if v.Server == server {
			return []StatusView{v}, nil
		}
	}
	return nil, errors.New("unknown server " + server + " (have alpha, bravo)")
}

// TestStatusServers: no argument shows every server, a name shows that
// one, an unknown name says which servers exist; the slash command's
// server option does the same.
func TestStatusServers(t *testing.T) {
	t.Parallel()
	c := &Commands{GuildID: "900", Status: serversStatus, IsAdmin: adminIDs("1")}
	titles := func(es []*discordgo.MessageEmbed) string {
		var out []string
		for _, e := range es {
			out = append(out, e.Title)
		}
		return strings.Join(out, "|")
	}
	for _, tc := range []struct{ content, want string }{
		{"!failover-status", "Failover status: alpha|Failover status: bravo"},
		{"!failover-status bravo", "Failover status: bravo"},
		{"!failover  alpha  extra", "Failover status: alpha"},
		{"!failover-status charlie", "Failover status unavailable"},
	} {
		r := c.Reply(context.Background(), nil, message("1", tc.content))
		if r == nil {
			t.Fatalf("%q: no reply", tc.content)
		}
		if got := titles(r.Embeds); got != tc.want {
			t.Errorf("%q: embeds %q, want %q", tc.content, got, tc.want)
		}
		if tc.want == "Failover status unavailable" && !strings.Contains(r.Embeds[0].Description, "have alpha, bravo") {
			t.Errorf("%q: %q", tc.content, r.Embeds[0].Description)
		}
	}
	i := interaction("1", 0)
	i.Data = discordgo.ApplicationCommandInteractionData{ID: "c1", Name: StatusCommand, Options: []*discordgo.ApplicationCommandInteractionDataOption{
		{Name: StatusServerOption, Type: discordgo.ApplicationCommandOptionString, Value: "alpha"}}}
	resp := c.InteractionReply(context.Background(), nil, i)
	if resp == nil || titles(resp.Data.Embeds) != "Failover status: alpha" {
		t.Fatalf("slash with server: %+v", resp)
	}
	if resp := c.InteractionReply(context.Background(), nil, interaction("1", 0)); titles(resp.Data.Embeds) != "Failover status: alpha|Failover status: bravo" {
		t.Errorf("slash without server: %q", titles(resp.Data.Embeds))
	}
}

func TestParseStatusCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text   string
		ok     bool
		server string
	}{
		{"!failover-status", true, ""}, {" !FAILOVER  main ", true, "main"}, {"!webhook-status x y", true, "x"},
		{"!failover-statusx", false, ""}, {"", false, ""}, {"hello !failover", false, ""},
	} {
		ok, server := ParseStatusCommand(tc.text)
		if ok != tc.ok || server != tc.server {
			t.Errorf("%q: %v %q, want %v %q", tc.text, ok, server, tc.ok, tc.server)
		}
	}
}

// adminIDs is an injectable AdminFunc for tests.
func adminIDs(ids ...string) AdminFunc {
	return func(_ *discordgo.Session, _, userID string, _ *discordgo.Member) bool {
		for _, id := range ids {
			if id == userID {
				return true
			}
		}
		return false
	}
}

func message(userID, content string) *discordgo.MessageCreate {
	return &discordgo.MessageCreate{Message: &discordgo.Message{
		ID: "m-" + userID, ChannelID: "500", GuildID: "900", Content: content,
		Author: &discordgo.User{ID: userID, Username: "u" + userID},
	}}
}

func fieldMap(fields []any) map[string]string {
	got := map[string]string{}
	for _, fl := range fields {
		m := fl.(map[string]any)
		got[m["name"].(string)] = m["value"].(string)
	}
	return got
}

func TestStatusTextCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		user    string
		content string
		polling bool
		want    string // "refusal", "embed" or "" for no reply
		color   float64
	}{
		{"admin primary alias", "1", "!failover-status", false, "embed", ColorGreen},
		{"admin short alias", "1", "!failover", true, "embed", ColorOrange},
		{"admin webhook alias", "1", "!webhook-status now", false, "embed", ColorGreen},
		{"non-admin", "2", "!failover-status", false, "refusal", 0},
		{"other text", "1", "!failover-statusx", false, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, s := newFakeDiscord(t, func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, 200, map[string]any{"id": "reply"})
			})
			c := &Commands{GuildID: "900", Status: testStatus(tc.polling), IsAdmin: adminIDs("1")}
			c.OnMessage(s, message(tc.user, tc.content))
			reqs := f.requests()
			if tc.want == "" {
				if len(reqs) != 0 {
					t.Fatalf("replied to %q", tc.content)
				}
				return
			}
			if len(reqs) != 1 || reqs[0].Path != "/api/v9/channels/500/messages" {
				t.Fatalf("requests = %+v", reqs)
			}
			body := reqs[0].Body
			if tc.want == "refusal" {
				if body["content"] != RefusalText || body["embeds"] != nil {
					t.Fatalf("refusal body = %v", body)
				}
				return
			}
			e := body["embeds"].([]any)[0].(map[string]any)
			if e["color"] != tc.color {
				t.Errorf("color = %v, want %v", e["color"], tc.color)
			}
			got := fieldMap(e["fields"].([]any))
			for _, name := range StatusFieldNames {
				if got[name] == "" {
					t.Errorf("field %q missing", name)
				}
			}
			wantMode := ModeWebhook
			if tc.polling {
				wantMode = ModePolling
			}
			checks := map[string]string{
				"Mode": wantMode, "Consecutive successes": "1", "Consecutive failures": "0",
				"Polling enabled":      map[bool]string{true: "yes", false: "no"}[tc.polling],
				"Last webhook success": "1m30s ago", "Thresholds": "success 2, failure 1",
				"Heartbeat timeout": "15m0s with >= 4 in voice", "Time in webhook mode": "3h0m0s",
				"Time in polling mode": "20m0s", "Failovers": "3 (recoveries 2)", "Mean time to recover": "4m0s",
				"Last probe": "30s ago", "Outbox backlog": "5", "Players in voice": "7",
			}
			for k, want := range checks {
				if !strings.HasPrefix(got[k], want) {
					t.Errorf("%s = %q, want prefix %q", k, got[k], want)
				}
			}
		})
	}
}

func TestStatusIgnoresBotsAndWebhooks(t *testing.T) {
	t.Parallel()
	c := &Commands{Status: testStatus(false), IsAdmin: adminIDs("1")}
	bot := message("1", "!failover")
	bot.Author.Bot = true
	hook := message("1", "!failover")
	hook.WebhookID = "77"
	dm := message("1", "!failover")
	dm.GuildID = ""
	for _, m := range []*discordgo.MessageCreate{bot, hook, dm} {
		if r := c.Reply(context.Background(), nil, m); r != nil {
			t.Errorf("replied to %+v", m.Message)
		}
	}
}

func interaction(userID string, perms int64) *discordgo.InteractionCreate {
	return &discordgo.InteractionCreate{Interaction: &discordgo.Interaction{
		ID: "i1", AppID: "app", Type: discordgo.InteractionApplicationCommand, GuildID: "900", ChannelID: "500", Token: "itoken",
		Data:   discordgo.ApplicationCommandInteractionData{ID: "c1", Name: StatusCommand},
		Member: &discordgo.Member{User: &discordgo.User{ID: userID}, Permissions: perms},
	}}
}

func TestStatusSlashCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		perms int64
		admin bool
	}{
		{"administrator", discordgo.PermissionAdministrator | discordgo.PermissionSendMessages, true},
		{"manage messages only", discordgo.PermissionManageMessages, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, s := newFakeDiscord(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(204) })
			// Default admin check: interaction member permissions.
			c := &Commands{GuildID: "900", Status: testStatus(true)}
			c.OnInteraction(s, interaction("3", tc.perms))
			reqs := f.requests()
			if len(reqs) != 1 || reqs[0].Path != "/api/v9/interactions/i1/itoken/callback" {
				t.Fatalf("requests = %+v", reqs)
			}
			data := reqs[0].Body["data"].(map[string]any)
			if !tc.admin {
				if data["content"] != RefusalText || data["flags"] != float64(discordgo.MessageFlagsEphemeral) {
					t.Fatalf("refusal = %v", data)
				}
				return
			}
			e := data["embeds"].([]any)[0].(map[string]any)
			got := fieldMap(e["fields"].([]any))
			for _, name := range StatusFieldNames {
				if got[name] == "" {
					t.Errorf("field %q missing", name)
				}
			}
			if got["Mode"] != ModePolling || e["color"] != float64(ColorOrange) {
				t.Errorf("mode %q color %v", got["Mode"], e["color"])
			}
		})
	}
}

func TestAdminFromState(t *testing.T) {
	t.Parallel()
	s, _ := discordgo.New(testToken)
	g := &discordgo.Guild{ID: "900", OwnerID: "owner", Roles: []*discordgo.Role{
		{ID: "900", Permissions: discordgo.PermissionSendMessages},
		{ID: "r-admin", Permissions: discordgo.PermissionAdministrator},
		{ID: "r-mod", Permissions: discordgo.PermissionManageMessages},
	}, Members: []*discordgo.Member{{GuildID: "900", User: &discordgo.User{ID: "cached-admin"}, Roles: []string{"r-admin"}}}}
	if err := s.State.GuildAdd(g); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		user   string
		member *discordgo.Member
		want   bool
	}{
		{"owner", "owner", nil, true},
		{"admin role on message member", "a", &discordgo.Member{Roles: []string{"r-mod", "r-admin"}}, true},
		{"mod role", "m", &discordgo.Member{Roles: []string{"r-mod"}}, false},
		{"no roles", "x", &discordgo.Member{}, false},
		{"member from state", "cached-admin", nil, true},
		{"unknown guild member", "y", nil, false},
	}
	for _, tc := range tests {
		if got := AdminFromState(s, "900", tc.user, tc.member); got != tc.want {
			t.Errorf("%s: admin = %v, want %v", tc.name, got, tc.want)
		}
	}
	if AdminFromState(s, "other-guild", "owner", nil) {
		t.Error("admin in an unknown guild")
	}
}

func TestRegisterCommandsIdempotent(t *testing.T) {
	t.Parallel()
	var existing []*discordgo.ApplicationCommand
	f, s := newFakeDiscord(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.Method {
		case "GET":
			writeJSON(w, 200, existing)
		default:
			writeJSON(w, 200, map[string]any{"id": "cmd1", "name": StatusCommand})
		}
	})
	want := StatusSlashCommand()
	n, err := RegisterCommands(s, "app", "900", want)
	if err != nil || n != 1 {
		t.Fatalf("first: %d writes, %v", n, err)
	}
	reqs := f.requests()
	if reqs[1].Method != "POST" || reqs[1].Path != "/api/v9/applications/app/guilds/900/commands" {
		t.Fatalf("create = %+v", reqs[1])
	}
	// Discord now has it: a restart writes nothing.
	same := *want
	same.ID = "cmd1"
	existing = []*discordgo.ApplicationCommand{&same}
	if n, err := RegisterCommands(s, "app", "900", want); err != nil || n != 0 {
		t.Fatalf("unchanged: %d writes, %v", n, err)
	}
	// A changed description is edited in place.
	old := same
	old.Description = "old text"
	existing = []*discordgo.ApplicationCommand{&old}
	if n, err := RegisterCommands(s, "app", "900", want); err != nil || n != 1 {
		t.Fatalf("changed: %d writes, %v", n, err)
	}
	reqs = f.requests()
	last := reqs[len(reqs)-1]
	if last.Method != "PATCH" || last.Path != "/api/v9/applications/app/guilds/900/commands/cmd1" {
		t.Fatalf("edit = %+v", last)
	}
}

func TestPlayersInVoice(t *testing.T) {
	t.Parallel()
	s, _ := discordgo.New(testToken)
	g := &discordgo.Guild{ID: "900", VoiceStates: []*discordgo.VoiceState{
		{UserID: "1", ChannelID: "v1"}, {UserID: "2", ChannelID: "v1"}, {UserID: "3", ChannelID: "v2"},
		{UserID: "4", ChannelID: "afk"},
	}}
	if err := s.State.GuildAdd(g); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		channels []string
		want     int
	}{{[]string{"v1"}, 2}, {[]string{"v1", "v2"}, 3}, {nil, 0}, {[]string{"none"}, 0}} {
		if got := PlayersInVoice(s.State, "900", tc.channels); got != tc.want {
			t.Errorf("%v: %d, want %d", tc.channels, got, tc.want)
		}
	}
	if PlayersInVoice(s.State, "nope", []string{"v1"}) != 0 {
		t.Error("unknown guild counted")
	}
}
