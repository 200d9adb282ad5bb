package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/examples/bot/internal/demo"
	"github.com/roundfeed/roundfeed/examples/bot/internal/discord"
	"github.com/roundfeed/roundfeed/examples/bot/internal/gamesim"
	"github.com/roundfeed/roundfeed/examples/bot/internal/health"
	"github.com/roundfeed/roundfeed/internal/testutil"
	"github.com/roundfeed/roundfeed/source/sftp/sftptest"
	"github.com/roundfeed/roundfeed/store"
	"github.com/roundfeed/roundfeed/tracker"
)

// gameServer is one simulated game server: a staging folder where gamesim
// writes, the folder served over SFTP, and its webhook ID.
type gameServer struct {
	name, hook string
	sim        *gamesim.Sim
	staging    string
	srv        *sftptest.Server
}

func newGameServer(t *testing.T, name, hook string) *gameServer {
	t.Helper()
	g := &gameServer{name: name, hook: hook, staging: t.TempDir()}
	var err error
	// The same seed on every server: both write the same file names, which
	// the tracker must keep apart by server.
	if g.sim, err = gamesim.New(gamesim.DefaultConfig(g.staging)); err != nil {
		t.Fatal(err)
	}
	g.srv = sftptest.Start(t, t.TempDir())
	return g
}

