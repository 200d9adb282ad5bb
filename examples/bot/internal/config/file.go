package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/source/sftp"
	"github.com/roundfeed/roundfeed/source/webhook"
)

// Configuration file: roundfeed.toml (see roundfeed.example.toml beside the
// bot). Its path comes from the -config flag, else ROUNDFEED_CONFIG, else
// ./roundfeed.toml when that file exists; without a file the environment
// describes one server, as it always did.
const (
	EnvConfigFile     = "ROUNDFEED_CONFIG"
	DefaultConfigFile = "roundfeed.toml"
)

// ServerConfig is one game server of the configuration.
type ServerConfig struct {
	// Name names the server on events, in the database, in metrics and in
	// /failover-status.
	Name string
	// Timezone is the server's zone (file names are local time).
	Timezone string
	Location *time.Location
	// VoiceChannelIDs are the voice channels whose members count as this
	// server's players.
	VoiceChannelIDs []string
	// Webhook is the server's trigger (control channel, whitelisted
	// webhook IDs, username); Webhook.Server is Name.
	Webhook webhook.Config
	// Failover and Schedule are the server's machine and poll schedule.
	Failover failover.Config
	Schedule failover.ScheduleConfig
	// SSH reaches the server's stats folder.
	SSH sftp.Config
}

// The file's shape. Durations and numbers of the failover and schedule
// tables are the environment variables' own values, so those two tables
// are maps checked against the names the library reads.
type fileConfig struct {
	DBPath     *string       `toml:"db_path"`
	DBURL      string        `toml:"db_url"`
	HealthAddr *string       `toml:"health_addr"`
	Timezone   string        `toml:"timezone"`
	Discord    fileDiscord   `toml:"discord"`
	Servers    []fileServer  `toml:"servers"`
	Defaults   *fileDefaults `toml:"defaults"`
}

type fileDiscord struct {
	Token            string   `toml:"token"`
	GuildID          string   `toml:"guild_id"`
	ControlChannelID string   `toml:"control_channel_id"`
	StatsChannelID   string   `toml:"stats_channel_id"`
	AdminChannelID   string   `toml:"admin_channel_id"`
	VoiceChannelIDs  []string `toml:"voice_channel_ids"`
}

// fileDefaults holds failover and schedule settings every server starts
// from.
type fileDefaults struct {
	Failover map[string]any `toml:"failover"`
	Schedule map[string]any `toml:"schedule"`
}

type fileServer struct {
	Name            string         `toml:"name"`
	Timezone        string         `toml:"timezone"`
	VoiceChannelIDs []string       `toml:"voice_channel_ids"`
	Webhook         fileWebhook    `toml:"webhook"`
	SSH             fileSSH        `toml:"ssh"`
	Failover        map[string]any `toml:"failover"`
	Schedule        map[string]any `toml:"schedule"`
}

type fileWebhook struct {
	ControlChannelID string   `toml:"control_channel_id"`
	Whitelist        []string `toml:"whitelist"`
	Username         *string  `toml:"username"`
}

type fileSSH struct {
	Host                  string `toml:"host"`
	Port                  *int   `toml:"port"`
	User                  string `toml:"user"`
	KeyPath               string `toml:"key_path"`
	KeyPassphrase         string `toml:"key_passphrase"`
	KeyPassphraseEnv      string `toml:"key_passphrase_env"`
	AuthSock              string `toml:"auth_sock"`
	KnownHosts            string `toml:"known_hosts"`
	HostKey               string `toml:"host_key"`
	InsecureIgnoreHostKey bool   `toml:"insecure_ignore_host_key"`
	StatsDir              string `toml:"stats_dir"`
}

// failoverKeys and scheduleKeys are the keys of the [servers.failover] and
// [servers.schedule] tables: the environment variables' names in lower
// case.
var (
	failoverKeys = lowerAll(failover.EnvEnabled, failover.EnvSuccessThreshold, failover.EnvFailureThreshold,
		failover.EnvStatsSuccessThreshold, failover.EnvStatsFailureThreshold, failover.EnvEndstatsSuccessThreshold,
		failover.EnvEndstatsFailureThreshold, failover.EnvHeartbeatTimeout, failover.EnvHeartbeatMinPlayers,
		failover.EnvHeartbeatQuietOK, failover.EnvProlongedPolling, failover.EnvLadder)
	scheduleKeys = lowerAll(failover.EnvZone, failover.EnvDeadHours, failover.EnvActivePlayers, failover.EnvActiveInterval,
		failover.EnvGrace, failover.EnvGraceInterval, failover.EnvIdleInterval, failover.EnvProbeInterval,
		failover.EnvAntiEntropyInterval)
)

