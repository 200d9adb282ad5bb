package notify

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/roundfeed/roundfeed/source/webhook/send"
)

// Clock is the notifier's time source, shared with the folder watcher and
// the sender (the same method set as theirs). Nil means the system clock.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives once, d after the call.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Config configures Run. Start from DefaultConfig.
type Config struct {
	// StatsDir is the folder the game server writes stats files to.
	StatsDir string
	// SpoolDir holds the pending notifications and the record of sent ones.
	SpoolDir string
	// Send configures the webhook: URL (a secret), username, retries.
	Send send.Config
	// Lookback: at start, files modified within it and not yet notified
	// are sent (48 h).
	Lookback time.Duration
	// Settle: a file is complete when unchanged for this long (2 s).
	Settle time.Duration
	// Rescan is the period of the watcher's anti-entropy scan (30 min; 0 off).
	Rescan time.Duration
	// MinSize: smaller files are reported in the log, not sent (100 bytes).
	MinSize int64
	// RetryMin and RetryMax bound the wait between failed sends of the head
	// of the queue (5 s doubling to 5 min). A rejected post (4xx) waits
	// RetryMax.
	RetryMin time.Duration
	RetryMax time.Duration
	// HeartbeatInterval posts ROUNDFEED_HEARTBEAT this often; 0 turns it off
	// (the default).
	HeartbeatInterval time.Duration
	// Players, when set, gates the heartbeat: it is sent only while
	// Players() > 0. Nil sends it always.
	Players func() int
	// Clock is the time source; nil is the system clock.
	Clock Clock
	// Logger receives one line per state change; nil discards. It never
	// receives the webhook URL.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults; StatsDir, SpoolDir and Send.URL must
// still be set.
func DefaultConfig() Config {
	return Config{
		SpoolDir: "/var/lib/roundfeed-notifier",
		Send:     send.DefaultConfig(""),
		Lookback: 48 * time.Hour,
		Settle:   2 * time.Second,
		Rescan:   30 * time.Minute,
		MinSize:  100,
		RetryMin: 5 * time.Second,
		RetryMax: 5 * time.Minute,
	}
}

// Validate reports every problem of c at once. No message quotes the URL.
func (c Config) Validate() error {
	var errs []error
	if c.StatsDir == "" {
		errs = append(errs, errors.New("notify: StatsDir (STATS_DIR) is empty"))
	}
	if c.SpoolDir == "" {
		errs = append(errs, errors.New("notify: SpoolDir (SPOOL_DIR) is empty"))
	}
	if err := c.Send.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Lookback <= 0 {
		errs = append(errs, fmt.Errorf("notify: Lookback (LOOKBACK) %v must be positive", c.Lookback))
	}
	if c.Settle <= 0 {
		errs = append(errs, fmt.Errorf("notify: Settle (SETTLE) %v must be positive", c.Settle))
	}
	if c.Rescan < 0 {
		errs = append(errs, fmt.Errorf("notify: Rescan %v must not be negative", c.Rescan))
	}
	if c.MinSize < 0 {
		errs = append(errs, fmt.Errorf("notify: MinSize %d must not be negative", c.MinSize))
	}
	if c.RetryMin <= 0 || c.RetryMax < c.RetryMin {
		errs = append(errs, fmt.Errorf("notify: retry must satisfy 0 < RetryMin (%v) <= RetryMax (%v)", c.RetryMin, c.RetryMax))
	}
	if c.HeartbeatInterval < 0 || (c.HeartbeatInterval > 0 && c.HeartbeatInterval < time.Minute) {
		errs = append(errs, fmt.Errorf("notify: HeartbeatInterval (HEARTBEAT_INTERVAL) %v must be 0 (off) or at least 1m", c.HeartbeatInterval))
	}
	return errors.Join(errs...)
}

// Environment variables read by ConfigFromEnv.
const (
	EnvStatsDir  = "STATS_DIR"
	EnvSpoolDir  = "SPOOL_DIR"
	EnvHeartbeat = "HEARTBEAT_INTERVAL"
	EnvLookback  = "LOOKBACK"
	EnvSettle    = "SETTLE"
)

// ConfigFromEnv returns DefaultConfig with these variables applied, and
// every problem found (parse errors and Validate) at once:
//
//	| variable            | default                     | meaning                                             |
//	|---------------------|-----------------------------|-----------------------------------------------------|
//	| STATS_DIR           | (none)                      | the folder the game server writes stats files to    |
//	| DISCORD_WEBHOOK_URL | (none)                      | the webhook to post to; a secret, never logged      |
//	| WEBHOOK_USERNAME    | ET:Legacy Stats             | the author name of the posts                        |
//	| SPOOL_DIR           | /var/lib/roundfeed-notifier | pending notifications and the record of sent ones   |
//	| LOOKBACK            | 48h                         | at start, send files this recent not yet notified   |
//	| SETTLE              | 2s                          | a file is complete when unchanged this long         |
//	| HEARTBEAT_INTERVAL  | 0 (off)                     | post ROUNDFEED_HEARTBEAT this often ("10m" or "10") |
//
// Durations are Go durations ("48h", "90s"); HEARTBEAT_INTERVAL also takes
// a bare number of minutes.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	c := DefaultConfig()
	var errs []error
	c.Send, _ = send.ConfigFromEnv(lookup) // its problems come back from c.Validate below
	if v, ok := lookup(EnvStatsDir); ok {
		c.StatsDir = strings.TrimSpace(v)
	}
	if v, ok := lookup(EnvSpoolDir); ok && strings.TrimSpace(v) != "" {
		c.SpoolDir = strings.TrimSpace(v)
	}
	dur := func(env string, dst *time.Duration, minutes bool) {
		v, ok := lookup(env)
		if !ok || strings.TrimSpace(v) == "" {
			return
		}
		v = strings.TrimSpace(v)
		if minutes {
			if n, err := strconv.Atoi(v); err == nil {
				*dst = time.Duration(n) * time.Minute
				return
			}
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("notify: %s %q is not a duration like 48h or 90s", env, v))
			return
		}
		*dst = d
	}
	dur(EnvLookback, &c.Lookback, false)
	dur(EnvSettle, &c.Settle, false)
	dur(EnvHeartbeat, &c.HeartbeatInterval, true)
	errs = append(errs, c.Validate())
	return c, errors.Join(errs...)
}
