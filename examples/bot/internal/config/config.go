// Package config reads the reference bot's configuration from a
// roundfeed.toml file describing one or more game servers (FromFile), or,
// without a file, from the environment and an optional .env file, which
// describe one server (FromEnv). The library packages' own variables
// (failover, schedule, webhook trigger, SFTP) are read by their own FromEnv
// functions; this package adds the bot's (Discord token, guild, channels,
// database, health address, time zone) and reports every problem at once.
//
// The Discord token is held as a Secret: it prints as "[redacted]" in logs,
// errors, %v and JSON, and is only readable through Reveal.
package config

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/source/sftp"
	"github.com/roundfeed/roundfeed/source/webhook"
)

// Environment variable names of the bot itself.
const (
	EnvToken      = "DISCORD_TOKEN"
	EnvGuild      = "DISCORD_GUILD_ID"
	EnvControl    = "CONTROL_CHANNEL_ID"
	EnvStats      = "STATS_CHANNEL_ID"
	EnvAdmin      = "ADMIN_CHANNEL_ID"
	EnvVoice      = "VOICE_CHANNEL_IDS"
	EnvDBPath     = "DB_PATH"
	EnvDBURL      = "DB_URL"
	EnvHealthAddr = "HEALTH_ADDR"
	EnvTimezone   = "TIMEZONE"
	EnvServer     = "SERVER_NAME"
)

// Defaults.
const (
	DefaultDBPath     = "roundfeed.db"
	DefaultHealthAddr = "127.0.0.1:8080"
	DefaultTimezone   = "Europe/Paris"
	DefaultServer     = "main"
)

// Secret is a string that never prints. Use Reveal where the value is needed.
type Secret string

// Reveal returns the value.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]" (or "" when empty).
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return `config.Secret("` + s.String() + `")` }

// MarshalText keeps encoders (JSON, slog's JSON handler) from printing it.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue keeps slog from printing it.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Config is the bot's configuration.
type Config struct {
	// Token is the bot token, with or without the "Bot " prefix.
	Token Secret
	// GuildID is the Discord server the bot works in.
	GuildID string
	// StatsChannelID gets round and award posts; AdminChannelID gets failover
	// transitions and alerts (empty: alerts are only logged).
	StatsChannelID, AdminChannelID string
	// VoiceChannelIDs are the channels whose members count as players.
	VoiceChannelIDs []string
	// Server names the game server on events and in the database.
	Server string
	// DBPath is the SQLite file (and, with DBURL, where the failover
	// snapshots are kept).
	DBPath string
	// DBURL, when set, is a postgres:// URL: the database is PostgreSQL
	// instead of the SQLite file. It holds a password, so it is a Secret.
	DBURL Secret
	// HealthAddr is where /health and /metrics listen; empty disables.
	HealthAddr string
	// Timezone is the game server's zone (file names are local time); the
	// poll schedule's dead hours use it too unless POLL_TIMEZONE is set.
	Timezone string
	Location *time.Location

	// Webhook is the trigger's configuration (CONTROL_CHANNEL_ID,
	// WEBHOOK_TRIGGER_WHITELIST, WEBHOOK_TRIGGER_USERNAME).
	Webhook webhook.Config
	// Failover and Schedule are the machine's and the poll schedule's.
	Failover failover.Config
	Schedule failover.ScheduleConfig
	// SSH is the SFTP side (SSH_* and REMOTE_STATS_DIR), read by
	// sftp.ConfigFromEnv.
	SSH sftp.Config

	// Servers are the game servers: the one the environment describes
	// (named Server, with the Webhook, Failover, Schedule and SSH above),
	// or those of the configuration file. The single-server fields above
	// then mirror the first one.
	Servers []ServerConfig

	// Problems of the parts that only some commands need, reported by
	// Validate when asked for.
	webhookErr, sshErr error
	// file is the configuration file's name ("" for the environment).
	file string
}

// DefaultConfig returns the defaults; Token, GuildID and the channels are unset.
func DefaultConfig() Config {
	loc, _ := time.LoadLocation(DefaultTimezone)
	return Config{
		Server: DefaultServer, DBPath: DefaultDBPath, HealthAddr: DefaultHealthAddr,
		Timezone: DefaultTimezone, Location: loc,
		Webhook: webhook.DefaultConfig(), Failover: failover.DefaultConfig(),
		Schedule: failover.DefaultScheduleConfig(), SSH: sftp.DefaultConfig(),
	}
}

