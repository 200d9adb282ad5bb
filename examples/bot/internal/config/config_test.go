package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roundfeed/roundfeed/source/sftp"
)

const token = "MTA1.sekrit.token-value"

func mapLookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func validEnv() map[string]string {
	return map[string]string{
		EnvToken: token, EnvGuild: "100", EnvControl: "200", EnvStats: "300", EnvAdmin: "400",
		EnvVoice: "501, 502", "WEBHOOK_TRIGGER_WHITELIST": "600", "WEBHOOK_TRIGGER_USERNAME": "ET:Legacy Stats",
		sftp.EnvHost: "game.example.org", sftp.EnvUser: "et", sftp.EnvKeyPath: "/k", sftp.EnvKnownHosts: "/kh", sftp.EnvRemoteDir: "/gamestats",
	}
}

func TestFromEnvValid(t *testing.T) {
	t.Parallel()
	c, err := FromEnv(mapLookup(validEnv()))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(NeedAll); err != nil {
		t.Fatal(err)
	}
	if c.Token.Reveal() != token || c.GuildID != "100" || c.Webhook.ControlChannelID != "200" || c.StatsChannelID != "300" ||
		c.AdminChannelID != "400" || strings.Join(c.VoiceChannelIDs, ",") != "501,502" || c.Webhook.Whitelist[0] != "600" {
		t.Errorf("config = %+v", c)
	}
	if c.DBPath != DefaultDBPath || c.HealthAddr != DefaultHealthAddr || c.Timezone != DefaultTimezone || c.Location.String() != "Europe/Paris" {
		t.Errorf("defaults: %q %q %q", c.DBPath, c.HealthAddr, c.Timezone)
	}
	if !c.Failover.Enabled || c.SSH.Port != 22 {
		t.Errorf("library defaults lost")
	}
}

func TestFromEnvReportsEveryProblem(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		EnvToken: token, EnvGuild: "not-an-id", EnvTimezone: "Mars/Olympus", sftp.EnvPort: "99999",
		"WEBHOOK_SUCCESS_THRESHOLD": "zero", EnvStats: "",
	}
	c, err := FromEnv(mapLookup(env))
	verr := c.Validate(NeedAll)
	all := fmt.Sprint(err, verr)
	for _, want := range []string{EnvTimezone, sftp.EnvPort, "WEBHOOK_SUCCESS_THRESHOLD", EnvGuild, EnvControl, EnvStats,
		"WEBHOOK_TRIGGER_WHITELIST", sftp.EnvHost, sftp.EnvUser, sftp.EnvKeyPath, sftp.EnvKnownHosts, sftp.EnvRemoteDir} {
		if !strings.Contains(all, want) {
			t.Errorf("no problem reported for %s in:\n%s", want, all)
		}
	}
	if strings.Contains(all, "sekrit") {
		t.Errorf("token in errors: %s", all)
	}
}

func TestValidateNeed(t *testing.T) {
	t.Parallel()
	env := validEnv()
	delete(env, EnvToken)
	delete(env, sftp.EnvHost)
	c, err := FromEnv(mapLookup(env))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		need    Need
		missing []string
	}{
		{0, nil},
		{NeedDiscord, []string{EnvToken}},
		{NeedSSH, []string{sftp.EnvHost}},
		{NeedAll, []string{EnvToken, sftp.EnvHost}},
	}
	for _, tc := range tests {
		err := c.Validate(tc.need)
		if len(tc.missing) == 0 && err != nil {
			t.Errorf("need %d: %v", tc.need, err)
		}
		for _, m := range tc.missing {
			if err == nil || !strings.Contains(err.Error(), m) {
				t.Errorf("need %d: %v lacks %s", tc.need, err, m)
			}
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	env := validEnv()
	env[sftp.EnvKeyPassphrase] = "sekrit-passphrase"
	c, err := FromEnv(mapLookup(env))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		slog.New(h).Info("config", "token", c.Token, "config", c)
	}
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), string(j), logs.String(), c.Token.String()}
	for i, s := range outs {
		if strings.Contains(s, "sekrit") {
			t.Errorf("output %d shows the token: %s", i, s)
		}
	}
	if !strings.Contains(logs.String(), "[redacted]") || !strings.Contains(fmt.Sprint(c), "game.example.org") {
		t.Errorf("logs: %s", logs.String())
	}
}

func TestReadDotEnv(t *testing.T) {
	t.Parallel()
	in := "# comment\n\nexport DISCORD_TOKEN=\"quoted value\"\nDB_PATH = /var/lib/rf.db # trailing\nHEALTH_ADDR=\nSINGLE='x y'\n"
	got, err := ReadDotEnv(strings.NewReader(in), ".env")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"DISCORD_TOKEN": "quoted value", "DB_PATH": "/var/lib/rf.db", "HEALTH_ADDR": "", "SINGLE": "x y"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	_, err = ReadDotEnv(strings.NewReader("OK=1\nsekrit-line-without-equals\nBAD KEY=2\n"), ".env")
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "line 3") || strings.Contains(err.Error(), "sekrit") {
		t.Errorf("err = %v", err)
	}
}

func TestLookupEnvWinsOverFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	if err := os.WriteFile(path, []byte("ROUNDFEED_TEST_A=file\nROUNDFEED_TEST_B=file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ROUNDFEED_TEST_A", "env")
	lookup, err := Lookup(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := lookup("ROUNDFEED_TEST_A"); v != "env" {
		t.Errorf("A = %q", v)
	}
	if v, _ := lookup("ROUNDFEED_TEST_B"); v != "file" {
		t.Errorf("B = %q", v)
	}
	if _, err := Lookup(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("missing file: %v", err)
	}
}
