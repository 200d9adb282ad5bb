package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExampleFile: the documented example file is valid for every command
// and describes its two servers.
func TestExampleFile(t *testing.T) {
	t.Parallel()
	env := mapLookup(map[string]string{EnvToken: token})
	c, err := LoadFile(filepath.Join("..", "..", "roundfeed.example.toml"), env)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(NeedAll); err != nil {
		t.Fatal(err)
	}
	if len(c.Servers) != 2 {
		t.Fatalf("servers = %d", len(c.Servers))
	}
	main, cup := c.Servers[0], c.Servers[1]
	if main.Name != "main" || cup.Name != "cup" || c.Server != "main" || c.Token.Reveal() != token {
		t.Errorf("names %q %q %q", main.Name, cup.Name, c.Server)
	}
	if main.Webhook.ControlChannelID != "222222222222222222" || cup.Webhook.ControlChannelID != "222222222222222223" ||
		main.Webhook.Whitelist[0] != "666666666666666661" || cup.Webhook.Server != "cup" || main.Webhook.Username != "ET:Legacy Stats" {
		t.Errorf("webhooks %+v / %+v", main.Webhook, cup.Webhook)
	}
	if main.SSH.Host != "game1.example.org" || main.SSH.Port != 22 || cup.SSH.AgentSocket == "" || cup.SSH.RemoteDir != "/srv/etcup/legacy/stats" {
		t.Errorf("ssh %v / %v", main.SSH, cup.SSH)
	}
	if main.Failover.HeartbeatMinPlayers != 4 || cup.Failover.HeartbeatMinPlayers != 6 || main.Failover.HeartbeatTimeout != 15*time.Minute {
		t.Errorf("failover defaults or override lost: %d %d %v", main.Failover.HeartbeatMinPlayers, cup.Failover.HeartbeatMinPlayers, main.Failover.HeartbeatTimeout)
	}
	if main.Schedule.Zone != "Europe/Paris" || cup.Schedule.Zone != "Europe/Berlin" || cup.Location.String() != "Europe/Berlin" ||
		cup.Schedule.DeadFrom != cup.Schedule.DeadUntil || main.Schedule.ProbeInterval != 30*time.Second {
		t.Errorf("schedules %+v / %+v", main.Schedule, cup.Schedule)
	}
	if strings.Join(cup.VoiceChannelIDs, ",") != "555555555555555556,555555555555555557" {
		t.Errorf("voice %v", cup.VoiceChannelIDs)
	}
	if s := fmt.Sprint(c) + fmt.Sprintf("%#v", c); strings.Contains(s, "sekrit") {
		t.Errorf("token printed: %s", s)
	}
}

// TestFileProblems: every problem of a file is reported at once, named by
// its line (syntax) or key path (values, unknown keys), never echoing a
// secret.
func TestFileProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"syntax", "db_path = \"x\"\nhealth_addr = \n", []string{"bad.toml:2:", "expected value"}},
		{"type", "[[servers]]\nname = \"a\"\n[servers.ssh]\nport = \"twenty-two\"\n", []string{"bad.toml: line 4", "servers.ssh.port"}},
		{"no servers", "db_path = \"x.db\"\n", []string{"bad.toml: servers: at least one"}},
		{"semantic", `
timezone = "Mars/Olympus"
bogus = 1
[discord]
token = "MTA1.sekrit.token-value"
guild_id = "abc"
stats_channel_id = "300"
[[servers]]
name = "alpha"
[servers.webhook]
control_channel_id = "200"
whitelist = ["600"]
[servers.ssh]
host = "a.example.org"
user = "et"
key_path = "/k"
known_hosts = "/kh"
stats_dir = "/s"
[servers.failover]
webhook_success_threshold = "zero"
webhook_succes_threshold = 2
[[servers]]
name = "alpha"
extra = true
[servers.webhook]
whitelist = ["600", "x1"]
[servers.ssh]
port = 70000
known_hosts = "/kh"
host_key = "ssh-ed25519 AAAA"
[servers.schedule]
poll_dead_hours = "late"
`, []string{
			"bad.toml: timezone: unknown time zone",
			"bad.toml: bogus: unknown key",
			"bad.toml: servers[1].extra: unknown key",
			"bad.toml: servers[0].failover.webhook_success_threshold: ",
			"bad.toml: servers[0].failover.webhook_succes_threshold: unknown key",
			"bad.toml: servers[1].name: \"alpha\" already used by servers[0]",
			"bad.toml: servers[1].webhook.whitelist[0]: webhook ID 600 already whitelisted by servers[0]",
			"bad.toml: servers[1].schedule.poll_dead_hours: ",
			"bad.toml: discord.guild_id: \"abc\" is not a Discord ID",
			"bad.toml: servers[1].webhook.control_channel_id: required",
			"bad.toml: servers[1].webhook.whitelist[1]: \"x1\" is not a Discord ID",
			"bad.toml: servers[1].ssh.host: required",
			"bad.toml: servers[1].ssh.user: required",
			"bad.toml: servers[1].ssh.stats_dir: required",
			"bad.toml: servers[1].ssh.port: 70000 is not 1 to 65535",
			"bad.toml: servers[1].ssh.key_path: required",
			"bad.toml: servers[1].ssh: set only one of known_hosts, host_key",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := FromFile("bad.toml", []byte(tc.file), mapLookup(nil))
			all := fmt.Sprint(err)
			if err == nil || tc.name == "semantic" {
				all += "\n" + fmt.Sprint(c.Validate(NeedAll))
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("missing %q in:\n%s", w, all)
				}
			}
			if strings.Contains(all, "sekrit") {
				t.Errorf("secret in errors:\n%s", all)
			}
		})
	}
}