func lowerAll(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(n)
	}
	// Longest first: POLL_GRACE is a prefix of POLL_GRACE_INTERVAL, and
	// rewriting error text must replace the longer name first.
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// ErrFile is wrapped by FromFile's and LoadFile's error when the file could
// not be read or parsed at all (syntax or type error): nothing else of the
// configuration is then worth checking.
var ErrFile = errors.New("config file unreadable")

// ConfigPath returns the configuration file to read: flag when set, else
// ROUNDFEED_CONFIG (through lookup), else ./roundfeed.toml when it exists,
// else "" (no file: the environment describes one server). A file named by
// the flag or the variable must exist; LoadFile reports it when not.
func ConfigPath(flag string, lookup func(string) (string, bool)) string {
	if flag != "" {
		return flag
	}
	if v, ok := lookup(EnvConfigFile); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	if _, err := os.Stat(DefaultConfigFile); err == nil {
		return DefaultConfigFile
	}
	return ""
}

// LoadFile reads the configuration file at path; see FromFile.
func LoadFile(path string, lookup func(string) (string, bool)) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		c := DefaultConfig()
		c.file = path
		return c, fmt.Errorf("%w: %w", ErrFile, err)
	}
	return FromFile(path, b, lookup)
}

// FromFile parses a roundfeed.toml held in data (name is used in messages)
// and returns the configuration with every problem of the file joined: a
// syntax or type error with its line and column, an unknown key and a bad
// value with its key path ("servers[1].ssh.host: required"). Validate adds
// the problems of the parts a command needs, also by key path.
//
// lookup supplies what is better kept out of a file: DISCORD_TOKEN (it
// wins over discord.token), DB_URL (it wins over db_url) and the variables named by
// servers[].ssh.key_passphrase_env. A message never holds a secret.
func FromFile(name string, data []byte, lookup func(string) (string, bool)) (Config, error) {
	c := DefaultConfig()
	c.file = name
	var f fileConfig
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			msg := oneLine(pe.Message)
			if secretLine(data, pe.Position.Line) {
				// The parser quotes the bad value ("expected value but
				// found \"hunter2\"" for an unquoted passphrase).
				msg = "invalid value, not shown: this line holds a secret (quote it: key = \"...\")"
			}
			return c, fileError{fmt.Sprintf("%s:%d:%d: %s", name, pe.Position.Line, pe.Position.Col, msg)}
		}
		// Type mismatches carry the line and the key in their text.
		return c, fileError{fmt.Sprintf("%s: %s", name, oneLine(strings.TrimPrefix(err.Error(), "toml: ")))}
	}
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", name, path, fmt.Sprintf(format, args...)))
	}
	// Unknown keys, with the index of their server.
	undecoded := map[string]bool{}
	for _, k := range md.Undecoded() {
		undecoded[k.String()] = true
	}
	idx := -1
	for _, k := range md.Keys() {
		if len(k) == 1 && k[0] == "servers" {
			idx++
		}
		if !undecoded[k.String()] {
			continue
		}
		if len(k) >= 2 && (k[0] == "servers" || k[0] == "defaults") && (k[len(k)-2] == "failover" || k[len(k)-2] == "schedule") {
			continue // the maps' keys are checked below
		}
		if len(k) >= 3 && (k[0] == "servers" || k[0] == "defaults") && (k[1] == "failover" || k[1] == "schedule") {
			continue
		}
		path := k.String()
		if k[0] == "servers" && idx >= 0 {
			path = fmt.Sprintf("servers[%d]%s", idx, strings.TrimPrefix(path, "servers"))
		}
		add(path, "unknown key")
	}

	// Shared settings.
	if f.DBPath != nil {
		c.DBPath = strings.TrimSpace(*f.DBPath)
		if c.DBPath == "" {
			add("db_path", "empty")
		}
	}
	c.DBURL = Secret(strings.TrimSpace(f.DBURL))
	if v, ok := lookup(EnvDBURL); ok && strings.TrimSpace(v) != "" {
		c.DBURL = Secret(strings.TrimSpace(v))
	}
	if f.HealthAddr != nil {
		c.HealthAddr = strings.TrimSpace(*f.HealthAddr) // empty disables
	}
	if f.Timezone != "" {
		if loc, err := time.LoadLocation(f.Timezone); err != nil {
			add("timezone", "unknown time zone %q", f.Timezone)
		} else {
			c.Timezone, c.Location = f.Timezone, loc
		}
	}
	c.Token = Secret(strings.TrimSpace(f.Discord.Token))
	if v, ok := lookup(EnvToken); ok && strings.TrimSpace(v) != "" {
		c.Token = Secret(strings.TrimSpace(v))
	}
	c.GuildID = f.Discord.GuildID
	c.StatsChannelID = f.Discord.StatsChannelID
	c.AdminChannelID = f.Discord.AdminChannelID
	c.VoiceChannelIDs = f.Discord.VoiceChannelIDs
	c.Webhook.ControlChannelID = f.Discord.ControlChannelID

	var defFailover, defSchedule map[string]any
	if f.Defaults != nil {
		defFailover, defSchedule = f.Defaults.Failover, f.Defaults.Schedule
		checkKeys(add, "defaults.failover", defFailover, failoverKeys)
		checkKeys(add, "defaults.schedule", defSchedule, scheduleKeys)
	}

	if len(f.Servers) == 0 {
		add("servers", "at least one [[servers]] table is required")
	}
	names := map[string]int{}
	hooks := map[string]int{}
	for i, fs := range f.Servers {
		p := fmt.Sprintf("servers[%d]", i)
		s := ServerConfig{Name: strings.TrimSpace(fs.Name), Timezone: c.Timezone, Location: c.Location,
			VoiceChannelIDs: c.VoiceChannelIDs}
		switch {
		case s.Name == "":
			add(p+".name", "required")
		case !validName(s.Name):
			add(p+".name", "%q: use letters, digits, '-' and '_' (at most 32)", s.Name)
		default:
			if j, dup := names[s.Name]; dup {
				add(p+".name", "%q already used by servers[%d]", s.Name, j)
			}
			names[s.Name] = i
		}
		if fs.Timezone != "" {
			if loc, err := time.LoadLocation(fs.Timezone); err != nil {
				add(p+".timezone", "unknown time zone %q", fs.Timezone)
			} else {
				s.Timezone, s.Location = fs.Timezone, loc
			}
		}
		if fs.VoiceChannelIDs != nil {
			s.VoiceChannelIDs = fs.VoiceChannelIDs
		}

		// Webhook trigger.
		s.Webhook = webhook.DefaultConfig()
		s.Webhook.Server = s.Name
		s.Webhook.ControlChannelID = c.Webhook.ControlChannelID
		if fs.Webhook.ControlChannelID != "" {
			s.Webhook.ControlChannelID = fs.Webhook.ControlChannelID
		}
		s.Webhook.Whitelist = fs.Webhook.Whitelist
		if fs.Webhook.Username != nil {
			s.Webhook.Username = *fs.Webhook.Username
		}
		for j, id := range fs.Webhook.Whitelist {
			if k, dup := hooks[id]; dup && k != i {
				add(fmt.Sprintf("%s.webhook.whitelist[%d]", p, j), "webhook ID %s already whitelisted by servers[%d]: a webhook triggers one server", id, k)
			}
			hooks[id] = i
		}

		// SSH.
		s.SSH = sftp.DefaultConfig()
		s.SSH.Host, s.SSH.User, s.SSH.KeyPath = fs.SSH.Host, fs.SSH.User, fs.SSH.KeyPath
		s.SSH.AgentSocket, s.SSH.KnownHostsPath, s.SSH.HostKey = fs.SSH.AuthSock, fs.SSH.KnownHosts, fs.SSH.HostKey
		s.SSH.InsecureIgnoreHostKey, s.SSH.RemoteDir = fs.SSH.InsecureIgnoreHostKey, fs.SSH.StatsDir
		if fs.SSH.Port != nil {
			s.SSH.Port = *fs.SSH.Port
		}
		s.SSH.KeyPassphrase = fs.SSH.KeyPassphrase
		if fs.SSH.KeyPassphraseEnv != "" {
			if fs.SSH.KeyPassphrase != "" {
				add(p+".ssh.key_passphrase_env", "set only one of key_passphrase and key_passphrase_env")
			}
			v, ok := lookup(fs.SSH.KeyPassphraseEnv)
			if !ok {
				add(p+".ssh.key_passphrase_env", "environment variable %s is not set", fs.SSH.KeyPassphraseEnv)
			}
			s.SSH.KeyPassphrase = v
		}

		// Failover machine and schedule: the defaults table, then the server's.
		fo := mergeMaps(defFailover, fs.Failover)
		sc := mergeMaps(defSchedule, fs.Schedule)
		checkKeys(add, p+".failover", fs.Failover, failoverKeys)
		checkKeys(add, p+".schedule", fs.Schedule, scheduleKeys)
		var ferr, serr error
		s.Failover, ferr = failover.ConfigFromEnv(lookupMap(fo))
		s.Schedule, serr = failover.ScheduleConfigFromEnv(lookupMap(sc))
		if _, set := sc[strings.ToLower(failover.EnvZone)]; !set {
			s.Schedule.Zone = s.Timezone
		}
		for _, e := range splitErrors(ferr) {
			errs = append(errs, fmt.Errorf("%s: %s", name, keyPath(p+".failover", e, failoverKeys)))
		}
		for _, e := range splitErrors(serr) {
			errs = append(errs, fmt.Errorf("%s: %s", name, keyPath(p+".schedule", e, scheduleKeys)))
		}
		c.Servers = append(c.Servers, s)
	}
	if len(c.Servers) > 0 {
		// The single-server fields mirror the first server, for the parts
		// of the bot that name one.
		first := c.Servers[0]
		c.Server, c.Webhook, c.Failover, c.Schedule, c.SSH = first.Name, first.Webhook, first.Failover, first.Schedule, first.SSH
	}
	return c, errors.Join(errs...)
}