// serve copies a staged file into the served folder atomically, with its
// mtime.
func (g *gameServer) serve(t *testing.T, name string, at time.Time) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(g.staging, name))
	if err == nil {
		tmp := filepath.Join(g.srv.Dir(), "."+name)
		if err = os.WriteFile(tmp, b, 0o644); err == nil {
			os.Chtimes(tmp, at, at)
			err = os.Rename(tmp, filepath.Join(g.srv.Dir(), name))
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// round writes a round and serves its stats file (an endstats file would
// wait for retries this test does not need).
func (g *gameServer) round(t *testing.T, at time.Time) string {
	t.Helper()
	r, err := g.sim.WriteRound(at)
	if err != nil {
		t.Fatal(err)
	}
	g.serve(t, r.Stats, at)
	return r.Stats
}

func (g *gameServer) toml() string {
	return fmt.Sprintf(`
[[servers]]
name = %q
[servers.webhook]
whitelist = [%q]
[servers.ssh]
host = %q
port = %d
user = "et"
key_path = %q
host_key = %q
stats_dir = "/"
`, g.name, g.hook, g.srv.Host(), g.srv.Port(), g.srv.ClientKeyPath(), g.srv.HostKeyLine())
}

// TestRunTwoServers runs the real bot command on a roundfeed.toml with two
// game servers (two SFTP servers, two webhook IDs, one control channel):
// files with the same name on both are imported once each under the right
// server, webhook messages are routed by webhook ID, a corrupt file pushed
// by alpha fails alpha over to polling while bravo stays on the webhook,
// and /failover-status, /health and /metrics show each server.
func TestRunTwoServers(t *testing.T) {
	const token = "sekrit-multi-token-7"
	alpha, bravo := newGameServer(t, "alpha", "601"), newGameServer(t, "bravo", "602")
	start := time.Now().Add(-5 * time.Minute)
	first := alpha.round(t, start)
	if b := bravo.round(t, start); b != first {
		t.Fatalf("the servers' first files differ (%s, %s): the test wants the same name on both", first, b)
	}

	fake := demo.NewFakeDiscord("900", "200")
	defer fake.Close()
	fake.Ready = &discordgo.Ready{Version: 10, SessionID: "s1", User: &discordgo.User{ID: "999", Username: "roundfeed", Bot: true},
		Guilds: []*discordgo.Guild{{ID: "900", Name: "ET", OwnerID: "1",
			Roles: []*discordgo.Role{{ID: "900", Permissions: discordgo.PermissionSendMessages}}}}}
	var postsMu sync.Mutex
	posts := map[string][]*discordgo.MessageEmbed{}
	fake.OnPost = func(ch string, embeds []*discordgo.MessageEmbed, _ string) {
		postsMu.Lock()
		defer postsMu.Unlock()
		posts[ch] = append(posts[ch], embeds...)
	}
	postsIn := func(ch string) []*discordgo.MessageEmbed {
		postsMu.Lock()
		defer postsMu.Unlock()
		return append([]*discordgo.MessageEmbed(nil), posts[ch]...)
	}
	discordHTTP = &http.Client{Transport: fake.Transport()}
	defer func() { discordHTTP = nil }()

	healthAddr := testutil.FreeAddr(t)
	dbPath := filepath.Join(t.TempDir(), "multi.db")
	file := fmt.Sprintf(`
db_path = %q
health_addr = %q
[discord]
token = "from-file-but-the-environment-wins"
guild_id = "900"
control_channel_id = "200"
stats_channel_id = "300"
admin_channel_id = "400"
[defaults.schedule]
poll_dead_hours = "off"
poll_idle_interval = "1h"
probe_interval = "1h"
anti_entropy_interval = "1h"
`, dbPath, healthAddr) + alpha.toml() + bravo.toml()
	cfgPath := filepath.Join(t.TempDir(), "roundfeed.toml")
	envFile := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(cfgPath, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	env := "DISCORD_TOKEN=" + token + "\nARCHIVE_DIR=" + filepath.Join(t.TempDir(), "archive") + "\n"
	if err := os.WriteFile(envFile, []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}

	if code, out, errOut := runCmd(t, "run", "-config", cfgPath, "-env", envFile, "-check-config"); code != 0 || !strings.Contains(out, "2 servers") {
		t.Fatalf("check-config: %d %s %s", code, out, errOut)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testutil.SyncBuffer
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"run", "-config", cfgPath, "-env", envFile}, &stdout, &stderr) }()

	footers := func() []string {
		var out []string
		for _, e := range postsIn("300") {
			out = append(out, e.Footer.Text)
		}
		return out
	}
	// Polling is on at start: each server's listing imports its file.
	testutil.WaitFor(t, "both first files posted", func() bool { return len(postsIn("300")) == 2 })
	if ids := fake.Identified(); len(ids) != 1 || ids[0] != "Bot "+token {
		t.Fatalf("identify tokens %q", ids)
	}

	push := func(g *gameServer, name string) {
		fake.Dispatch("MESSAGE_CREATE", &discordgo.Message{ID: fake.NextID(), ChannelID: "200", GuildID: "900", WebhookID: g.hook,
			Content: "📊 `" + name + "`", Author: &discordgo.User{ID: g.hook, Username: "ET:Legacy Stats", Bot: true}})
	}
	report := func() health.Report {
		var r health.Report
		if err := json.Unmarshal([]byte(httpGet(t, "http://"+healthAddr+"/health")), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	modes := func() string {
		var out []string
		for _, s := range report().Servers {
			out = append(out, s.Server+"="+s.Mode)
		}
		return strings.Join(out, ",")
	}

	// Two pushed rounds per server: push proves healthy on both, polling
	// goes off on both. The same names again on both servers.
	for i := range 2 {
		at := time.Now().Add(-time.Duration(3-i) * time.Minute)
		a, b := alpha.round(t, at), bravo.round(t, at)
		push(alpha, a)
		push(bravo, b)
		testutil.WaitFor(t, fmt.Sprintf("pushed round %d posted", i+1), func() bool { return len(postsIn("300")) == 4+2*i })
	}
	testutil.WaitFor(t, "both servers on the webhook", func() bool { return modes() == "alpha=webhook,bravo=webhook" })

	// Alpha's notifier pushes a corrupt file: alpha fails over, bravo not.
	corrupt, err := alpha.sim.WriteCorrupt(time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	alpha.serve(t, corrupt, time.Now().Add(-time.Minute))
	push(alpha, corrupt)
	testutil.WaitFor(t, "alpha polling, bravo on the webhook", func() bool { return modes() == "alpha=polling,bravo=webhook" })
	testutil.WaitFor(t, "the failover alert", func() bool {
		return slices.ContainsFunc(postsIn("400"), func(e *discordgo.MessageEmbed) bool {
			return strings.HasPrefix(e.Title, "alpha: Failover")
		})
	})

	// Bravo keeps working on push alone.
	b3 := bravo.round(t, time.Now().Add(-time.Minute))
	push(bravo, b3)
	testutil.WaitFor(t, "bravo's third round posted", func() bool { return slices.Contains(footers(), "bravo: "+b3) })

	// Each file posted once, under its own server.
	got := footers()
	slices.Sort(got)
	if len(got) != 7 || len(slices.Compact(slices.Clone(got))) != 7 {
		t.Errorf("posts: %q", got)
	}
	for _, f := range []string{"alpha: " + first, "bravo: " + first, "bravo: " + b3} {
		if !slices.Contains(got, f) {
			t.Errorf("no post %q in %q", f, got)
		}
	}

	// The status command: all servers by default, one by name.
	fake.Dispatch("MESSAGE_CREATE", &discordgo.Message{ID: fake.NextID(), ChannelID: "777", GuildID: "900", Content: "!failover-status",
		Author: &discordgo.User{ID: "1", Username: "owner"}, Member: &discordgo.Member{}})
	testutil.WaitFor(t, "the status reply", func() bool { return len(postsIn("777")) == 2 })
	fake.Dispatch("MESSAGE_CREATE", &discordgo.Message{ID: fake.NextID(), ChannelID: "778", GuildID: "900", Content: "!failover-status bravo",
		Author: &discordgo.User{ID: "1", Username: "owner"}, Member: &discordgo.Member{}})
	testutil.WaitFor(t, "the bravo status reply", func() bool { return len(postsIn("778")) == 1 })
	all, one := postsIn("777"), postsIn("778")[0]
	if all[0].Title != "Failover status: alpha" || all[1].Title != "Failover status: bravo" || one.Title != "Failover status: bravo" {
		t.Errorf("status titles %q %q %q", all[0].Title, all[1].Title, one.Title)
	}
	if txt := discord.EmbedText(one); !strings.Contains(txt, "Mode: "+discord.ModeWebhook) || !strings.Contains(txt, "Failovers: 0") {
		t.Errorf("bravo status:\n%s", txt)
	}
	if txt := discord.EmbedText(all[0]); !strings.Contains(txt, "Mode: "+discord.ModePolling) || !strings.Contains(txt, "Failovers: 1") {
		t.Errorf("alpha status:\n%s", txt)
	}

	metrics := httpGet(t, "http://"+healthAddr+"/metrics")
	for _, want := range []string{
		`roundfeed_failover_polling{server="alpha"} 1`,
		`roundfeed_failover_polling{server="bravo"} 0`,
		`roundfeed_failover_transitions_total{reason="parse",server="alpha",to="polling"} 1`,
		`roundfeed_files_total{outcome="imported",server="alpha",via="poll"} 1`,
		`roundfeed_files_total{outcome="imported",server="bravo",via="poll"} 1`,
		`roundfeed_files_total{outcome="imported",server="alpha",via="webhook"} 2`,
		`roundfeed_files_total{outcome="imported",server="bravo",via="webhook"} 3`,
		`roundfeed_ssh_handshakes_total{server="alpha"} 1`,
		`roundfeed_ssh_handshakes_total{server="bravo"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(metrics, `server="bravo",to="polling"`) {
		t.Error("bravo failed over")
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
	for what, s := range map[string]string{"logs": stderr.String(), "stdout": stdout.String(), "metrics": metrics} {
		if strings.Contains(s, token) {
			t.Errorf("token in %s", what)
		}
	}

	// bot status reads each server's events and snapshot.
	code, out, errOut := runCmd(t, "status", "-config", cfgPath, "-env", envFile, "-json")
	var st statusReport
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 {
		t.Fatalf("status: %d %s %s", code, out, errOut)
	}
	if len(st.Servers) != 2 || st.Servers[0].Server != "alpha" || st.Servers[0].Mode != "polling" || st.Servers[0].Failovers != 1 ||
		st.Servers[1].Server != "bravo" || st.Servers[1].Mode != "webhook" || st.Servers[1].Failovers != 0 {
		t.Errorf("status servers: %+v", st.Servers)
	}

	// The database: the shared first name is done once per server.
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tr, err := tracker.NewSQL(db, tracker.DefaultConfig(), tracker.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range [][2]string{{"alpha", first}, {"bravo", first}, {"bravo", b3}} {
		rec, err := tr.Get(context.Background(), key[0], key[1])
		if err != nil || rec.State != tracker.StateDone {
			t.Errorf("%s/%s: %+v %v", key[0], key[1], rec, err)
		}
	}
	if _, err := tr.Get(context.Background(), "alpha", b3); err == nil {
		t.Errorf("bravo's file %s recorded under alpha", b3)
	}
}

// TestCheckConfigFile: -check-config prints every problem of a file with
// its line (syntax) or key path, and exits 1; a missing file named by
// ROUNDFEED_CONFIG's flag is an error too.
func TestCheckConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, body string
		want       []string
	}{
		{"syntax.toml", "[discord]\nguild_id = \"1\"\n[[servers]\n", []string{"problem: " + filepath.Join(dir, "syntax.toml") + ":4:10: expected end of table array name"}},
		{"semantic.toml", `
[discord]
token = "x"
guild_id = "900"
stats_channel_id = "300"
colour = "red"
[[servers]]
name = "alpha"
[servers.webhook]
control_channel_id = "200"
whitelist = ["601"]
[servers.ssh]
host = "a"
user = "et"
key_path = "/k"
known_hosts = "/kh"
stats_dir = "/s"
[[servers]]
name = "bravo"
[servers.ssh]
user = "et"
`, []string{
			"discord.colour: unknown key",
			"servers[1].ssh.host: required",
			"servers[1].ssh.stats_dir: required",
			"servers[1].webhook.whitelist: required",
		}},
	}
	for _, tc := range tests {
		path := write(tc.name, tc.body)
		code, out, errOut := runCmd(t, "run", "-config", path, "-env", "", "-check-config")
		if code != 1 {
			t.Errorf("%s: exit %d: %s %s", tc.name, code, out, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, out)
			}
		}
	}
	code, out, _ := runCmd(t, "run", "-config", filepath.Join(dir, "missing.toml"), "-env", "", "-check-config")
	if code != 1 || !strings.Contains(out, "missing.toml") {
		t.Errorf("missing file: %d %s", code, out)
	}
}