// LogValue logs the configuration without secrets: the token and the SSH
// key passphrase are never included.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("token_set", c.Token != ""),
		slog.String("guild", c.GuildID),
		slog.String("control_channel", c.Webhook.ControlChannelID),
		slog.String("stats_channel", c.StatsChannelID),
		slog.String("admin_channel", c.AdminChannelID),
		slog.Any("voice_channels", c.VoiceChannelIDs),
		slog.Int("whitelisted_webhooks", len(c.Webhook.Whitelist)),
		slog.String("server", c.Server),
		slog.Any("servers", c.serverNames()),
		slog.String("config_file", c.file),
		slog.String("db", c.DBPath),
		slog.Bool("db_url_set", c.DBURL != ""),
		slog.String("health_addr", c.HealthAddr),
		slog.String("timezone", c.Timezone),
		slog.Bool("smart_failover", c.Failover.Enabled),
		slog.Any("ssh", c.SSH),
	)
}

func (c Config) serverNames() []string {
	out := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		out[i] = s.Name
	}
	return out
}

// String is the redacted form, so fmt never prints a secret.
func (c Config) String() string { return c.LogValue().String() }

// GoString is the redacted form for %#v.
func (c Config) GoString() string { return "config.Config" + c.String() }

// MarshalJSON encodes the redacted form.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// Need says which parts a subcommand needs; Validate checks only those.
type Need uint8

// Parts of the configuration.
const (
	NeedDiscord Need = 1 << iota // token, guild, channels
	NeedSSH                      // SSH host, user, key, known_hosts, folder
	NeedAll     = NeedDiscord | NeedSSH
)

// FromEnv reads every variable through lookup (os.LookupEnv, or Lookup over
// a .env file) and returns the configuration with every parse problem of the
// parts every command needs (failover, schedule, database, zone) joined.
// Problems of the Discord and SSH parts are kept for Validate, since only
// some commands need them.
// A parse problem names the variable; it never echoes a secret's value.
func FromEnv(lookup func(string) (string, bool)) (Config, error) {
	c := DefaultConfig()
	var errs []error
	get := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	if v, ok := lookup(EnvToken); ok {
		c.Token = Secret(strings.TrimSpace(v))
	}
	c.GuildID = get(EnvGuild)
	c.StatsChannelID = get(EnvStats)
	c.AdminChannelID = get(EnvAdmin)
	if v := get(EnvVoice); v != "" {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				c.VoiceChannelIDs = append(c.VoiceChannelIDs, id)
			}
		}
	}
	if v := get(EnvServer); v != "" {
		c.Server = v
	}
	if v := get(EnvDBPath); v != "" {
		c.DBPath = v
	}
	c.DBURL = Secret(get(EnvDBURL))
	if v, ok := lookup(EnvHealthAddr); ok {
		c.HealthAddr = strings.TrimSpace(v) // set but empty disables
	}
	if v := get(EnvTimezone); v != "" {
		c.Timezone = v
		loc, err := time.LoadLocation(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: unknown time zone %q", EnvTimezone, v))
		} else {
			c.Location = loc
		}
	}
	var err error
	c.Webhook, c.webhookErr = webhook.ConfigFromEnv(lookup)
	c.Webhook.Server = c.Server
	if c.Failover, err = failover.ConfigFromEnv(lookup); err != nil {
		errs = append(errs, err)
	}
	if c.Schedule, err = failover.ScheduleConfigFromEnv(lookup); err != nil {
		errs = append(errs, err)
	}
	// One zone for the server's clock and the dead hours unless
	// POLL_TIMEZONE says otherwise.
	if v, _ := lookup(failover.EnvZone); strings.TrimSpace(v) == "" {
		c.Schedule.Zone = c.Timezone
	}
	c.SSH, c.sshErr = sftp.ConfigFromEnv(lookup)
	c.Servers = []ServerConfig{{Name: c.Server, Timezone: c.Timezone, Location: c.Location, VoiceChannelIDs: c.VoiceChannelIDs,
		Webhook: c.Webhook, Failover: c.Failover, Schedule: c.Schedule, SSH: c.SSH}}
	return c, errors.Join(errs...)
}

