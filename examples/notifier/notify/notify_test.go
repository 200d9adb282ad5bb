package notify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/internal/testutil"
)

// run starts Run and returns a stop function that cancels it and returns
// its error.
func run(t *testing.T, cfg Config) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// Discord fails, rate-limits and recovers; the notifier is stopped in an
// outage and started again. Every file is notified exactly once, in order.
func TestOutageRestartExactlyOnce(t *testing.T) {
	t.Parallel()
	statsDir, spoolDir := t.TempDir(), t.TempDir()
	dc, url := newDiscord(t)
	logs := &testutil.SyncBuffer{}

	names := []string{
		"2026-01-15-210000-supply-round-1.txt",
		"2026-01-15-210000-supply-round-1-endstats.txt",
		"2026-01-15-212000-supply-round-2.txt",
		"2026-01-15-212000-supply-round-2-endstats.txt",
		"2026-01-15-214000-te_escape2-round-1.txt",
		"2026-01-15-220000-te_escape2-round-2.txt",
	}
	// Two files of tonight exist before the first start; one of three days
	// ago is outside the lookback window and stays unsent.
	writeStats(t, statsDir, names[0], 2048, time.Hour)
	writeStats(t, statsDir, names[1], 512, time.Hour)
	writeStats(t, statsDir, "2026-01-12-210000-supply-round-1.txt", 2048, 72*time.Hour)

	// Discord at first: 500, 500, 502, a 429 with retry_after, a dropped
	// connection, then fine.
	dc.setPolicy(func(n int) (int, string, bool) {
		switch n {
		case 1, 2:
			return 500, `{"message":"Internal Server Error"}`, false
		case 3:
			return 502, "bad gateway", false
		case 4:
			return 429, `{"message":"You are being rate limited.","retry_after":1.5,"global":false}`, false
		case 5:
			return 0, "", true
		}
		return 200, `{"id":"1"}`, false
	})
	stop := run(t, testConfig(t, url, statsDir, spoolDir, testutil.NewAutoClock(time.Now()), logs))
	got := dc.waitDelivered(t, 2)

	// A live file arrives and goes out.
	writeStats(t, statsDir, names[2], 2048, 0)
	got = append(got, dc.waitDelivered(t, 1)...)

	// Discord goes down. The next file is queued and retried, then the
	// notifier is stopped in the middle of the outage.
	dc.setPolicy(func(int) (int, string, bool) { return 503, `{"message":"unavailable"}`, false })
	dc.drainFailed()
	writeStats(t, statsDir, names[3], 700, 0)
	for range 3 {
		<-dc.failed
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("stop: %v", err)
	}
	if q, _ := os.ReadDir(filepath.Join(spoolDir, "queue")); len(q) != 1 {
		t.Fatalf("spool holds %d entries during the outage, want 1", len(q))
	}

	// While the notifier is down, the game writes another round, and a
	// truncated file that must be reported, not sent.
	writeStats(t, statsDir, names[4], 3000, 0)
	writeStats(t, statsDir, "2026-01-15-215000-broken-round-1.txt", 40, 0)
	dc.setPolicy(func(int) (int, string, bool) { return 204, "", false })

	stop = run(t, testConfig(t, url, statsDir, spoolDir, testutil.NewAutoClock(time.Now()), logs))
	got = append(got, dc.waitDelivered(t, 2)...)
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("stop: %v", err)
	}

	// A third start: nothing is sent again. The next live file is queued
	// behind anything the start-up scan would have queued, so when it
	// arrives, a resend would have arrived first.
	stop = run(t, testConfig(t, url, statsDir, spoolDir, testutil.NewAutoClock(time.Now()), logs))
	writeStats(t, statsDir, names[5], 1500, 0)
	got = append(got, dc.waitDelivered(t, 1)...)
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("stop: %v", err)
	}

	var want []string
	for _, n := range names {
		want = append(want, content(n))
	}
	if !slices.Equal(got, want) || !slices.Equal(dc.contents(), want) {
		t.Fatalf("delivered\n%s\nwant\n%s", strings.Join(dc.contents(), "\n"), strings.Join(want, "\n"))
	}
	if q, _ := os.ReadDir(filepath.Join(spoolDir, "queue")); len(q) != 0 {
		t.Errorf("spool not empty: %d entries", len(q))
	}
	l := logs.String()
	if !strings.Contains(l, "file too small") || !strings.Contains(l, "2026-01-15-215000-broken-round-1.txt") {
		t.Errorf("the small file was not reported")
	}
	if strings.Contains(l, token) || strings.Contains(l, "/api/webhooks/") {
		t.Errorf("logs contain the webhook URL")
	}
	if !strings.Contains(l, "webhook_id=1200000000000000002") {
		t.Errorf("logs do not name the webhook by ID")
	}
}