// secretLine reports whether line n (1-based) of data mentions a key whose
// value is a secret (token, key_passphrase, db_url); an unknown line counts
// as one.
func secretLine(data []byte, n int) bool {
	lines := bytes.Split(data, []byte("\n"))
	if n < 1 || n > len(lines) {
		return true
	}
	for _, k := range []string{"token", "key_passphrase", "db_url"} {
		if bytes.Contains(lines[n-1], []byte(k)) {
			return true
		}
	}
	return false
}

// oneLine keeps a message on one line: the parser may quote a newline of
// the file.
func oneLine(s string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}

// fileError is a syntax or type error of the file; it is ErrFile.
type fileError struct{ msg string }

// Error returns the message with the file's name and line.
func (e fileError) Error() string { return e.msg }

// Is makes errors.Is(err, ErrFile) true.
func (e fileError) Is(target error) bool { return target == ErrFile }

// FromFile reports whether the configuration came from a file, and its name.
func (c Config) FromFile() (string, bool) { return c.file, c.file != "" }

// validateFile is Validate for a configuration read from a file: the same
// checks, each problem named by its key path.
func (c Config) validateFile(need Need) error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", c.file, path, fmt.Sprintf(format, args...)))
	}
	snowflake := func(path, v string, required bool) {
		switch {
		case v == "" && required:
			add(path, "required")
		case v != "" && !isSnowflake(v):
			add(path, "%q is not a Discord ID (digits)", v)
		}
	}
	if need&NeedDiscord != 0 {
		if c.Token == "" {
			add("discord.token", "required (or set %s in the environment)", EnvToken)
		} else if strings.ContainsAny(c.Token.Reveal(), " \t\r\n") && !strings.HasPrefix(c.Token.Reveal(), "Bot ") {
			add("discord.token", "contains whitespace")
		}
		snowflake("discord.guild_id", c.GuildID, true)
		snowflake("discord.stats_channel_id", c.StatsChannelID, true)
		snowflake("discord.admin_channel_id", c.AdminChannelID, false)
		for i, v := range c.VoiceChannelIDs {
			snowflake(fmt.Sprintf("discord.voice_channel_ids[%d]", i), v, false)
		}
	}
	for i, s := range c.Servers {
		p := fmt.Sprintf("servers[%d]", i)
		before := len(errs)
		if need&NeedDiscord != 0 {
			snowflake(p+".webhook.control_channel_id", s.Webhook.ControlChannelID, true)
			if len(s.Webhook.Whitelist) == 0 {
				add(p+".webhook.whitelist", "required: the notifier's webhook ID (every trigger would be refused)")
			}
			for j, id := range s.Webhook.Whitelist {
				snowflake(fmt.Sprintf("%s.webhook.whitelist[%d]", p, j), id, true)
			}
			for j, v := range s.VoiceChannelIDs {
				snowflake(fmt.Sprintf("%s.voice_channel_ids[%d]", p, j), v, false)
			}
			// The library's own checks, as a safety net behind ours.
			if len(errs) == before && s.Name != "" { // FromFile reported a missing name
				if err := s.Webhook.Validate(); err != nil {
					for _, e := range splitErrors(err) {
						add(p+".webhook", "%s", e)
					}
				}
			}
		}
		if need&NeedSSH != 0 {
			errs = append(errs, c.validateSSH(p+".ssh", s.SSH)...)
		}
		if err := s.Failover.Validate(); err != nil {
			for _, e := range splitErrors(err) {
				add(p+".failover", "%s", e)
			}
		}
		if err := s.Schedule.Validate(); err != nil {
			for _, e := range splitErrors(err) {
				add(p+".schedule", "%s", e)
			}
		}
	}
	if c.DBPath == "" {
		add("db_path", "empty")
	}
	if err := checkDBURL(c.DBURL.Reveal()); err != nil {
		add("db_url", "%v", err)
	}
	return errors.Join(errs...)
}

