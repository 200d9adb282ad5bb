package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/examples/bot/internal/app"
	"github.com/roundfeed/roundfeed/examples/bot/internal/demo"
	"github.com/roundfeed/roundfeed/examples/bot/internal/discord"
	"github.com/roundfeed/roundfeed/examples/bot/internal/gamesim"
	"github.com/roundfeed/roundfeed/examples/bot/internal/health"
	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/internal/testutil"
	"github.com/roundfeed/roundfeed/source/sftp"
	"github.com/roundfeed/roundfeed/source/sftp/sftptest"
	"github.com/roundfeed/roundfeed/source/webhook"
	"github.com/roundfeed/roundfeed/tracker"
)

const token = "Bot sekrit-app-token-0123456789"

// TestAppOverHTTP runs the wired bot against a real SFTP server on
// loopback, a real SQLite file and a stand-in Discord: files found by
// polling and by a webhook message are imported and posted, a corrupt file
// is quarantined, and /health, /metrics and the status view report it all
// without ever showing the token.
func TestAppOverHTTP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sim, err := gamesim.New(gamesim.DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	r1, err := sim.WriteRound(now.Add(-20 * time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	corrupt, err := sim.WriteCorrupt(now.Add(-10 * time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	srv := sftptest.Start(t, dir)

	client := sftpClient(t, srv)

	fake := demo.NewFakeDiscord("900", "200")
	defer fake.Close()
	sess, _ := discordgo.New(token)
	sess.Client = &http.Client{Transport: fake.Transport()}
	var posts testutil.SyncBuffer
	fake.OnPost = func(ch string, embeds []*discordgo.MessageEmbed, _ string) {
		for _, e := range embeds {
			posts.Write([]byte(ch + " " + discord.EmbedText(e)))
		}
	}

	var logs testutil.SyncBuffer
	wcfg := webhook.DefaultConfig()
	wcfg.ControlChannelID, wcfg.Whitelist = "200", []string{"600"}
	sched := failover.DefaultScheduleConfig()
	sched.DeadFrom, sched.DeadUntil = 0, 0
	icfg := ingest.DefaultConfig()
	icfg.ArchiveDir = filepath.Join(t.TempDir(), "archive")
	icfg.MaxAttempts = 1
	icfg.RetryEvery = 50 * time.Millisecond
	icfg.DeferMin, icfg.DeferMax = 50*time.Millisecond, time.Second // an endstats file listed before its round
	snd := ingest.DefaultSenderConfig()
	snd.PollEvery = 50 * time.Millisecond
	pub := discord.NewPublisher(sess)
	a, err := app.New(app.Options{
		DBPath: filepath.Join(t.TempDir(), "app.db"), Failover: failover.DefaultConfig(), Schedule: sched,
		Webhook: wcfg, Ingest: icfg, Sender: snd, Remote: client,
		SFTPCounters: func() (uint64, uint64) { c := client.Counters(); return c.Handshakes, c.Requests },
		Publisher:    &discord.OutboxPublisher{Publisher: pub, ChannelID: "300"},
		Alert: func(ctx context.Context, e *discordgo.MessageEmbed) error {
			_, err := pub.Send(ctx, discord.Post{ChannelID: "400", Embeds: []*discordgo.MessageEmbed{e}})
			return err
		},
		Players: func() int { return 7 },
		Logger:  slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()

	// Polling is on at start: the first listing imports what is there.
	waitState(t, a, r1.Stats, tracker.StateDone)
	waitState(t, a, r1.Endstats, tracker.StateDone)
	waitState(t, a, corrupt, tracker.StateQuarantined)

	// A webhook message for a new round (written a minute ago: a file
	// younger than the SFTP client's settle age is fetched later).
	r2, err := sim.WriteRound(time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{r2.Endstats, r2.Stats} {
		d := a.HandleMessage(&discordgo.MessageCreate{Message: &discordgo.Message{
			ID: strconv.Itoa(7000 + i), ChannelID: "200", GuildID: "900", WebhookID: "600", Content: "📊 `" + name + "`",
			Author: &discordgo.User{ID: "600", Username: "ET:Legacy Stats", Bot: true},
		}})
		if len(d.Events) != 1 {
			t.Fatalf("decision %+v", d)
		}
	}
	waitState(t, a, r2.Stats, tracker.StateDone)
	waitState(t, a, r2.Endstats, tracker.StateDone)
	testutil.WaitFor(t, "outbox drained", func() bool {
		b, err := a.Store().OutboxBacklog(context.Background())
		return err == nil && b.Pending == 0 && b.Sent == 4
	})

	hs := httptest.NewServer(health.Handler(a.HealthReport, a.Metrics()))
	defer hs.Close()
	code, body := testutil.HTTPGet(t, hs.URL+"/health")
	var rep health.Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil || code != 200 {
		t.Fatalf("health %d %s", code, body)
	}
	if rep.Status != "degraded" || rep.Failover.Quarantined != 1 || rep.LastFile == nil || rep.Mode == "" || rep.Failover.OutboxBacklog != 0 ||
		len(rep.Servers) != 1 || rep.Servers[0].Server != "main" || rep.Servers[0].LastFile == nil {
		t.Errorf("health = %+v", rep)
	}
	code, metrics := testutil.HTTPGet(t, hs.URL+"/metrics")
	if code != 200 {
		t.Fatalf("metrics %d", code)
	}
	for _, want := range []string{
		`roundfeed_files_total{outcome="imported",server="main",via="poll"} 2`,
		`roundfeed_files_total{outcome="imported",server="main",via="webhook"} 2`,
		`roundfeed_files_total{outcome="quarantined",server="main",via="poll"} 1`,
		`roundfeed_ssh_handshakes_total{server="main"} 1`,
		`roundfeed_outbox_backlog 0`,
		`roundfeed_quarantine_files 1`,
		`roundfeed_discord_posts_total{outcome="ok"} 4`,
		`roundfeed_processing_latency_seconds_count{server="main"} 4`,
		`roundfeed_failover_mode_seconds_total{mode="polling",server="main"}`,
		`roundfeed_failover_polling{server="main"}`,
		`roundfeed_sftp_requests_total{server="main"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	sts, err := a.Status(context.Background(), "")
	if err != nil || len(sts) != 1 {
		t.Fatal(sts, err)
	}
	st := sts[0]
	if st.PlayersInVoice != 7 || st.SuccessThreshold != 2 || st.HeartbeatTimeout != 15*time.Minute || st.LastProbe.IsZero() && st.PollingOn == false {
		t.Errorf("status = %+v", st)
	}
	if !strings.Contains(posts.String(), "300 == "+r1.Map+" - Round 1 ==") {
		t.Errorf("posts:\n%s", posts.String())
	}
	for what, s := range map[string]string{"health": body, "metrics": metrics, "logs": logs.String(), "posts": posts.String()} {
		if strings.Contains(s, "sekrit") {
			t.Errorf("token in %s", what)
		}
	}
}

func waitState(t *testing.T, a *app.App, name string, want tracker.State) {
	t.Helper()
	testutil.WaitFor(t, name+" "+string(want), func() bool {
		rec, err := a.Tracker().Get(context.Background(), "main", name)
		return err == nil && rec.State == want
	})
}

// sftpClient connects a client to srv as user "et" at "/"; the test's
// cleanup closes it.
func sftpClient(t *testing.T, srv *sftptest.Server) *sftp.Client {
	t.Helper()
	scfg := sftp.DefaultConfig()
	scfg.Host, scfg.Port, scfg.User, scfg.Signer, scfg.HostKey, scfg.RemoteDir = srv.Host(), srv.Port(), "et", srv.ClientSigner(), srv.HostKeyLine(), "/"
	client, err := sftp.NewClient(scfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// TestLateMessageAfterClose: a Discord message handled after the App
// stopped (the gateway closes after Run returns) must not panic.
func TestLateMessageAfterClose(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := sftptest.Start(t, dir)
	client := sftpClient(t, srv)
	wcfg := webhook.DefaultConfig()
	wcfg.ControlChannelID, wcfg.Whitelist, wcfg.FileRate = "200", []string{"600"}, 1
	icfg := ingest.DefaultConfig()
	icfg.ArchiveDir = filepath.Join(t.TempDir(), "archive")
	a, err := app.New(app.Options{DBPath: filepath.Join(t.TempDir(), "late.db"), Failover: failover.DefaultConfig(),
		Schedule: failover.DefaultScheduleConfig(), Webhook: wcfg, Ingest: icfg, Sender: ingest.DefaultSenderConfig(),
		Remote: client, Publisher: &ingest.ConsolePublisher{W: io.Discard}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // push proves healthy: polling off, so the next failure is a transition
		a.Guard().Record(0, failover.KindStats, failover.Success, "")
	}
	if a.Guard().Mode() != failover.PollingOff {
		t.Fatal("polling still on")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"2026-01-15-222119-te_escape2-round-1.txt", "2026-01-15-223840-te_escape2-round-2.txt"} {
		d := a.HandleMessage(&discordgo.MessageCreate{Message: &discordgo.Message{
			ID: strconv.Itoa(100 + i), ChannelID: "200", WebhookID: "600", Content: "📊 `" + name + "`",
			Author: &discordgo.User{ID: "600", Username: "ET:Legacy Stats", Bot: true},
		}})
		if i == 1 && len(d.RateLimited) != 1 {
			t.Fatalf("second trigger not rate limited: %+v", d)
		}
	}
	if a.Guard().Mode() != failover.PollingOn {
		t.Fatal("the rate-limited trigger did not turn polling on")
	}
}

// TestServersRouting: an App with two game servers routes each webhook
// message to the server whose whitelist holds its webhook ID, keeps their
// machines apart, answers Status per server, and refuses a webhook ID
// whitelisted twice or a name used twice.
func TestServersRouting(t *testing.T) {
	t.Parallel()
	server := func(name, hook string) app.Server {
		srv := sftptest.Start(t, t.TempDir())
		client := sftpClient(t, srv)
		wcfg := webhook.DefaultConfig()
		wcfg.ControlChannelID, wcfg.Whitelist = "200", []string{hook}
		return app.Server{Name: name, Failover: failover.DefaultConfig(), Schedule: failover.DefaultScheduleConfig(), Webhook: wcfg, Remote: client}
	}
	alpha, bravo := server("alpha", "601"), server("bravo", "602")
	opts := func(servers ...app.Server) app.Options {
		icfg := ingest.DefaultConfig()
		icfg.ArchiveDir = filepath.Join(t.TempDir(), "archive")
		return app.Options{Servers: servers, DBPath: filepath.Join(t.TempDir(), "r.db"), Ingest: icfg,
			Sender: ingest.DefaultSenderConfig(), Publisher: &ingest.ConsolePublisher{W: io.Discard}}
	}
	a, err := app.New(opts(alpha, bravo))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	msg := func(id, hook, name string) *discordgo.MessageCreate {
		return &discordgo.MessageCreate{Message: &discordgo.Message{ID: id, ChannelID: "200", WebhookID: hook,
			Content: "📊 `" + name + "`", Author: &discordgo.User{ID: hook, Username: "ET:Legacy Stats", Bot: true}}}
	}
	const file = "2026-01-15-222119-te_escape2-round-1.txt"
	for _, tc := range []struct {
		id, hook, wantServer, wantIgnored string
	}{
		{"1", "602", "bravo", ""},
		{"2", "601", "alpha", ""},
		{"3", "999", "", webhook.ReasonNotWhitelisted},
	} {
		d := a.HandleMessage(msg(tc.id, tc.hook, file))
		switch {
		case tc.wantServer != "" && (len(d.Events) != 1 || d.Events[0].Server != tc.wantServer):
			t.Errorf("hook %s: decision %+v, want an event for %s", tc.hook, d, tc.wantServer)
		case tc.wantServer == "" && (len(d.Events) != 0 || d.Ignored != tc.wantIgnored):
			t.Errorf("hook %s: decision %+v, want ignored", tc.hook, d)
		}
	}
	if d := a.HandleMessage(&discordgo.MessageCreate{Message: &discordgo.Message{ID: "4", ChannelID: "201", WebhookID: "601"}}); d.Ignored != "no_trigger" {
		t.Errorf("other channel: %+v", d)
	}

	// Push successes on alpha only: alpha's polling goes off, bravo's stays on.
	for range 2 {
		a.GuardOf("alpha").Record(a.GuardOf("alpha").Generation(), failover.KindStats, failover.Success, "")
	}
	sts, err := a.Status(context.Background(), "")
	if err != nil || len(sts) != 2 || sts[0].Server != "alpha" || sts[0].PollingOn || sts[1].Server != "bravo" || !sts[1].PollingOn {
		t.Fatalf("status %+v %v", sts, err)
	}
	if sts, err := a.Status(context.Background(), "bravo"); err != nil || len(sts) != 1 || sts[0].Server != "bravo" {
		t.Errorf("status bravo: %+v %v", sts, err)
	}
	if _, err := a.Status(context.Background(), "charlie"); !errors.Is(err, app.ErrUnknownServer) || !strings.Contains(err.Error(), "alpha, bravo") {
		t.Errorf("unknown server: %v", err)
	}
	if got := a.Servers(); strings.Join(got, ",") != "alpha,bravo" || strings.Join(a.ControlChannels(), ",") != "200" {
		t.Errorf("servers %v, control channels %v", got, a.ControlChannels())
	}

	twice := bravo
	twice.Webhook.Whitelist = []string{"602", "601"}
	if _, err := app.New(opts(alpha, twice)); err == nil || !strings.Contains(err.Error(), "webhook ID 601") {
		t.Errorf("webhook ID whitelisted twice: %v", err)
	}
	same := bravo
	same.Name = "alpha"
	if _, err := app.New(opts(alpha, same)); err == nil || !strings.Contains(err.Error(), "name used twice") {
		t.Errorf("name used twice: %v", err)
	}
}
