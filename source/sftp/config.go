package sftp

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/roundfeed/roundfeed/source"
)

// Clock is the time source of a Client. Tests pass a virtual clock; nil means
// the system clock. Socket deadlines (dial, handshake) use the system clock:
// they bound real I/O, not logic.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives once, d after the call.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Config configures a Client. Environment names are in the package doc.
type Config struct {
	// Host and Port of the SSH server (SSH_HOST, SSH_PORT).
	Host string
	Port int
	// User is the login name (SSH_USER).
	User string

	// KeyPath is a private key file (SSH_KEY_PATH), optionally encrypted
	// with KeyPassphrase (SSH_KEY_PASSPHRASE). The passphrase never appears
	// in logs or errors.
	KeyPath       string
	KeyPassphrase string
	// Signer authenticates instead of KeyPath, for callers that hold a key in
	// memory (the demo mode, tests).
	Signer ssh.Signer
	// AgentSocket is an ssh-agent socket (SSH_AUTH_SOCK), used when neither
	// Signer nor KeyPath is set.
	AgentSocket string

	// Host-key verification is mandatory: exactly one of KnownHostsPath
	// (SSH_KNOWN_HOSTS, a known_hosts file), HostKey (SSH_HOST_KEY, one
	// public key line such as "ssh-ed25519 AAAA...") or
	// InsecureIgnoreHostKey (SSH_INSECURE_IGNORE_HOST_KEY=true, logged as a
	// warning at every connect) must be set.
	KnownHostsPath        string
	HostKey               string
	InsecureIgnoreHostKey bool

	// RemoteDir is the stats folder on the server (REMOTE_STATS_DIR).
	RemoteDir string

	// DialTimeout bounds TCP connect plus SSH handshake plus SFTP init.
	// Default 10 s.
	DialTimeout time.Duration
	// KeepaliveInterval is the period of keepalive@openssh.com requests on
	// an open connection; KeepaliveTimeout is how long a reply may take
	// before the connection is declared dead. Defaults 30 s and 15 s.
	KeepaliveInterval time.Duration
	KeepaliveTimeout  time.Duration
	// ReconnectMin and ReconnectMax bound the exponential backoff between
	// failed connects. Defaults 1 s and 2 min.
	ReconnectMin time.Duration
	ReconnectMax time.Duration

	// Lookback limits List to files modified within this window. 0 means no
	// limit (backfill). Default 7 days.
	Lookback time.Duration
	// MaxFileSize is the size above which Fetch refuses a file unread.
	// Default source.DefaultMaxFileSize.
	MaxFileSize int64
	// SettleAge: a file whose mtime is at least this old is complete.
	// SettleGap: else it is complete once two stats at least this far apart
	// saw the same size and mtime. Defaults 2 s and 1 s.
	SettleAge time.Duration
	SettleGap time.Duration

	// Clock is the time source; nil means the system clock.
	Clock Clock
	// Jitter returns a number in [0, 1) that spreads reconnect delays; nil
	// means math/rand/v2.
	Jitter func() float64
	// Logger receives one line per state change; nil discards.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults; Host, User, RemoteDir, the key and the
// host key are left for the caller.
func DefaultConfig() Config {
	return Config{
		Port:              22,
		DialTimeout:       10 * time.Second,
		KeepaliveInterval: 30 * time.Second,
		KeepaliveTimeout:  15 * time.Second,
		ReconnectMin:      time.Second,
		ReconnectMax:      2 * time.Minute,
		Lookback:          7 * 24 * time.Hour,
		MaxFileSize:       source.DefaultMaxFileSize,
		SettleAge:         2 * time.Second,
		SettleGap:         time.Second,
	}
}

// Environment variable names read by ConfigFromEnv.
const (
	EnvHost                  = "SSH_HOST"
	EnvPort                  = "SSH_PORT"
	EnvUser                  = "SSH_USER"
	EnvKeyPath               = "SSH_KEY_PATH"
	EnvKeyPassphrase         = "SSH_KEY_PASSPHRASE"
	EnvAgentSocket           = "SSH_AUTH_SOCK"
	EnvKnownHosts            = "SSH_KNOWN_HOSTS"
	EnvHostKey               = "SSH_HOST_KEY"
	EnvInsecureIgnoreHostKey = "SSH_INSECURE_IGNORE_HOST_KEY"
	EnvRemoteDir             = "REMOTE_STATS_DIR"
)

// ConfigFromEnv reads the environment through lookup (os.LookupEnv in
// production) over DefaultConfig and returns the config with every parse
// and Validate problem joined.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	c := DefaultConfig()
	var errs []error
	str := func(name string, dst *string) {
		if v, ok := lookup(name); ok {
			*dst = strings.TrimSpace(v)
		}
	}
	str(EnvHost, &c.Host)
	str(EnvUser, &c.User)
	str(EnvKeyPath, &c.KeyPath)
	str(EnvAgentSocket, &c.AgentSocket)
	str(EnvKnownHosts, &c.KnownHostsPath)
	str(EnvHostKey, &c.HostKey)
	str(EnvRemoteDir, &c.RemoteDir)
	if v, ok := lookup(EnvKeyPassphrase); ok {
		c.KeyPassphrase = v // not trimmed: a passphrase may end in a space
	}
	if v, ok := lookup(EnvPort); ok && strings.TrimSpace(v) != "" {
		p, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("sftp: %s %q is not a number", EnvPort, v))
		} else {
			c.Port = p
		}
	}
	if v, ok := lookup(EnvInsecureIgnoreHostKey); ok && strings.TrimSpace(v) != "" {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("sftp: %s %q is not true or false", EnvInsecureIgnoreHostKey, v))
		} else {
			c.InsecureIgnoreHostKey = b
		}
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// Validate reports every problem of c at once. It reads no file: NewClient
// loads the key and known_hosts.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("sftp: "+format, args...)) }
	if c.Host == "" {
		add("host is empty (%s)", EnvHost)
	}
	if c.Port < 1 || c.Port > 65535 {
		add("port %d is not 1 to 65535 (%s)", c.Port, EnvPort)
	}
	if c.User == "" {
		add("user is empty (%s)", EnvUser)
	}
	if c.RemoteDir == "" {
		add("remote stats folder is empty (%s)", EnvRemoteDir)
	}
	if c.Signer == nil && c.KeyPath == "" && c.AgentSocket == "" {
		add("no authentication: set %s (and %s if the key is encrypted) or %s", EnvKeyPath, EnvKeyPassphrase, EnvAgentSocket)
	}
	n := 0
	for _, set := range []bool{c.KnownHostsPath != "", c.HostKey != "", c.InsecureIgnoreHostKey} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		add("host key verification is mandatory: set %s or %s (%s=true skips it, insecurely)", EnvKnownHosts, EnvHostKey, EnvInsecureIgnoreHostKey)
	case n > 1:
		add("set only one of %s, %s and %s", EnvKnownHosts, EnvHostKey, EnvInsecureIgnoreHostKey)
	}
	if c.HostKey != "" {
		if _, err := parseHostKey(c.HostKey); err != nil {
			add("%s: %v", EnvHostKey, err)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"DialTimeout", c.DialTimeout}, {"KeepaliveInterval", c.KeepaliveInterval},
		{"KeepaliveTimeout", c.KeepaliveTimeout}, {"ReconnectMin", c.ReconnectMin},
		{"ReconnectMax", c.ReconnectMax}, {"SettleAge", c.SettleAge}, {"SettleGap", c.SettleGap},
	} {
		if d.v <= 0 {
			add("%s %v must be positive", d.name, d.v)
		}
	}
	if c.ReconnectMax < c.ReconnectMin {
		add("ReconnectMax %v is below ReconnectMin %v", c.ReconnectMax, c.ReconnectMin)
	}
	if c.Lookback < 0 {
		add("Lookback %v must not be negative", c.Lookback)
	}
	if c.MaxFileSize <= 0 {
		add("MaxFileSize %d must be positive", c.MaxFileSize)
	}
	return errors.Join(errs...)
}

// LogValue makes a Config safe to log: the passphrase is replaced by whether
// it is set.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host),
		slog.Int("port", c.Port),
		slog.String("user", c.User),
		slog.String("key_path", c.KeyPath),
		slog.Bool("key_passphrase_set", c.KeyPassphrase != ""),
		slog.Bool("agent", c.AgentSocket != ""),
		slog.String("known_hosts", c.KnownHostsPath),
		slog.Bool("host_key_set", c.HostKey != ""),
		slog.Bool("insecure_ignore_host_key", c.InsecureIgnoreHostKey),
		slog.String("remote_dir", c.RemoteDir),
	)
}

// String is LogValue as text, so %v of a Config hides the passphrase too.
func (c Config) String() string { return c.LogValue().String() }

// GoString is the redacted form for %#v, which would otherwise print every
// field, the passphrase included.
func (c Config) GoString() string { return "sftp.Config" + c.String() }
