package sftp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/source/sftp/sftptest"
)

// securityPassphrase is recognisable in any output it might leak into.
const securityPassphrase = "SECRET-PASS-5b1e9c"

// leakForms returns s and the forms a careless encoder would give it.
func leakForms(s string) []string {
	return []string{s, url.QueryEscape(s), base64.StdEncoding.EncodeToString([]byte(s)), fmt.Sprintf("%q", s)}
}

// assertNoPassphrase fails t when text holds the passphrase in any form.
func assertNoPassphrase(t *testing.T, what, text string) {
	t.Helper()
	for _, f := range leakForms(securityPassphrase) {
		if strings.Contains(text, f) {
			t.Errorf("passphrase (as %q) in %s: %.300s", f, what, text)
		}
	}
}

// TestSecurityConfigNeverPrintsPassphrase formats a Config with a
// passphrase every way a caller might: fmt verbs on the value, a pointer and
// a struct holding it, slog's text and JSON handlers, and json.Marshal.
func TestSecurityConfigNeverPrintsPassphrase(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Host, cfg.User, cfg.RemoteDir = "game.example.org", "et", "/stats"
	cfg.KeyPath, cfg.KeyPassphrase = "/etc/roundfeed/key", securityPassphrase
	cfg.HostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
	holder := struct {
		Name string
		SSH  Config
	}{"main", cfg}
	for what, text := range map[string]string{
		"%v %+v %#v %s": fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg),
		"pointer":       fmt.Sprintf("%v %+v %#v", &cfg, &cfg, &cfg),
		"holder":        fmt.Sprintf("%v %+v %#v", holder, holder, &holder),
		"slice":         fmt.Sprintf("%v %+v", []Config{cfg}, map[string]Config{"a": cfg}),
	} {
		assertNoPassphrase(t, what, text)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "ssh", cfg, "ptr", &cfg)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "ssh", cfg, "ptr", &cfg, "holder", holder)
	assertNoPassphrase(t, "slog", logs.String())
	if !strings.Contains(logs.String(), "key_passphrase_set") {
		t.Errorf("slog output lacks key_passphrase_set: %s", logs.String())
	}
	// json.Marshal either refuses a Config (its func field) or encodes it
	// without the passphrase; both are fine, a passphrase is not.
	for what, v := range map[string]any{"value": cfg, "pointer": &cfg, "holder": holder} {
		b, err := json.Marshal(v)
		assertNoPassphrase(t, "json.Marshal "+what, string(b))
		if err != nil {
			assertNoPassphrase(t, "json.Marshal error "+what, err.Error())
		}
	}
}

