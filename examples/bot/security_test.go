package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/examples/bot/internal/config"
	"github.com/roundfeed/roundfeed/examples/bot/internal/demo"
	"github.com/roundfeed/roundfeed/examples/bot/internal/gamesim"
	"github.com/roundfeed/roundfeed/internal/testutil"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source/sftp/sftptest"
)

// Recognisable secrets: any output holding one (or a common encoding of
// one) is a leak.
const (
	secToken      = "Bot SECRET-TOKEN-7f3a9d21e6"
	secPassphrase = "SECRET-PASS-40c8b2"
	secDBPassword = "SECRET-DBPASS-91ee"
	secDBURL      = "postgres://u:" + secDBPassword + "@127.0.0.1:1/x"
)

// secretForms returns every secret and the transformations a careless
// encoder or logger would apply: the token without "Bot ", base64 (std and
// URL alphabets), URL escaping and Go quoting.
func secretForms() []string {
	var out []string
	for _, s := range []string{secToken, strings.TrimPrefix(secToken, "Bot "), secPassphrase, secDBPassword, secDBURL} {
		out = append(out, s, url.QueryEscape(s), url.PathEscape(s), fmt.Sprintf("%q", s),
			base64.StdEncoding.EncodeToString([]byte(s)), base64.URLEncoding.EncodeToString([]byte(s)),
			base64.RawStdEncoding.EncodeToString([]byte(s)))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// assertNoSecret fails t when text holds any secret in any form.
func assertNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, f := range secretForms() {
		if i := strings.Index(text, f); i >= 0 {
			t.Errorf("secret (as %q) in %s: ...%s...", f, what, text[max(0, i-120):min(len(text), i+len(f)+40)])
		}
	}
}

// recordingTransport records every REST request the Discord session makes
// (method, URL, every header but Authorization, body) and the Authorization
// values apart, then hands the request to the stand-in.
type recordingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []string
	auth []string
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	var rec strings.Builder
	fmt.Fprintf(&rec, "%s %s\n", r.Method, r.URL.String())
	for k, vs := range r.Header {
		if k != "Authorization" {
			fmt.Fprintf(&rec, "%s: %s\n", k, strings.Join(vs, ", "))
		}
	}
	rec.Write(body)
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, rec.String())
	rt.auth = append(rt.auth, r.Header.Values("Authorization")...)
	rt.mu.Unlock()
	return rt.next.RoundTrip(r)
}

func (rt *recordingTransport) recorded() (reqs, auth []string) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return slices.Clone(rt.reqs), slices.Clone(rt.auth)
}

