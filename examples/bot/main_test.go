package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/examples/bot/internal/demo"
	"github.com/roundfeed/roundfeed/examples/bot/internal/gamesim"
	"github.com/roundfeed/roundfeed/source/sftp/sftptest"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestDemoEndToEnd is the proof: a 20-second run at 300x (100 game minutes)
// with the fault script must lose nothing, duplicate nothing, fail over
// when the notifier dies, recover when it comes back and quarantine the
// corrupt file. Then the status command reads the same database.
func TestDemoEndToEnd(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "demo.db")
	code, out, errOut := runCmd(t, "demo", "-for", "20s", "-speed", "300", "-json", "-db", db)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr (tail): %s", code, out, tail(errOut, 3000))
	}
	var sum demo.Summary
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &sum); err != nil {
		t.Fatalf("summary %q: %v", out, err)
	}
	t.Logf("summary: %s", strings.TrimSpace(out))
	for _, key := range []string{`"files"`, `"processed"`, `"lost"`, `"duplicates"`, `"failovers"`, `"recoveries"`, `"quarantined"`} {
		if !strings.Contains(out, key) {
			t.Errorf("summary lacks %s", key)
		}
	}
	if sum.Files == 0 || sum.Lost != 0 || sum.Duplicates != 0 {
		t.Errorf("files %d, lost %d, duplicates %d", sum.Files, sum.Lost, sum.Duplicates)
	}
	if sum.Failovers < 1 || sum.Recoveries < 1 {
		t.Errorf("failovers %d, recoveries %d: the fault script must cause both", sum.Failovers, sum.Recoveries)
	}
	if sum.Quarantined != 1 || sum.Processed != sum.Files-1 {
		t.Errorf("quarantined %d, processed %d of %d: only the corrupt file may be quarantined", sum.Quarantined, sum.Processed, sum.Files)
	}
	if sum.Posts != sum.Processed {
		t.Errorf("%d posts for %d imported files", sum.Posts, sum.Processed)
	}
	for _, want := range []string{"FAULT: the notifier on the game server died", "Failover: SSH polling backup active",
		"Recovered: webhook primary", "path: " + "SSH POLLING backup active", "corrupt stats file", "Top players"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("console lacks %q", want)
		}
	}

	code, out, errOut = runCmd(t, "status", "-db", db, "-json", "-env", "")
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errOut)
	}
	var st statusReport
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if st.Files["done"] != sum.Processed || len(st.Quarantined) != 1 || !strings.Contains(st.Quarantined[0].Name, "corrupt_map") ||
		!strings.Contains(st.Quarantined[0].LastError, "header") || st.Outbox.Pending != 0 || st.Outbox.Sent != sum.Posts {
		t.Errorf("status = %+v", st)
	}
	if st.Failover.Failovers != sum.Failovers || st.Failover.Recoveries != sum.Recoveries || st.Failover.LastTransition.IsZero() {
		t.Errorf("status failover = %+v, summary %+v", st.Failover, sum)
	}
	code, out, _ = runCmd(t, "status", "-db", db, "-env", "")
	if code != 0 || !strings.Contains(out, "quarantine 1 file(s)") || !strings.Contains(out, "corrupt_map") {
		t.Errorf("status text: %s", out)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// writeNight writes rounds of a night long past (older than any lookback).
func writeNight(t *testing.T, dir string, rounds int) []string {
	t.Helper()
	sim, err := gamesim.New(gamesim.DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 21, 0, 0, 0, time.UTC)
	var names []string
	for i := range rounds {
		r, err := sim.WriteRound(at.Add(time.Duration(i) * 11 * time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, r.Stats, r.Endstats)
	}
	return names
}

func TestBackfillLocalExactlyOnce(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "gamestats")
	names := writeNight(t, dir, 6)
	db := filepath.Join(t.TempDir(), "bf.db")
	code, out, errOut := runCmd(t, "backfill", "-dir", dir, "-db", db, "-json", "-env", "")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	var res backfillResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if res != (backfillResult{Listed: len(names), Imported: len(names)}) {
		t.Fatalf("first run: %+v, want %d listed and imported", res, len(names))
	}
	// Resumable and exactly once: a second run imports nothing.
	code, out, _ = runCmd(t, "backfill", "-dir", dir, "-db", db, "-json", "-env", "")
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 {
		t.Fatalf("second run: exit %d, %q", code, out)
	}
	if res != (backfillResult{Listed: len(names), Skipped: len(names)}) {
		t.Fatalf("second run: %+v", res)
	}
	// No Discord post is left queued for the bot to send.
	rep, err := readStatus(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outbox.Pending != 0 || rep.Outbox.GivenUp != len(names) || rep.Files["done"] != len(names) {
		t.Fatalf("status after backfill: %+v", rep)
	}
}

// TestBackfillPost imports a folder and posts every round, through the
// Discord publisher, to a stand-in.
func TestBackfillPost(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gamestats")
	names := writeNight(t, dir, 2)
	fake := demo.NewFakeDiscord("900", "200")
	defer fake.Close()
	discordHTTP = &http.Client{Transport: fake.Transport()}
	defer func() { discordHTTP = nil }()
	envFile := filepath.Join(t.TempDir(), ".env")
	os.WriteFile(envFile, []byte("DISCORD_TOKEN=sekrit-backfill\nSTATS_CHANNEL_ID=300\n"), 0o600)
	code, out, errOut := runCmd(t, "backfill", "-dir", dir, "-db", filepath.Join(t.TempDir(), "bf.db"), "-post", "-json", "-env", envFile)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	if posts, _, _ := fake.Counts(); posts != len(names) {
		t.Fatalf("%d posts for %d files", posts, len(names))
	}
	if strings.Contains(out+errOut, "sekrit") {
		t.Fatal("token printed")
	}
}

// backfillEnv points the SSH settings at srv through a .env file.
func backfillEnv(t *testing.T, srv *sftptest.Server, hostKeyLine string) string {
	t.Helper()
	host, port, _ := strings.Cut(srv.Addr(), ":")
	env := strings.Join([]string{
		"SSH_HOST=" + host, "SSH_PORT=" + port, "SSH_USER=et", "SSH_KEY_PATH=" + srv.ClientKeyPath(),
		"SSH_HOST_KEY=" + hostKeyLine, "REMOTE_STATS_DIR=/",
	}, "\n") + "\n"
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBackfillSFTP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	names := writeNight(t, dir, 3)
	srv := sftptest.Start(t, dir)
	envFile := backfillEnv(t, srv, srv.HostKeyLine())
	db := filepath.Join(t.TempDir(), "bf.db")
	code, out, errOut := runCmd(t, "backfill", "-env", envFile, "-db", db, "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	var res backfillResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Listed != len(names) || res.Imported != len(names) || res.Failed != 0 {
		t.Fatalf("%+v", res)
	}
}

func TestBackfillHostKeyMismatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeNight(t, dir, 1)
	srv := sftptest.Start(t, dir)
	other, err := sftptest.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	envFile := backfillEnv(t, srv, other.AuthorizedLine())
	code, out, errOut := runCmd(t, "backfill", "-env", envFile, "-db", filepath.Join(t.TempDir(), "bf.db"), "-json")
	if code != errHostKey {
		t.Fatalf("exit %d, want %d: %s %s", code, errHostKey, out, errOut)
	}
	if !strings.Contains(errOut, "host key mismatch") || out != "" {
		t.Fatalf("stderr %q stdout %q", errOut, out)
	}
	if srv.Handshakes() != 0 {
		t.Fatalf("%d handshakes completed with a wrong host key", srv.Handshakes())
	}
}

func TestCheckConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.env")
	os.WriteFile(bad, []byte("DISCORD_TOKEN=sekrit-token-123\nDISCORD_GUILD_ID=abc\nTIMEZONE=Nowhere/City\nWEBHOOK_FAILURE_THRESHOLD=-1\n"), 0o600)
	code, out, errOut := runCmd(t, "run", "-check-config", "-env", bad)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"DISCORD_GUILD_ID", "CONTROL_CHANNEL_ID", "STATS_CHANNEL_ID", "TIMEZONE", "WEBHOOK_FAILURE_THRESHOLD",
		"WEBHOOK_TRIGGER_WHITELIST", "SSH_HOST", "SSH_USER", "REMOTE_STATS_DIR", "warning: VOICE_CHANNEL_IDS"} {
		if !strings.Contains(out, want) {
			t.Errorf("no problem about %s in:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, "sekrit") {
		t.Errorf("token printed:\n%s%s", out, errOut)
	}
	good := filepath.Join(dir, "good.env")
	os.WriteFile(good, []byte(strings.Join([]string{
		"DISCORD_TOKEN=sekrit-token-123", "DISCORD_GUILD_ID=100", "CONTROL_CHANNEL_ID=200", "STATS_CHANNEL_ID=300",
		"ADMIN_CHANNEL_ID=400", "VOICE_CHANNEL_IDS=500,501", "WEBHOOK_TRIGGER_WHITELIST=600",
		"SSH_HOST=game.example.org", "SSH_USER=et", "SSH_KEY_PATH=/etc/roundfeed/key", "SSH_KNOWN_HOSTS=/etc/roundfeed/known_hosts",
		"REMOTE_STATS_DIR=/home/et/.etlegacy/legacy/gamestats",
	}, "\n")), 0o600)
	code, out, _ = runCmd(t, "run", "-check-config", "-env", good)
	if code != 0 || !strings.Contains(out, "configuration OK") || strings.Contains(out, "sekrit") {
		t.Fatalf("exit %d: %s", code, out)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		code int
	}{{nil, 2}, {[]string{"nope"}, 2}, {[]string{"help"}, 0}, {[]string{"demo", "-for", "-1s"}, 2}, {[]string{"status", "-bogus"}, 2}} {
		if code, _, _ := runCmd(t, tc.args...); code != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.args, code, tc.code)
		}
	}
}

// TestMain runs the package's tests in a temporary working directory, so
// that the commands' relative defaults (ARCHIVE_DIR "stats-archive",
// DB_PATH "roundfeed.db") never write into the source tree.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "roundfeed-bot-test-")
	if err != nil {
		panic(err)
	}
	if err := os.Chdir(dir); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
