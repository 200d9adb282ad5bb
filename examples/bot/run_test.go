package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/examples/bot/internal/demo"
	"github.com/roundfeed/roundfeed/examples/bot/internal/discord"
	"github.com/roundfeed/roundfeed/examples/bot/internal/gamesim"
	"github.com/roundfeed/roundfeed/internal/testutil"
	"github.com/roundfeed/roundfeed/source/sftp/sftptest"
)

// TestRunCommand runs the real bot command against a stand-in Discord
// (REST and gateway) and a loopback SFTP server: polling imports what is
// there at start, a webhook message imports a new round, an administrator's
// !failover-status gets the embed, /health and /metrics answer, SIGTERM's
// context cancellation stops it cleanly, and the token appears nowhere but
// in the Identify payload and the Authorization header.
func TestRunCommand(t *testing.T) {
	const token = "sekrit-run-token-42"
	// Rounds are written in a staging folder and only their stats files
	// copied to the served one: an endstats file that arrives before its
	// round waits seconds for a retry, which this test does not need.
	staging, dir := t.TempDir(), t.TempDir()
	sim, err := gamesim.New(gamesim.DefaultConfig(staging))
	if err != nil {
		t.Fatal(err)
	}
	publish := func(at time.Time) gamesim.Round {
		t.Helper()
		r, err := sim.WriteRound(at)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(staging, r.Stats))
		if err == nil {
			tmp := filepath.Join(dir, "."+r.Stats)
			if err = os.WriteFile(tmp, b, 0o644); err == nil {
				os.Chtimes(tmp, at, at)
				err = os.Rename(tmp, filepath.Join(dir, r.Stats))
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	publish(time.Now().Add(-5 * time.Minute))
	srv := sftptest.Start(t, dir)

	fake := demo.NewFakeDiscord("900", "200")
	defer fake.Close()
	fake.Ready = &discordgo.Ready{Version: 10, SessionID: "s1", User: &discordgo.User{ID: "999", Username: "roundfeed", Bot: true},
		Guilds: []*discordgo.Guild{{ID: "900", Name: "ET", OwnerID: "1",
			Roles:       []*discordgo.Role{{ID: "900", Permissions: discordgo.PermissionSendMessages}},
			VoiceStates: []*discordgo.VoiceState{{GuildID: "900", ChannelID: "500", UserID: "11"}, {GuildID: "900", ChannelID: "500", UserID: "12"}}}}}
	var postsMu sync.Mutex
	posts := map[string][]string{}
	fake.OnPost = func(ch string, embeds []*discordgo.MessageEmbed, content string) {
		postsMu.Lock()
		defer postsMu.Unlock()
		for _, e := range embeds {
			posts[ch] = append(posts[ch], discord.EmbedText(e))
		}
		if content != "" {
			posts[ch] = append(posts[ch], content)
		}
	}
	postsIn := func(ch string) []string {
		postsMu.Lock()
		defer postsMu.Unlock()
		return append([]string(nil), posts[ch]...)
	}
	discordHTTP = &http.Client{Transport: fake.Transport()}
	defer func() { discordHTTP = nil }()

	healthAddr := testutil.FreeAddr(t)
	host, port, _ := strings.Cut(srv.Addr(), ":")
	env := strings.Join([]string{
		"DISCORD_TOKEN=" + token, "DISCORD_GUILD_ID=900", "CONTROL_CHANNEL_ID=200", "STATS_CHANNEL_ID=300",
		"ADMIN_CHANNEL_ID=400", "VOICE_CHANNEL_IDS=500", "WEBHOOK_TRIGGER_WHITELIST=600", "WEBHOOK_TRIGGER_USERNAME=ET:Legacy Stats",
		"SSH_HOST=" + host, "SSH_PORT=" + port, "SSH_USER=et", "SSH_KEY_PATH=" + srv.ClientKeyPath(), "SSH_HOST_KEY=" + srv.HostKeyLine(),
		"REMOTE_STATS_DIR=/", "DB_PATH=" + filepath.Join(t.TempDir(), "run.db"), "ARCHIVE_DIR=" + filepath.Join(t.TempDir(), "archive"),
		"HEALTH_ADDR=" + healthAddr, "POLL_DEAD_HOURS=off",
	}, "\n") + "\n"
	envFile := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(envFile, []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testutil.SyncBuffer
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"run", "-env", envFile}, &stdout, &stderr) }()

	testutil.WaitFor(t, "the first round posted", func() bool { return len(postsIn("300")) == 1 })
	if ids := fake.Identified(); len(ids) != 1 || ids[0] != "Bot "+token {
		t.Fatalf("identify tokens %q", ids)
	}

	// The notifier's webhook message for a new round, through the gateway.
	r2 := publish(time.Now().Add(-time.Minute))
	for _, name := range []string{r2.Stats} {
		fake.Dispatch("MESSAGE_CREATE", &discordgo.Message{ID: fake.NextID(), ChannelID: "200", GuildID: "900", WebhookID: "600",
			Content: "📊 `" + name + "`", Author: &discordgo.User{ID: "600", Username: "ET:Legacy Stats", Bot: true}})
	}
	testutil.WaitFor(t, "the webhook round posted", func() bool { return len(postsIn("300")) == 2 })

	// The owner asks for the status in another channel; a player is refused.
	fake.Dispatch("MESSAGE_CREATE", &discordgo.Message{ID: fake.NextID(), ChannelID: "777", GuildID: "900", Content: "!failover-status",
		Author: &discordgo.User{ID: "1", Username: "owner"}, Member: &discordgo.Member{}})
	fake.Dispatch("MESSAGE_CREATE", &discordgo.Message{ID: fake.NextID(), ChannelID: "778", GuildID: "900", Content: "!failover",
		Author: &discordgo.User{ID: "2", Username: "player"}, Member: &discordgo.Member{}})
	testutil.WaitFor(t, "the command replies", func() bool { return len(postsIn("777")) == 1 && len(postsIn("778")) == 1 })
	status := postsIn("777")[0]
	for _, want := range []string{"Failover status", "Mode: ", "Players in voice: 2", "Outbox backlog: ", "Thresholds: success 2, failure 1"} {
		if !strings.Contains(status, want) {
			t.Errorf("status embed lacks %q:\n%s", want, status)
		}
	}
	if postsIn("778")[0] != discord.RefusalText {
		t.Errorf("player got %q", postsIn("778")[0])
	}

	health := httpGet(t, "http://"+healthAddr+"/health")
	metrics := httpGet(t, "http://"+healthAddr+"/metrics")
	for _, want := range []string{`"last_file"`, r2.Map, `"failover"`} {
		if !strings.Contains(health, want) {
			t.Errorf("health lacks %q: %s", want, health)
		}
	}
	for _, want := range []string{`roundfeed_files_total{outcome="imported",server="main",via="poll"} 1`, `roundfeed_files_total{outcome="imported",server="main",via="webhook"} 1`,
		`roundfeed_discord_posts_total{outcome="ok"} 2`, `roundfeed_ssh_handshakes_total{server="main"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop after cancellation")
	}
	logs := stderr.String()
	if !strings.Contains(logs, `"msg":"bot stopped"`) || !strings.Contains(logs, `"msg":"discord ready"`) {
		t.Errorf("logs lack start/stop lines:\n%s", logs)
	}
	for what, s := range map[string]string{"logs": logs, "stdout": stdout.String(), "health": health, "metrics": metrics, "status": status} {
		if strings.Contains(s, token) {
			t.Errorf("token in %s", what)
		}
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	var body string
	testutil.WaitFor(t, url, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == 200
	})
	return body
}