// A 4xx other than 429 is a configuration error: the notification stays in
// the spool, is never counted as sent, and goes out once the webhook works.
func TestRejectedKeptInSpool(t *testing.T) {
	t.Parallel()
	statsDir, spoolDir := t.TempDir(), t.TempDir()
	dc, url := newDiscord(t)
	logs := &testutil.SyncBuffer{}
	dc.setPolicy(func(int) (int, string, bool) { return 404, `{"message":"Unknown Webhook","code":10015}`, false })
	name := "2026-01-15-210000-supply-round-1.txt"
	writeStats(t, statsDir, name, 2048, time.Hour)

	stop := run(t, testConfig(t, url, statsDir, spoolDir, testutil.NewAutoClock(time.Now()), logs))
	for range 3 {
		if code := <-dc.failed; code != 404 {
			t.Fatalf("code %d", code)
		}
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if q, _ := os.ReadDir(filepath.Join(spoolDir, "queue")); len(q) != 1 {
		t.Fatalf("spool holds %d entries after rejections, want 1", len(q))
	}
	if _, err := os.Stat(filepath.Join(spoolDir, "sent", name)); err == nil {
		t.Fatal("a rejected notification was marked sent")
	}
	if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "check DISCORD_WEBHOOK_URL") || strings.Contains(l, token) {
		t.Errorf("rejection not logged as a configuration error, or URL leaked")
	}

	dc.setPolicy(func(int) (int, string, bool) { return 200, "{}", false })
	stop = run(t, testConfig(t, url, statsDir, spoolDir, testutil.NewAutoClock(time.Now()), logs))
	if got := dc.waitDelivered(t, 1); got[0] != content(name) {
		t.Fatalf("delivered %q", got)
	}
	_ = stop()
}

func TestHeartbeat(t *testing.T) {
	t.Parallel()
	statsDir, spoolDir := t.TempDir(), t.TempDir()
	dc, url := newDiscord(t)
	clk := testutil.NewClock(time.Now())
	players := make(chan int, 10)
	current := 0
	cfg := testConfig(t, url, statsDir, spoolDir, clk, &testutil.SyncBuffer{})
	cfg.HeartbeatInterval = 10 * time.Minute
	cfg.Players = func() int {
		select {
		case current = <-players:
		default:
		}
		return current
	}
	stop := run(t, cfg)
	<-clk.Armed() // the heartbeat timer is armed
	players <- 6
	clk.Advance(10 * time.Minute)
	if got := dc.waitDelivered(t, 1); got[0] != "ROUNDFEED_HEARTBEAT" {
		t.Fatalf("posted %q", got)
	}
	// With nobody on the server, no heartbeat; with players again, one.
	<-clk.Armed()
	players <- 0
	clk.Advance(10 * time.Minute)
	<-clk.Armed()
	players <- 3
	clk.Advance(10 * time.Minute)
	dc.waitDelivered(t, 1)
	_ = stop()
	if n := len(dc.contents()); n != 2 {
		t.Errorf("%d heartbeats, want 2", n)
	}
}

func TestRunRefusesBadSetup(t *testing.T) {
	t.Parallel()
	_, url := newDiscord(t)
	cfg := testConfig(t, url, filepath.Join(t.TempDir(), "missing"), t.TempDir(), testutil.NewAutoClock(time.Now()), &testutil.SyncBuffer{})
	if err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing stats folder: %v", err)
	}
	cfg.Send.URL = "https://discord.com/api/webhooks/1/" + token + " "
	cfg.StatsDir = ""
	err := Run(context.Background(), cfg)
	if err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "StatsDir") {
		t.Errorf("invalid config: %v", err)
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"STATS_DIR":           "/srv/et/stats",
		"DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/123/" + token,
		"SPOOL_DIR":           "/tmp/spool",
		"HEARTBEAT_INTERVAL":  "10",
		"LOOKBACK":            "24h",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := ConfigFromEnv(lookup)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StatsDir != "/srv/et/stats" || cfg.SpoolDir != "/tmp/spool" || cfg.HeartbeatInterval != 10*time.Minute ||
		cfg.Lookback != 24*time.Hour || cfg.Settle != 2*time.Second || cfg.MinSize != 100 || cfg.Send.Username != "ET:Legacy Stats" {
		t.Errorf("config %+v", cfg)
	}
	if s := fmt.Sprintf("%v %+v", cfg, cfg); strings.Contains(s, token) {
		t.Errorf("printing the config shows the URL")
	}
	env["HEARTBEAT_INTERVAL"] = "30s"
	env["LOOKBACK"] = "two days"
	delete(env, "DISCORD_WEBHOOK_URL")
	delete(env, "STATS_DIR")
	_, err = ConfigFromEnv(lookup)
	for _, want := range []string{"LOOKBACK", "HEARTBEAT_INTERVAL", "STATS_DIR", "webhook URL is empty"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}

// The notifier runs on the game server: no discordgo, no SQLite.
func TestNoDiscordgoNoSQLite(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "..", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/roundfeed/roundfeed/source/local") {
		t.Fatalf("go list output looks wrong: %v", deps)
	}
	for _, d := range deps {
		for _, bad := range []string{"github.com/bwmarrin/discordgo", "modernc.org/", "github.com/mattn/go-sqlite3", "database/sql", "github.com/gorilla/websocket"} {
			if strings.HasPrefix(d, bad) {
				t.Errorf("the notifier links %s", d)
			}
		}
	}
}