// validateSSH checks one server's SSH table; problems the library finds
// beyond these (none today) are reported under the table's path.
func (c Config) validateSSH(p string, s sftp.Config) []error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", c.file, path, fmt.Sprintf(format, args...)))
	}
	if s.Host == "" {
		add(p+".host", "required")
	}
	if s.Port < 1 || s.Port > 65535 {
		add(p+".port", "%d is not 1 to 65535", s.Port)
	}
	if s.User == "" {
		add(p+".user", "required")
	}
	if s.RemoteDir == "" {
		add(p+".stats_dir", "required")
	}
	if s.Signer == nil && s.KeyPath == "" && s.AgentSocket == "" {
		add(p+".key_path", "required (or auth_sock for an ssh-agent)")
	}
	n := 0
	for _, set := range []bool{s.KnownHostsPath != "", s.HostKey != "", s.InsecureIgnoreHostKey} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		add(p+".known_hosts", "required: host key verification is mandatory (or host_key; insecure_ignore_host_key = true skips it, insecurely)")
	case n > 1:
		add(p, "set only one of known_hosts, host_key and insecure_ignore_host_key")
	}
	if len(errs) == 0 {
		for _, e := range splitErrors(s.Validate()) {
			add(p, "%s", e)
		}
	}
	return errs
}