// TestFileTokenAndPassphraseFromEnv: DISCORD_TOKEN wins over the file, and
// key_passphrase_env names the variable holding a passphrase.
func TestFileTokenAndPassphraseFromEnv(t *testing.T) {
	t.Parallel()
	file := `
[discord]
token = "from-file"
[[servers]]
name = "a"
[servers.ssh]
key_passphrase_env = "A_PASS"
`
	c, err := FromFile("f.toml", []byte(file), mapLookup(map[string]string{EnvToken: token, "A_PASS": "pass phrase "}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Token.Reveal() != token || c.Servers[0].SSH.KeyPassphrase != "pass phrase " {
		t.Errorf("token or passphrase not from the environment")
	}
	ssh := c.Servers[0].SSH
	for _, s := range []string{fmt.Sprintf("%#v", ssh), fmt.Sprintf("%#v", c.Servers), fmt.Sprintf("%+v", c.Servers[0]), fmt.Sprint(c)} {
		if strings.Contains(s, "pass phrase") {
			t.Errorf("passphrase printed: %s", s)
		}
	}
	_, err = FromFile("f.toml", []byte(file), mapLookup(nil))
	if err == nil || !strings.Contains(err.Error(), "servers[0].ssh.key_passphrase_env: environment variable A_PASS is not set") {
		t.Errorf("err = %v", err)
	}
}

func TestConfigPath(t *testing.T) {
	t.Parallel()
	if got := ConfigPath("x.toml", mapLookup(map[string]string{EnvConfigFile: "y.toml"})); got != "x.toml" {
		t.Errorf("flag: %q", got)
	}
	if got := ConfigPath("", mapLookup(map[string]string{EnvConfigFile: "y.toml"})); got != "y.toml" {
		t.Errorf("env: %q", got)
	}
}

// TestDBURL: DB_URL (environment) and db_url (file) select PostgreSQL; a
// bad one is reported without its password, which never prints.
func TestDBURL(t *testing.T) {
	t.Parallel()
	const url = "postgres://roundfeed:pg-sekrit@db:5432/roundfeed"
	env := validEnv()
	env[EnvDBURL] = url
	c, err := FromEnv(mapLookup(env))
	if err != nil || c.Validate(NeedAll) != nil || c.DBURL.Reveal() != url {
		t.Fatalf("env: %v %v", err, c.Validate(NeedAll))
	}
	if s := fmt.Sprint(c) + fmt.Sprintf("%#v %+v", c, c); strings.Contains(s, "pg-sekrit") {
		t.Errorf("password printed: %s", s)
	}
	env[EnvDBURL] = "mysql://u:pg-sekrit@h/db"
	c, _ = FromEnv(mapLookup(env))
	if err := c.Validate(NeedAll); err == nil || !strings.Contains(err.Error(), "DB_URL: scheme \"mysql\"") || strings.Contains(err.Error(), "pg-sekrit") {
		t.Errorf("bad scheme: %v", err)
	}
	file := "db_url = \"mysql://u:pg-sekrit@h/db\"\n[[servers]]\nname = \"a\"\n"
	c, err = FromFile("f.toml", []byte(file), mapLookup(nil))
	verr := c.Validate(0)
	if err != nil || verr == nil || !strings.Contains(verr.Error(), "f.toml: db_url: scheme") || strings.Contains(verr.Error(), "pg-sekrit") {
		t.Errorf("file: %v / %v", err, verr)
	}
	c, _ = FromFile("f.toml", []byte(file), mapLookup(map[string]string{EnvDBURL: url}))
	if c.DBURL.Reveal() != url {
		t.Error("DB_URL does not win over db_url")
	}
}