// Validate reports every problem of the parts in need at once. A
// configuration read from a file names each problem by its key path.
func (c Config) Validate(need Need) error {
	if c.file != "" {
		return c.validateFile(need)
	}
	var errs []error
	if need&NeedDiscord != 0 {
		if c.Token == "" {
			errs = append(errs, fmt.Errorf("%s: required", EnvToken))
		} else if strings.ContainsAny(c.Token.Reveal(), " \t\r\n") && !strings.HasPrefix(c.Token.Reveal(), "Bot ") {
			errs = append(errs, fmt.Errorf("%s: contains whitespace", EnvToken))
		}
		snowflake := func(name, v string, required bool) {
			switch {
			case v == "" && required:
				errs = append(errs, fmt.Errorf("%s: required", name))
			case v != "" && !isSnowflake(v):
				errs = append(errs, fmt.Errorf("%s: %q is not a Discord ID (digits)", name, v))
			}
		}
		snowflake(EnvGuild, c.GuildID, true)
		snowflake(EnvControl, c.Webhook.ControlChannelID, true)
		snowflake(EnvStats, c.StatsChannelID, true)
		snowflake(EnvAdmin, c.AdminChannelID, false)
		for _, v := range c.VoiceChannelIDs {
			snowflake(EnvVoice, v, false)
		}
		for _, v := range c.Webhook.Whitelist {
			snowflake(webhook.EnvWhitelist, v, false)
		}
		if len(c.Webhook.Whitelist) == 0 {
			errs = append(errs, fmt.Errorf("%s: empty: every webhook trigger would be refused (set the notifier's webhook ID)", webhook.EnvWhitelist))
		}
		if c.webhookErr != nil {
			errs = append(errs, c.webhookErr)
		} else if err := c.Webhook.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if need&NeedSSH != 0 {
		if c.sshErr != nil {
			errs = append(errs, c.sshErr)
		} else if err := c.SSH.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.DBPath == "" {
		errs = append(errs, fmt.Errorf("%s: empty", EnvDBPath))
	}
	if err := checkDBURL(c.DBURL.Reveal()); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvDBURL, err))
	}
	if err := c.Failover.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Schedule.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Warnings are legal settings worth a log line at start-up.
func (c Config) Warnings() []string {
	var w []string
	if c.file != "" {
		for i, s := range c.Servers {
			p := fmt.Sprintf("servers[%d] (%s)", i, s.Name)
			if len(s.VoiceChannelIDs) == 0 {
				w = append(w, p+": no voice_channel_ids (here or in [discord]): players in voice count as 0, so the heartbeat failover and the active polling phase never trigger")
			}
			if !s.Failover.Enabled {
				w = append(w, p+": smart_failover_enabled = false: polling always on (rollback mode)")
			}
		}
		if c.AdminChannelID == "" {
			w = append(w, "discord.admin_channel_id empty: failover alerts are only logged")
		}
		if c.HealthAddr == "" {
			w = append(w, "health_addr empty: /health and /metrics disabled")
		}
		return w
	}
	if len(c.VoiceChannelIDs) == 0 {
		w = append(w, EnvVoice+" empty: players in voice count as 0, so the heartbeat failover and the active polling phase never trigger")
	}
	if c.AdminChannelID == "" {
		w = append(w, EnvAdmin+" empty: failover alerts are only logged")
	}
	if !c.Failover.Enabled {
		w = append(w, failover.EnvEnabled+"=false: polling always on (rollback mode)")
	}
	if c.HealthAddr == "" {
		w = append(w, EnvHealthAddr+" empty: /health and /metrics disabled")
	}
	return w
}

// checkDBURL accepts "" (SQLite) or a postgres:// URL; its error never
// quotes the URL, which holds a password.
func checkDBURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("scheme %q: want postgres:// (or leave it empty for SQLite)", u.Scheme)
	}
	return nil
}

func isSnowflake(s string) bool {
	if len(s) < 1 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ReadDotEnv parses a .env file: KEY=VALUE lines, optional "export ",
// comments (#) and blank lines, values optionally in single or double quotes.
// A malformed line is an error naming its number (never its content, which
// may be a secret).
func ReadDotEnv(r io.Reader, name string) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	n := 0
	var errs []error
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t\"'") {
			errs = append(errs, fmt.Errorf("config: %s line %d: not KEY=VALUE", name, n))
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		} else if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("config: read %s: %w", name, err))
	}
	return out, errors.Join(errs...)
}

// Lookup returns a lookup function over the process environment and, for
// variables it lacks, the .env file at path (missing file: environment only).
func Lookup(path string) (func(string) (string, bool), error) {
	env := map[string]string{}
	if path != "" {
		f, err := os.Open(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("config: %w", err)
		default:
			env, err = ReadDotEnv(f, path)
			f.Close()
			if err != nil {
				return nil, err
			}
		}
	}
	return func(k string) (string, bool) {
		if v, ok := os.LookupEnv(k); ok {
			return v, true
		}
		v, ok := env[k]
		return v, ok
	}, nil
}
