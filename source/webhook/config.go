package webhook

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config configures a Trigger. Start from DefaultConfig.
type Config struct {
	// Server names the game server on the events ("main" by default).
	Server string
	// ControlChannelID is the channel the triggers are posted in. Required.
	ControlChannelID string
	// Whitelist holds the webhook IDs allowed to trigger. Empty refuses
	// everything (NewTrigger logs a warning saying so).
	Whitelist []string
	// Username, when not empty, must equal the message author's name (the
	// name the webhook posts under).
	Username string
	// BotUserID is the bot's own user ID; its messages are ignored.
	BotUserID string

	// FileRate file-name triggers are accepted per FileRateWindow and
	// webhook ID (5 per 60 s).
	FileRate       int
	FileRateWindow time.Duration
	// ReadyRate STATS_READY triggers are accepted per ReadyRateWindow and
	// webhook ID (4 per 30 s).
	ReadyRate       int
	ReadyRateWindow time.Duration

	// SeenTTL is how long message IDs and STATS_READY payloads are
	// remembered to drop resends and replays (10 min, the protocol's minimum).
	SeenTTL time.Duration
	// MaxSeen bounds that memory (10000 entries). When full, the oldest entry
	// is forgotten early and counted as "seen_evicted".
	MaxSeen int

	// ResolveAttempts is how many listings Resolve makes while no candidate
	// exists (4), ResolveInterval the wait between them (5 s).
	ResolveAttempts int
	ResolveInterval time.Duration
	// ResolveWindow is how far a file's time may be from Lua_RoundEnd (2 min).
	ResolveWindow time.Duration
	// MinPlaytime: a STATS_READY round that lasted less is a ghost (30 s).
	MinPlaytime time.Duration

	// CatchUpMaxMessages bounds how many history messages one CatchUp reads
	// (1000). Older gaps are left to polling.
	CatchUpMaxMessages int
}

// DefaultConfig returns the protocol's defaults. ControlChannelID and
// Whitelist must still be set.
func DefaultConfig() Config {
	return Config{
		Server:             "main",
		FileRate:           5,
		FileRateWindow:     60 * time.Second,
		ReadyRate:          4,
		ReadyRateWindow:    30 * time.Second,
		SeenTTL:            10 * time.Minute,
		MaxSeen:            10000,
		ResolveAttempts:    4,
		ResolveInterval:    5 * time.Second,
		ResolveWindow:      2 * time.Minute,
		MinPlaytime:        30 * time.Second,
		CatchUpMaxMessages: 1000,
	}
}

// Validate reports every problem of c at once. An empty whitelist is not an
// error: it is a safe configuration that refuses every trigger.
func (c Config) Validate() error {
	var errs []error
	if c.Server == "" {
		errs = append(errs, errors.New("webhook: Server is empty"))
	}
	if c.ControlChannelID == "" {
		errs = append(errs, errors.New("webhook: ControlChannelID (CONTROL_CHANNEL_ID) is empty"))
	} else if !isSnowflake(c.ControlChannelID) {
		errs = append(errs, errors.New("webhook: ControlChannelID (CONTROL_CHANNEL_ID) is not a Discord ID (digits only)"))
	}
	for i, id := range c.Whitelist {
		if !isSnowflake(id) {
			// The value is not echoed: people paste whole webhook URLs here.
			errs = append(errs, fmt.Errorf("webhook: Whitelist entry %d (WEBHOOK_TRIGGER_WHITELIST) is not a webhook ID (digits only)", i+1))
		}
	}
	if c.BotUserID != "" && !isSnowflake(c.BotUserID) {
		errs = append(errs, errors.New("webhook: BotUserID is not a Discord ID (digits only)"))
	}
	if c.FileRate < 1 {
		errs = append(errs, fmt.Errorf("webhook: FileRate %d must be at least 1", c.FileRate))
	}
	if c.FileRateWindow <= 0 {
		errs = append(errs, fmt.Errorf("webhook: FileRateWindow %v must be positive", c.FileRateWindow))
	}
	if c.ReadyRate < 1 {
		errs = append(errs, fmt.Errorf("webhook: ReadyRate %d must be at least 1", c.ReadyRate))
	}
	if c.ReadyRateWindow <= 0 {
		errs = append(errs, fmt.Errorf("webhook: ReadyRateWindow %v must be positive", c.ReadyRateWindow))
	}
	if c.SeenTTL < 10*time.Minute {
		errs = append(errs, fmt.Errorf("webhook: SeenTTL %v must be at least 10m (the protocol's minimum)", c.SeenTTL))
	}
	if c.MaxSeen < 100 {
		errs = append(errs, fmt.Errorf("webhook: MaxSeen %d must be at least 100", c.MaxSeen))
	}
	if c.ResolveAttempts < 1 {
		errs = append(errs, fmt.Errorf("webhook: ResolveAttempts %d must be at least 1", c.ResolveAttempts))
	}
	if c.ResolveInterval < 0 {
		errs = append(errs, fmt.Errorf("webhook: ResolveInterval %v must not be negative", c.ResolveInterval))
	}
	if c.ResolveWindow <= 0 {
		errs = append(errs, fmt.Errorf("webhook: ResolveWindow %v must be positive", c.ResolveWindow))
	}
	if c.MinPlaytime < 0 {
		errs = append(errs, fmt.Errorf("webhook: MinPlaytime %v must not be negative", c.MinPlaytime))
	}
	if c.CatchUpMaxMessages < 1 {
		errs = append(errs, fmt.Errorf("webhook: CatchUpMaxMessages %d must be at least 1", c.CatchUpMaxMessages))
	}
	return errors.Join(errs...)
}

// Environment variable names read by ConfigFromEnv.
const (
	EnvControlChannel = "CONTROL_CHANNEL_ID"
	EnvWhitelist      = "WEBHOOK_TRIGGER_WHITELIST"
	EnvUsername       = "WEBHOOK_TRIGGER_USERNAME"
)

// ConfigFromEnv returns DefaultConfig with the variables of the package
// documentation applied, and the result of Validate. lookup is os.LookupEnv
// or a map's lookup in tests.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	c := DefaultConfig()
	if v, ok := lookup(EnvControlChannel); ok {
		c.ControlChannelID = strings.TrimSpace(v)
	}
	if v, ok := lookup(EnvWhitelist); ok {
		c.Whitelist = splitList(v)
	}
	if v, ok := lookup(EnvUsername); ok {
		c.Username = v
	}
	return c, c.Validate()
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// isSnowflake reports whether s looks like a Discord ID: 1 to 20 ASCII digits.
func isSnowflake(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// compareIDs orders two snowflakes numerically (shorter is smaller, then
// byte order); it works on any digit strings without parsing.
func compareIDs(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}