// walkFiles returns every regular file under root, relative to it.
func walkFiles(t *testing.T, root string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out[rel] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// hostileNames are file names a hostile or broken notifier could put in a
// webhook message. Each must be refused at the trigger, before any fetch,
// tracker row or archive write. outside is a real stats file's name placed
// one level above the served folder, where "../" would reach.
func hostileNames(outside string) []string {
	return []string{
		"../../x-round-1.txt",
		"../" + outside,
		"../../../../../../tmp/" + outside,
		"/etc/" + outside,
		"..\\..\\" + outside,
		"C:\\Windows\\" + outside,
		"2026-01-15-222119-a/../../../b-round-1.txt",
		outside + "/../../x-round-1.txt",
		"~/" + outside,
		"." + outside,
		"2026-01-15-222119-..-round-1.txt",
		"2026-01-15-222119-te%2F..%2F..%2Fx-round-1.txt",
		"2026-01-15-222119-te\x00escape2-round-1.txt",
		"2026-01-15-222119-te\nescape2-round-1.txt",
		"2026-01-15-222119-" + strings.Repeat("a", 4000) + "-round-1.txt",
		"2026-01-15-222119-te escape2-round-1.txt",
		"2026-01-15-222119-t\u00e9_escape2-round-1.txt",
	}
}

// TestSecurityRunNoSecretsAndNoHostilePaths runs the real run command with
// recognisable secrets (a "Bot "-prefixed token, an encrypted SSH key and
// its passphrase; SQLite) against a stand-in Discord and a loopback SFTP
// server, feeds hostile file names through the webhook trigger, and checks:
//   - no secret, in any common encoding, is in stdout, stderr (the slog
//     output), /health, /metrics, status and status -json, the posts, any
//     REST request the session made (URL, headers other than Authorization,
//     body), or any file the bot wrote (database, archive);
//   - the token is sent in the Authorization header, exactly;
//   - every hostile name is refused at the trigger (one log line each),
//     nothing is imported for it, and no file appears anywhere under the
//     test's root except the database and valid names in the archive.
func TestSecurityRunNoSecretsAndNoHostilePaths(t *testing.T) {
	t.Setenv(config.EnvDBURL, "") // SQLite, whatever the environment says
	root := t.TempDir()
	dirs := map[string]string{}
	for _, d := range []string{"staging", "served", "keys", "db", "archive", "etc"} {
		dirs[d] = filepath.Join(root, d)
		if err := os.Mkdir(dirs[d], 0o700); err != nil {
			t.Fatal(err)
		}
	}
	sim, err := gamesim.New(gamesim.DefaultConfig(dirs["staging"]))
	if err != nil {
		t.Fatal(err)
	}
	copyTo := func(name, dst string, at time.Time) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dirs["staging"], name))
		if err == nil {
			tmp := filepath.Join(filepath.Dir(dst), "tmp-"+filepath.Base(dst))
			if err = os.WriteFile(tmp, b, 0o644); err == nil {
				os.Chtimes(tmp, at, at)
				err = os.Rename(tmp, dst)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	publish := func(at time.Time) string {
		t.Helper()
		r, err := sim.WriteRound(at)
		if err != nil {
			t.Fatal(err)
		}
		copyTo(r.Stats, filepath.Join(dirs["served"], r.Stats), at)
		return r.Stats
	}
	first := publish(time.Now().Add(-6 * time.Minute))
	// A real stats file just outside the served folder: what "../name"
	// would reach if a name were ever joined to a path unchecked.
	r, err := sim.WriteRound(time.Now().Add(-5 * time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	outside := r.Stats
	copyTo(outside, filepath.Join(root, outside), time.Now().Add(-5*time.Minute))
	copyTo(outside, filepath.Join(dirs["etc"], outside), time.Now().Add(-5*time.Minute))

	key, err := sftptest.NewEncryptedKey(secPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sftptest.NewServer(sftptest.Options{Dir: dirs["served"], KeyDir: dirs["keys"], ClientKey: &key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	fake := demo.NewFakeDiscord("900", "200")
	defer fake.Close()
	fake.Ready = &discordgo.Ready{Version: 10, SessionID: "s1", User: &discordgo.User{ID: "999", Username: "roundfeed", Bot: true},
		Guilds: []*discordgo.Guild{{ID: "900", Name: "ET", OwnerID: "1",
			Roles:       []*discordgo.Role{{ID: "900", Permissions: discordgo.PermissionSendMessages}},
			VoiceStates: []*discordgo.VoiceState{{GuildID: "900", ChannelID: "500", UserID: "11"}}}}}
	var postsMu sync.Mutex
	var posts []string
	fake.OnPost = func(ch string, embeds []*discordgo.MessageEmbed, content string) {
		postsMu.Lock()
		defer postsMu.Unlock()
		for _, e := range embeds {
			posts = append(posts, ch+": "+e.Title+" "+e.Description+" "+fmt.Sprint(e.Fields)+" "+fmt.Sprint(e.Footer))
		}
		if content != "" {
			posts = append(posts, ch+": "+content)
		}
	}
	postCount := func() int {
		postsMu.Lock()
		defer postsMu.Unlock()
		return len(posts)
	}
	rec := &recordingTransport{next: fake.Transport()}
	discordHTTP = &http.Client{Transport: rec}
	defer func() { discordHTTP = nil }()

	healthAddr := testutil.FreeAddr(t)
	dbPath := filepath.Join(dirs["db"], "run.db")
	env := strings.Join([]string{
		`DISCORD_TOKEN="` + secToken + `"`, "DISCORD_GUILD_ID=900", "CONTROL_CHANNEL_ID=200", "STATS_CHANNEL_ID=300",
		"ADMIN_CHANNEL_ID=400", "VOICE_CHANNEL_IDS=500", "WEBHOOK_TRIGGER_WHITELIST=600", "WEBHOOK_TRIGGER_USERNAME=ET:Legacy Stats",
		"SSH_HOST=" + srv.Host(), fmt.Sprint("SSH_PORT=", srv.Port()), "SSH_USER=et", "SSH_KEY_PATH=" + srv.ClientKeyPath(),
		"SSH_KEY_PASSPHRASE=" + secPassphrase, "SSH_KNOWN_HOSTS=" + srv.KnownHostsPath(),
		"REMOTE_STATS_DIR=/", "DB_PATH=" + dbPath, "ARCHIVE_DIR=" + dirs["archive"],
		"HEALTH_ADDR=" + healthAddr, "POLL_DEAD_HOURS=off",
	}, "\n") + "\n"
	envFile := filepath.Join(dirs["keys"], ".env")
	if err := os.WriteFile(envFile, []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	before := walkFiles(t, root)
	// discordgo logs through the standard logger: capture that too.
	var stdlog testutil.SyncBuffer
	log.SetOutput(&stdlog)
	defer log.SetOutput(os.Stderr)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testutil.SyncBuffer
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"run", "-env", envFile}, &stdout, &stderr) }()
	testutil.WaitFor(t, "the first round posted", func() bool { return postCount() >= 1 })

	// Hostile names from the whitelisted webhook, each in its own message.
	push := func(name string) string {
		id := fake.NextID()
		fake.Dispatch("MESSAGE_CREATE", &discordgo.Message{ID: id, ChannelID: "200", GuildID: "900", WebhookID: "600",
			Content: "📊 `" + name + "`", Author: &discordgo.User{ID: "600", Username: "ET:Legacy Stats", Bot: true}})
		return id
	}
	var hostileIDs []string
	for _, name := range hostileNames(outside) {
		hostileIDs = append(hostileIDs, push(name))
	}
	refused := func(id string) bool {
		for _, line := range strings.Split(stderr.String(), "\n") {
			if strings.Contains(line, `"webhook trigger refused: bad file name"`) && strings.Contains(line, `"message_id":"`+id+`"`) {
				return true
			}
		}
		return false
	}
	testutil.WaitFor(t, "every hostile name refused at the trigger", func() bool {
		return !slices.ContainsFunc(hostileIDs, func(id string) bool { return !refused(id) })
	})
	// The pipeline is alive: a valid name pushed after them is imported.
	second := publish(time.Now().Add(-time.Minute))
	push(second)
	testutil.WaitFor(t, "the valid pushed round posted", func() bool { return postCount() >= 2 })

	health := httpGet(t, "http://"+healthAddr+"/health")
	metrics := httpGet(t, "http://"+healthAddr+"/metrics")
	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, tail(stderr.String(), 3000))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop after cancellation")
	}

	// The database's own view, through the status command with the same
	// (secret-holding) configuration.
	code, statusText, statusErr := runCmd(t, "status", "-db", dbPath, "-env", envFile)
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, statusErr)
	}
	code, statusJSON, statusJSONErr := runCmd(t, "status", "-db", dbPath, "-env", envFile, "-json")
	if code != 0 {
		t.Fatalf("status -json: exit %d: %s", code, statusJSONErr)
	}
	rep, err := readStatus(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Files["done"] != 2 || len(rep.Quarantined) != 0 {
		t.Errorf("files %v, quarantined %v: want exactly the two valid rounds", rep.Files, rep.Quarantined)
	}
	if strings.Contains(statusJSON, outside) || strings.Contains(statusText, outside) {
		t.Errorf("the file outside the served folder reached the database:\n%s", statusJSON)
	}

	reqs, auth := rec.recorded()
	if len(reqs) == 0 {
		t.Fatal("no REST request recorded")
	}
	for i, a := range auth {
		if a != secToken {
			t.Errorf("Authorization header %d is not the token", i)
		}
	}
	if ids := fake.Identified(); len(ids) != 1 || ids[0] != secToken {
		t.Errorf("gateway Identify carried %d tokens, or another one", len(ids))
	}
	postsMu.Lock()
	postText := strings.Join(posts, "\n")
	postsMu.Unlock()
	outputs := map[string]string{
		"stdout": stdout.String(), "stderr (slog)": stderr.String(), "/health": health, "/metrics": metrics,
		"status": statusText + statusErr, "status -json": statusJSON + statusJSONErr,
		"REST requests": strings.Join(reqs, "\n---\n"), "posts": postText, "standard logger": stdlog.String(),
	}
	// The configuration was logged, redacted.
	for _, want := range []string{`"token_set":true`, `"key_passphrase_set":true`, `"db_url_set":false`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("logs lack %s", want)
		}
	}
	for what, text := range outputs {
		assertNoSecret(t, what, text)
	}

	// Nothing written outside the database folder and the archive; the
	// archive holds only valid names, in the server's folder.
	after := walkFiles(t, root)
	for p := range after {
		if before[p] {
			continue
		}
		dir, name := filepath.Split(p)
		switch {
		case strings.HasPrefix(p, "staging"+string(filepath.Separator)), p == filepath.Join("served", second):
			// written by this test
		case strings.HasPrefix(p, "db"+string(filepath.Separator)):
		case dir == filepath.Join("archive", "main")+string(filepath.Separator):
			if _, err := parser.ValidateName(name); err != nil {
				t.Errorf("archive holds %q: %v", p, err)
			}
			if name != first && name != second {
				t.Errorf("archive holds %q, which was never a valid round", p)
			}
		default:
			t.Errorf("file created outside the database and the archive: %s", p)
		}
		if b, err := os.ReadFile(filepath.Join(root, p)); err == nil {
			assertNoSecret(t, "file "+p, string(b))
		}
	}
	for p := range before {
		if !after[p] {
			t.Errorf("file removed: %s", p)
		}
	}
	for _, name := range []string{first, second} {
		if !after[filepath.Join("archive", "main", name)] {
			t.Errorf("archive lacks %s: the walk looked in the wrong place", name)
		}
	}
	if !after[outside] || !after[filepath.Join("etc", outside)] {
		t.Error("the files outside the served folder are gone")
	}
}