// checkKeys reports the keys of m that are not in known.
func checkKeys(add func(path, format string, args ...any), p string, m map[string]any, known []string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(known, k) {
			add(p+"."+k, "unknown key (known: %s)", strings.Join(sorted(known), ", "))
			continue
		}
		switch m[k].(type) {
		case string, int64, bool, float64:
		default:
			add(p+"."+k, "want a string, number or boolean")
		}
	}
}

func sorted(in []string) []string {
	out := slices.Clone(in)
	sort.Strings(out)
	return out
}

// mergeMaps returns base overlaid by over, with upper-case keys (the
// environment names the library reads) and values as text.
func mergeMaps(base, over map[string]any) map[string]string {
	out := map[string]string{}
	for _, m := range []map[string]any{base, over} {
		for k, v := range m {
			switch v.(type) {
			case string, int64, bool, float64:
				out[strings.ToUpper(k)] = fmt.Sprint(v)
			}
		}
	}
	return out
}

func lookupMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// splitErrors returns the lines of a (joined) error.
func splitErrors(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// keyPath rewrites a library error that names an environment variable into
// "path.key: message" with the file's key in place of the variable.
func keyPath(p, line string, keys []string) string {
	for _, k := range keys { // longest first
		env := strings.ToUpper(k)
		if strings.Contains(line, env) {
			return p + "." + k + ": " + strings.ReplaceAll(line, env, k)
		}
	}
	return p + ": " + line
}

// validName keeps server names usable as metric labels, file names and
// command arguments.
func validName(s string) bool {
	if len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