// TestSecurityConnectErrorsHidePassphrase makes a client with an encrypted
// key and its passphrase fail every way a connect can fail, and checks that
// no error, no log line and no formatting of the client holds the
// passphrase.
func TestSecurityConnectErrorsHidePassphrase(t *testing.T) {
	t.Parallel()
	srv := sftptest.Start(t, t.TempDir())
	key, err := sftptest.NewEncryptedKey(securityPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(t.TempDir(), "encrypted_ed25519")
	if err := key.WritePrivate(keyPath); err != nil {
		t.Fatal(err)
	}
	other, err := sftptest.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	closed := func() string { // a loopback port nobody listens on
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}()
	_, closedPort, _ := net.SplitHostPort(closed)
	base := func(logs *bytes.Buffer) Config {
		c := DefaultConfig()
		c.Host, c.Port, c.User, c.RemoteDir = srv.Host(), srv.Port(), srv.User(), "/"
		c.KeyPath, c.KeyPassphrase = keyPath, securityPassphrase
		c.HostKey = srv.HostKeyLine()
		c.DialTimeout = 5 * time.Second
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		return c
	}
	tests := []struct {
		name     string
		edit     func(*Config)
		newFails bool   // NewClient itself refuses
		want     string // in the error
	}{
		{"wrong passphrase", func(c *Config) { c.KeyPassphrase = securityPassphrase + "-wrong" }, true, "decryption password incorrect"},
		{"wrong host key", func(c *Config) { c.HostKey = other.AuthorizedLine() }, false, "host key"},
		{"unreachable host", func(c *Config) { fmt.Sscan(closedPort, &c.Port) }, false, "refused"},
		{"unknown client key", func(c *Config) {}, false, "unable to authenticate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			cfg := base(&logs)
			tt.edit(&cfg)
			c, err := NewClient(cfg)
			if tt.newFails {
				if err == nil {
					c.Close()
					t.Fatal("NewClient accepted the configuration")
				}
			} else {
				if err != nil {
					t.Fatalf("NewClient: %v", err)
				}
				defer c.Close()
				_, err = c.List(context.Background())
				if err == nil {
					t.Fatal("List succeeded")
				}
				assertNoPassphrase(t, "client formatting", fmt.Sprintf("%v %+v %#v", c, c, c))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			assertNoPassphrase(t, "error", fmt.Sprintf("%v %+v %#v", err, err, err))
			assertNoPassphrase(t, "logs", logs.String())
		})
	}
}

// TestSecurityInsecureHostKeyIsExplicit: SSH_INSECURE_IGNORE_HOST_KEY turns
// host-key checking off only for a boolean true (strconv.ParseBool's
// spellings: 1, t, true, TRUE, True, surrounding space ignored). Empty or
// false leaves checking on, so a config without SSH_KNOWN_HOSTS or
// SSH_HOST_KEY is refused; any other word is an error, never "true".
func TestSecurityInsecureHostKeyIsExplicit(t *testing.T) {
	t.Parallel()
	base := map[string]string{EnvHost: "game.example.org", EnvUser: "et", EnvKeyPath: "/k", EnvRemoteDir: "/stats"}
	const mandatory = "host key verification is mandatory"
	tests := []struct {
		value    *string // nil: not set
		insecure bool
		errWant  string // "" no error
	}{
		{nil, false, mandatory},
		{ptr(""), false, mandatory},
		{ptr("   "), false, mandatory},
		{ptr("false"), false, mandatory},
		{ptr("0"), false, mandatory},
		{ptr("1"), true, ""},
		{ptr("true"), true, ""},
		{ptr(" TRUE "), true, ""},
		{ptr("yes"), false, "is not true or false"},
		{ptr("on"), false, "is not true or false"},
		{ptr("y"), false, "is not true or false"},
		{ptr("2"), false, "is not true or false"},
		{ptr("truee"), false, "is not true or false"},
		{ptr("disable"), false, "is not true or false"},
	}
	for _, tt := range tests {
		name := "unset"
		if tt.value != nil {
			name = fmt.Sprintf("%q", *tt.value)
		}
		t.Run(name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			if tt.value != nil {
				env[EnvInsecureIgnoreHostKey] = *tt.value
			}
			c, err := ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if c.InsecureIgnoreHostKey != tt.insecure {
				t.Errorf("InsecureIgnoreHostKey = %v, want %v", c.InsecureIgnoreHostKey, tt.insecure)
			}
			switch {
			case tt.errWant == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.errWant != "" && (err == nil || !strings.Contains(err.Error(), tt.errWant)):
				t.Errorf("error %v, want one with %q", err, tt.errWant)
			}
			if err == nil {
				if _, err := NewClient(c); err != nil && !strings.Contains(err.Error(), "key") {
					t.Errorf("NewClient: %v", err)
				}
			} else if _, nerr := NewClient(c); nerr == nil {
				t.Error("NewClient accepted a configuration ConfigFromEnv refused")
			}
		})
	}
	// Host-key checking cannot be both on and off.
	env := map[string]string{EnvInsecureIgnoreHostKey: "true", EnvKnownHosts: "/known_hosts"}
	for k, v := range base {
		env[k] = v
	}
	if _, err := ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err == nil || !strings.Contains(err.Error(), "set only one") {
		t.Errorf("insecure plus known_hosts: %v", err)
	}
}

func ptr(s string) *string { return &s }