// TestSecurityConfigErrorsHideSecrets: check-config with a bad
// configuration, and a run whose database cannot be reached, print and
// return errors without the token, the passphrase or the database password.
func TestSecurityConfigErrorsHideSecrets(t *testing.T) {
	dir := t.TempDir()
	key, err := sftptest.NewEncryptedKey(secPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "key")
	if err := key.WritePrivate(keyPath); err != nil {
		t.Fatal(err)
	}
	closed := testutil.FreeAddr(t)
	host, port, _ := net.SplitHostPort(closed)
	good := []string{
		`DISCORD_TOKEN="` + secToken + `"`, "DISCORD_GUILD_ID=900", "CONTROL_CHANNEL_ID=200", "STATS_CHANNEL_ID=300",
		"WEBHOOK_TRIGGER_WHITELIST=600", "SSH_HOST=" + host, "SSH_PORT=" + port, "SSH_USER=et", "SSH_KEY_PATH=" + keyPath,
		"SSH_KEY_PASSPHRASE=" + secPassphrase, "SSH_HOST_KEY=" + key.AuthorizedLine(), "REMOTE_STATS_DIR=/",
		"DB_PATH=" + filepath.Join(dir, "x.db"), "ARCHIVE_DIR=" + filepath.Join(dir, "archive"), "HEALTH_ADDR=",
	}
	bad := append(slices.Clone(good), "DISCORD_GUILD_ID=abc", "SSH_PORT=99999", "WEBHOOK_FAILURE_THRESHOLD=-1",
		"TIMEZONE=Nowhere/City", "SSH_INSECURE_IGNORE_HOST_KEY=yes")
	write := func(name string, lines []string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodEnv, badEnv := write("good.env", good), write("bad.env", bad)
	tests := []struct {
		name  string
		dbURL string
		args  []string
		want  string // in stdout + stderr + the error
	}{
		{"check-config, bad config, postgres URL", secDBURL, []string{"-check-config", "-env", badEnv}, "DISCORD_GUILD_ID"},
		{"check-config, bad scheme", "mysql://u:" + secDBPassword + "@127.0.0.1:1/x", []string{"-check-config", "-env", badEnv}, "DB_URL: scheme"},
		{"check-config, URL does not parse", "postgres://u:" + secDBPassword + "@[::1/x", []string{"-check-config", "-env", badEnv}, "DB_URL: not a valid URL"},
		{"run, bad config", secDBURL, []string{"-env", badEnv}, "configuration"},
		{"run, database unreachable", secDBURL, []string{"-env", goodEnv}, "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(config.EnvDBURL, tt.dbURL)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			err := cmdRun(ctx, tt.args, &out, &errb)
			if err == nil {
				t.Fatalf("no error; stdout %s", out.String())
			}
			// The exit path too (it prints the error); a failed run's is the
			// same error, checked above, so only check-config is repeated.
			var out2, errOut2 string
			if slices.Contains(tt.args, "-check-config") {
				var code int
				if code, out2, errOut2 = runCmd(t, append([]string{"run"}, tt.args...)...); code != 1 {
					t.Fatalf("exit %d", code)
				}
			}
			all := fmt.Sprintf("%s\n%s\n%v\n%+v\n%#v\n%s\n%s", out.String(), errb.String(), err, err, err, out2, errOut2)
			if !strings.Contains(all, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, all)
			}
			assertNoSecret(t, "output and error", all)
		})
	}
}

