package sftp

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/roundfeed/roundfeed/source/sftp/sftptest"
)

const testHostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	c, err := ConfigFromEnv(env(map[string]string{
		"SSH_HOST": "game.example.org", "SSH_PORT": "2222", "SSH_USER": "et",
		"SSH_KEY_PATH": "/keys/id", "SSH_KEY_PASSPHRASE": "hunter2 ",
		"SSH_HOST_KEY": testHostKey, "REMOTE_STATS_DIR": "/home/et/.etlegacy/legacy/gamestats",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != "game.example.org" || c.Port != 2222 || c.User != "et" || c.KeyPath != "/keys/id" ||
		c.KeyPassphrase != "hunter2 " || c.HostKey != testHostKey || c.RemoteDir != "/home/et/.etlegacy/legacy/gamestats" {
		t.Fatalf("parsed %+v", c)
	}
	if c.KeepaliveInterval != DefaultConfig().KeepaliveInterval {
		t.Fatal("defaults lost")
	}
	for _, s := range []string{c.String(), fmt.Sprint(c), fmt.Sprintf("%+v", c)} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("passphrase printed: %s", s)
		}
	}
	var buf strings.Builder
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "sftp", c)
	if strings.Contains(buf.String(), "hunter2") || !strings.Contains(buf.String(), "key_passphrase_set=true") {
		t.Fatalf("logged config: %s", buf.String())
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	good := func() Config {
		c := DefaultConfig()
		c.Host, c.User, c.RemoteDir, c.KeyPath, c.HostKey = "h", "u", "/d", "/k", testHostKey
		return c
	}
	tests := []struct {
		name string
		mod  func(*Config)
		want []string // substrings of the error; nil = valid
	}{
		{"valid", func(*Config) {}, nil},
		{"known_hosts instead", func(c *Config) { c.HostKey, c.KnownHostsPath = "", "/kh" }, nil},
		{"insecure opt-in", func(c *Config) { c.HostKey, c.InsecureIgnoreHostKey = "", true }, nil},
		{"agent instead of key", func(c *Config) { c.KeyPath, c.AgentSocket = "", "/agent.sock" }, nil},
		{"missing host key config", func(c *Config) { c.HostKey = "" }, []string{"host key verification is mandatory", "SSH_KNOWN_HOSTS", "SSH_HOST_KEY"}},
		{"two host key configs", func(c *Config) { c.KnownHostsPath = "/kh" }, []string{"only one of"}},
		{"bad host key line", func(c *Config) { c.HostKey = "ssh-ed25519 notbase64" }, []string{"SSH_HOST_KEY"}},
		{"no auth", func(c *Config) { c.KeyPath = "" }, []string{"no authentication"}},
		{"everything missing at once", func(c *Config) { *c = Config{} }, []string{
			"SSH_HOST", "port 0", "SSH_USER", "REMOTE_STATS_DIR", "no authentication", "mandatory",
			"DialTimeout", "KeepaliveInterval", "MaxFileSize"}},
		{"bad port", func(c *Config) { c.Port = 70000 }, []string{"port 70000"}},
		{"backoff bounds", func(c *Config) { c.ReconnectMax = c.ReconnectMin / 2 }, []string{"ReconnectMax"}},
		{"negative lookback", func(c *Config) { c.Lookback = -1 }, []string{"Lookback"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.mod(&c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate passed")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestConfigFromEnvErrors(t *testing.T) {
	t.Parallel()
	_, err := ConfigFromEnv(env(map[string]string{
		"SSH_PORT": "twenty-two", "SSH_INSECURE_IGNORE_HOST_KEY": "maybe",
	}))
	for _, w := range []string{"SSH_PORT", "SSH_INSECURE_IGNORE_HOST_KEY", "SSH_HOST", "mandatory"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not mention %s", err, w)
		}
	}
	c, err := ConfigFromEnv(env(map[string]string{
		"SSH_HOST": "h", "SSH_USER": "u", "REMOTE_STATS_DIR": "/d", "SSH_AUTH_SOCK": "/a",
		"SSH_INSECURE_IGNORE_HOST_KEY": "true",
	}))
	if err != nil || !c.InsecureIgnoreHostKey || c.AgentSocket != "/a" || c.Port != 22 {
		t.Fatalf("insecure config: %+v %v", c, err)
	}
}

func TestKeyPassphrase(t *testing.T) {
	t.Parallel()
	const secret = "correct horse battery staple"
	path := filepath.Join(t.TempDir(), "id_ed25519")
	var want []byte
	// ssh-keygen -a 1 makes the key derivation cheap; Go's marshaller
	// always uses 16 bcrypt rounds, which take seconds under -race.
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-a", "1", "-N", secret, "-f", path).CombinedOutput(); err == nil {
		pub, err := os.ReadFile(path + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		want = k.Marshal()
	} else {
		t.Logf("ssh-keygen unavailable (%v: %s); using Go's slower marshaller", err, out)
		key, err := sftptest.NewEncryptedKey(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := key.WritePrivate(path); err != nil {
			t.Fatal(err)
		}
		want = key.Signer.PublicKey().Marshal()
	}
	tests := []struct {
		name, passphrase, want string
	}{
		{"right passphrase", secret, ""},
		{"missing passphrase", "", "is encrypted: set SSH_KEY_PASSPHRASE"},
		{"wrong passphrase", "not " + secret, "decryption password incorrect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // bcrypt key derivation is slow under -race
			s, err := loadKey(path, tt.passphrase)
			if tt.want == "" {
				if err != nil || string(s.PublicKey().Marshal()) != string(want) {
					t.Fatalf("loadKey: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "horse") {
				t.Fatalf("passphrase in error: %v", err)
			}
		})
	}
	if _, err := loadKey(filepath.Join(t.TempDir(), "absent"), ""); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing key file: %v", err)
	}
}
