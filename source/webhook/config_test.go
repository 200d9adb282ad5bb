package webhook

import (
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		EnvControlChannel: " 1100000000000000001 ",
		EnvWhitelist:      "1200000000000000002, ,1200000000000000003,",
		EnvUsername:       "ET:Legacy Stats",
	}
	cfg, err := ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ControlChannelID != testChannel || len(cfg.Whitelist) != 2 || cfg.Whitelist[1] != otherHook || cfg.Username != testUsername {
		t.Errorf("config %+v", cfg)
	}
	if cfg.FileRate != 5 || cfg.FileRateWindow != time.Minute || cfg.ReadyRate != 4 || cfg.ReadyRateWindow != 30*time.Second ||
		cfg.SeenTTL != 10*time.Minute || cfg.ResolveAttempts != 4 || cfg.ResolveInterval != 5*time.Second || cfg.ResolveWindow != 2*time.Minute {
		t.Errorf("defaults changed: %+v", cfg)
	}
}

func TestConfigValidateReportsAll(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.Server = ""
	c.Whitelist = []string{"https://discord.com/api/webhooks/123/SECRETTOKEN"}
	c.FileRate = 0
	c.SeenTTL = time.Minute
	c.ResolveWindow = 0
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"Server", "ControlChannelID", "Whitelist entry 1", "FileRate", "SeenTTL", "ResolveWindow"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Errorf("error echoes a pasted webhook URL: %v", err)
	}
	if _, err := NewTrigger(c, nil, nil); err == nil {
		t.Error("NewTrigger accepted an invalid config")
	}
}

func TestCompareIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"9", "10", -1}, {"10", "9", 1}, {"123", "123", 0}, {"", "1", -1},
		{"1200000000000000002", "1200000000000000003", -1},
	}
	for _, tc := range tests {
		if got := compareIDs(tc.a, tc.b); got != tc.want {
			t.Errorf("compareIDs(%q, %q) = %d", tc.a, tc.b, got)
		}
	}
}