// TestSecurityHealthLoopbackByDefault: /health and /metrics listen on
// 127.0.0.1:8080 unless HEALTH_ADDR (health_addr) says otherwise; a
// non-loopback address is taken only when set explicitly.
func TestSecurityHealthLoopbackByDefault(t *testing.T) {
	t.Parallel()
	loopback := func(addr string) bool {
		h, _, err := net.SplitHostPort(addr)
		ip := net.ParseIP(h)
		return err == nil && ip != nil && ip.IsLoopback()
	}
	if d := config.DefaultConfig().HealthAddr; d != "127.0.0.1:8080" || !loopback(d) {
		t.Errorf("default health address %q", d)
	}
	envCfg, _ := config.FromEnv(func(string) (string, bool) { return "", false })
	fileCfg, _ := config.FromFile("roundfeed.toml", []byte("[[servers]]\nname = \"a\"\n"), func(string) (string, bool) { return "", false })
	for what, c := range map[string]config.Config{"environment": envCfg, "file": fileCfg} {
		if !loopback(c.HealthAddr) {
			t.Errorf("%s without a health address: %q is not loopback", what, c.HealthAddr)
		}
	}
	for _, addr := range []string{"0.0.0.0:9100", "[::]:9100", "192.0.2.7:8080"} {
		c, _ := config.FromEnv(func(k string) (string, bool) {
			if k == config.EnvHealthAddr {
				return addr, true
			}
			return "", false
		})
		fc, _ := config.FromFile("roundfeed.toml", []byte(fmt.Sprintf("health_addr = %q\n[[servers]]\nname = \"a\"\n", addr)), func(string) (string, bool) { return "", false })
		if c.HealthAddr != addr || fc.HealthAddr != addr {
			t.Errorf("explicit %q: environment gives %q, file %q", addr, c.HealthAddr, fc.HealthAddr)
		}
	}
}

// TestSecurityHostKeyCheckMandatory: -check-config refuses a configuration
// with no host key (neither SSH_KNOWN_HOSTS nor SSH_HOST_KEY), and
// SSH_INSECURE_IGNORE_HOST_KEY disables checking only for a boolean true
// (strconv.ParseBool: 1, t, true, TRUE, True; surrounding space ignored).
// Empty or false values leave checking on (so the configuration is
// refused); anything else ("yes", "on", "enable") is an error, never true.
// In roundfeed.toml the key is a TOML boolean: a string is a type error.
func TestSecurityHostKeyCheckMandatory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := []string{
		"DISCORD_TOKEN=x", "DISCORD_GUILD_ID=100", "CONTROL_CHANNEL_ID=200", "STATS_CHANNEL_ID=300",
		"ADMIN_CHANNEL_ID=400", "VOICE_CHANNEL_IDS=500", "WEBHOOK_TRIGGER_WHITELIST=600",
		"SSH_HOST=game.example.org", "SSH_USER=et", "SSH_KEY_PATH=/etc/roundfeed/key", "REMOTE_STATS_DIR=/stats",
	}
	const mandatory = "host key verification is mandatory"
	tests := []struct {
		name  string
		extra []string
		code  int
		want  string
	}{
		{"no host key", nil, 1, mandatory},
		{"insecure empty", []string{"SSH_INSECURE_IGNORE_HOST_KEY="}, 1, mandatory},
		{"insecure spaces", []string{`SSH_INSECURE_IGNORE_HOST_KEY="   "`}, 1, mandatory},
		{"insecure false", []string{"SSH_INSECURE_IGNORE_HOST_KEY=false"}, 1, mandatory},
		{"insecure 0", []string{"SSH_INSECURE_IGNORE_HOST_KEY=0"}, 1, mandatory},
		{"insecure yes", []string{"SSH_INSECURE_IGNORE_HOST_KEY=yes"}, 1, "is not true or false"},
		{"insecure on", []string{"SSH_INSECURE_IGNORE_HOST_KEY=on"}, 1, "is not true or false"},
		{"insecure garbage", []string{"SSH_INSECURE_IGNORE_HOST_KEY=enable"}, 1, "is not true or false"},
		{"insecure true", []string{"SSH_INSECURE_IGNORE_HOST_KEY=true"}, 0, "configuration OK"},
		{"insecure 1", []string{"SSH_INSECURE_IGNORE_HOST_KEY=1"}, 0, "configuration OK"},
		{"insecure TRUE padded", []string{`SSH_INSECURE_IGNORE_HOST_KEY=" TRUE "`}, 0, "configuration OK"},
		{"insecure and known_hosts", []string{"SSH_INSECURE_IGNORE_HOST_KEY=true", "SSH_KNOWN_HOSTS=/k"}, 1, "set only one"},
		{"known_hosts", []string{"SSH_KNOWN_HOSTS=/etc/roundfeed/known_hosts"}, 0, "configuration OK"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, fmt.Sprintf("%d.env", i))
			if err := os.WriteFile(p, []byte(strings.Join(append(slices.Clone(base), tt.extra...), "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := runCmd(t, "run", "-check-config", "-env", p)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d (want %d), output lacks %q?\n%s%s", code, tt.code, tt.want, out, errOut)
			}
			if tt.code != 0 && !strings.Contains(errOut, "configuration has problems") {
				t.Errorf("stderr %q", errOut)
			}
		})
	}
	// The file form: a string is not a boolean.
	file := `[discord]
token = "x"
guild_id = "100"
control_channel_id = "200"
stats_channel_id = "300"
[[servers]]
name = "a"
[servers.webhook]
whitelist = ["600"]
[servers.ssh]
host = "game.example.org"
user = "et"
key_path = "/k"
stats_dir = "/s"
`
	for _, tc := range []struct {
		line string
		code int
		want string
	}{
		{"", 1, "host key"},
		{`insecure_ignore_host_key = "true"`, 1, "insecure_ignore_host_key"},
		{`insecure_ignore_host_key = "yes"`, 1, "insecure_ignore_host_key"},
		{`insecure_ignore_host_key = false`, 1, "host key"},
		{`insecure_ignore_host_key = true`, 0, "configuration OK"},
	} {
		p := filepath.Join(t.TempDir(), "roundfeed.toml")
		if err := os.WriteFile(p, []byte(file+tc.line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runCmd(t, "run", "-check-config", "-config", p, "-env", "")
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("file with %q: exit %d (want %d), output lacks %q?\n%s%s", tc.line, code, tc.code, tc.want, out, errOut)
		}
	}
}

// TestSecurityConfigFileSyntaxErrorHidesSecret: an unquoted secret in
// roundfeed.toml is a syntax error, and the TOML parser's message quotes
// the value it found ("expected value but found \"hunter\""). The problem
// printed by -check-config (and the error of run) must name the line, not
// the value.
func TestSecurityConfigFileSyntaxErrorHidesSecret(t *testing.T) {
	t.Parallel()
	const bare = "SECRETbareValueOnlyLetters"
	for _, line := range []string{
		"[discord]\ntoken = " + bare,
		"[discord]\ntoken = Bot " + bare,
		"db_url = " + bare + "://u:p@h/x",
		"[[servers]]\nname = \"a\"\n[servers.ssh]\nkey_passphrase = " + bare,
		"[[servers]]\nname = \"a\"\nssh = { host = \"h\", key_passphrase = " + bare + " }",
	} {
		p := filepath.Join(t.TempDir(), "roundfeed.toml")
		if err := os.WriteFile(p, []byte(line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runCmd(t, "run", "-check-config", "-config", p, "-env", "")
		if code != 1 || !strings.Contains(out, "roundfeed.toml:") || !strings.Contains(out, "holds a secret") {
			t.Errorf("%q: exit %d: %s%s", line, code, out, errOut)
		}
		code, out2, errOut2 := runCmd(t, "run", "-config", p, "-env", "")
		if code != 1 {
			t.Errorf("%q: run exit %d", line, code)
		}
		if all := out + errOut + out2 + errOut2; strings.Contains(all, "SECRETbare") {
			t.Errorf("%q: the value is printed:\n%s", line, all)
		}
	}
}
