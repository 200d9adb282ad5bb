package failover

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config sets the machine's thresholds. Build one with DefaultConfig, change
// what you need, and pass it to NewMachine (which calls Validate).
type Config struct {
	// Enabled turns smart failover on. When false, polling is on all the
	// time and both paths run: the rollback switch. Default true.
	Enabled bool

	// SuccessThreshold is how many consecutive push successes of one file
	// kind turn polling off. Each kind counts on its own, so the default 2
	// means "two rounds", not "one round's stats and endstats". Default 2.
	SuccessThreshold int

	// FailureThreshold is how many consecutive push failures of one kind
	// turn polling back on. Default 1: the first failure.
	FailureThreshold int

	// Stats and Endstats override the two thresholds for one kind; a zero
	// field inherits the value above.
	Stats, Endstats KindThresholds

	// HeartbeatTimeout turns polling back on when push has reported no
	// success for this long while at least HeartbeatMinPlayers are in voice
	// (see Machine.Tick). Zero disables the heartbeat. Default 15 min.
	HeartbeatTimeout time.Duration

	// HeartbeatMinPlayers is how many players in voice mean "a game is on".
	// It also gates the prolonged-polling alert. Default 4.
	HeartbeatMinPlayers int

	// HeartbeatQuietOK lets a quiet folder check (Machine.Quiet: a probe
	// that saw no change, or a listing that found nothing push had not
	// reported) count like a push success for the heartbeat, which then
	// fires only after HeartbeatTimeout with neither. Push that says nothing
	// while the folder proves there was nothing to say is not a fault: after
	// the last round, players often stay in voice for a quarter of an hour.
	// When files are written that push does not report, no Quiet comes, so
	// the heartbeat is the design's; a machine that is never told Quiet
	// (no probes, no listings while OFF) behaves exactly as with false.
	// Default true.
	HeartbeatQuietOK bool

	// ProlongedPolling raises one AlertProlongedPolling per ON episode once
	// polling has been on for this long while at least HeartbeatMinPlayers
	// are in voice. Zero disables the alert. Default 1 h.
	ProlongedPolling time.Duration

	// Ladder is the graduated reduction: when non-empty, polling while OFF
	// does not stop but slows down step by step as successes accumulate.
	// Steps must have increasing After values. Empty (the default) means
	// OFF polls nothing.
	Ladder []LadderStep
}

// KindThresholds overrides the success and failure thresholds for one file
// kind. Zero fields inherit Config's values.
type KindThresholds struct {
	SuccessThreshold int
	FailureThreshold int
}

// LadderStep is one rung of the graduated reduction: once the success streak
// (push successes of any kind since the last failure or failover) reaches After, polling
// while OFF runs every Interval.
type LadderStep struct {
	After    int
	Interval time.Duration
}

// DefaultConfig returns the proposal's defaults: enabled, success threshold
// 2, failure threshold 1, heartbeat 15 min with 4 players, prolonged-polling
// alert after 1 h, no ladder; and HeartbeatQuietOK, which changes nothing
// until a caller reports quiet folder checks (source/poll does).
func DefaultConfig() Config {
	return Config{
		Enabled:             true,
		SuccessThreshold:    2,
		FailureThreshold:    1,
		HeartbeatTimeout:    15 * time.Minute,
		HeartbeatMinPlayers: 4,
		HeartbeatQuietOK:    true,
		ProlongedPolling:    time.Hour,
	}
}

// Validate reports every problem of c at once (joined with errors.Join), or
// nil.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("failover: "+format, args...))
	}
	if c.SuccessThreshold < 1 {
		bad("success threshold %d: must be at least 1", c.SuccessThreshold)
	}
	if c.FailureThreshold < 1 {
		bad("failure threshold %d: must be at least 1", c.FailureThreshold)
	}
	for _, k := range []struct {
		name string
		t    KindThresholds
	}{{"stats", c.Stats}, {"endstats", c.Endstats}} {
		if k.t.SuccessThreshold < 0 {
			bad("%s success threshold %d: must be 0 (inherit) or more", k.name, k.t.SuccessThreshold)
		}
		if k.t.FailureThreshold < 0 {
			bad("%s failure threshold %d: must be 0 (inherit) or more", k.name, k.t.FailureThreshold)
		}
	}
	if c.HeartbeatTimeout < 0 {
		bad("heartbeat timeout %v: must not be negative (0 disables)", c.HeartbeatTimeout)
	}
	if c.HeartbeatMinPlayers < 0 {
		bad("heartbeat min players %d: must not be negative", c.HeartbeatMinPlayers)
	}
	if c.ProlongedPolling < 0 {
		bad("prolonged polling alert %v: must not be negative (0 disables)", c.ProlongedPolling)
	}
	prev := 0
	for i, s := range c.Ladder {
		if s.After < 1 {
			bad("ladder step %d: after %d successes: must be at least 1", i+1, s.After)
		} else if s.After <= prev {
			bad("ladder step %d: after %d successes: must be more than the previous step's %d", i+1, s.After, prev)
		}
		if s.After > prev {
			prev = s.After
		}
		if s.Interval <= 0 {
			bad("ladder step %d: interval %v: must be positive", i+1, s.Interval)
		}
	}
	return errors.Join(errs...)
}

// Environment variable names read by ConfigFromEnv.
const (
	EnvEnabled                  = "SMART_FAILOVER_ENABLED"
	EnvSuccessThreshold         = "WEBHOOK_SUCCESS_THRESHOLD"
	EnvFailureThreshold         = "WEBHOOK_FAILURE_THRESHOLD"
	EnvStatsSuccessThreshold    = "WEBHOOK_STATS_SUCCESS_THRESHOLD"
	EnvStatsFailureThreshold    = "WEBHOOK_STATS_FAILURE_THRESHOLD"
	EnvEndstatsSuccessThreshold = "WEBHOOK_ENDSTATS_SUCCESS_THRESHOLD"
	EnvEndstatsFailureThreshold = "WEBHOOK_ENDSTATS_FAILURE_THRESHOLD"
	EnvHeartbeatTimeout         = "WEBHOOK_HEARTBEAT_TIMEOUT"
	EnvHeartbeatMinPlayers      = "WEBHOOK_HEARTBEAT_MIN_PLAYERS"
	EnvHeartbeatQuietOK         = "WEBHOOK_HEARTBEAT_QUIET_OK"
	EnvProlongedPolling         = "PROLONGED_POLLING_ALERT"
	EnvLadder                   = "POLL_LADDER"
)

// ConfigFromEnv returns DefaultConfig with the variables that lookup finds
// applied (pass os.LookupEnv). An unset or empty variable keeps its default;
// a value that does not parse, or a configuration that fails Validate, is an
// error naming the variable and the value. All problems are reported at once.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	c := DefaultConfig()
	r := &envReader{lookup: lookup}
	r.boolean(EnvEnabled, &c.Enabled)
	r.integer(EnvSuccessThreshold, &c.SuccessThreshold, 1)
	r.integer(EnvFailureThreshold, &c.FailureThreshold, 1)
	r.integer(EnvStatsSuccessThreshold, &c.Stats.SuccessThreshold, 0)
	r.integer(EnvStatsFailureThreshold, &c.Stats.FailureThreshold, 0)
	r.integer(EnvEndstatsSuccessThreshold, &c.Endstats.SuccessThreshold, 0)
	r.integer(EnvEndstatsFailureThreshold, &c.Endstats.FailureThreshold, 0)
	r.seconds(EnvHeartbeatTimeout, &c.HeartbeatTimeout, false)
	r.integer(EnvHeartbeatMinPlayers, &c.HeartbeatMinPlayers, 0)
	r.boolean(EnvHeartbeatQuietOK, &c.HeartbeatQuietOK)
	r.seconds(EnvProlongedPolling, &c.ProlongedPolling, false)
	if v, ok := r.get(EnvLadder); ok {
		l, err := ParseLadder(v)
		if err == nil {
			err = Config{SuccessThreshold: 1, FailureThreshold: 1, Ladder: l}.Validate()
		}
		if err != nil {
			r.fail(EnvLadder, v, strings.ReplaceAll(err.Error(), "failover: ", ""))
		} else {
			c.Ladder = l
		}
	}
	if len(r.errs) > 0 {
		return c, errors.Join(r.errs...)
	}
	// Every field was range-checked above with its variable's name; this
	// catches what a future field might miss.
	return c, c.Validate()
}

// ParseLadder parses a ladder written as comma-separated "successes:interval"
// pairs, the interval in whole seconds or Go syntax: "2:300,10:900" or
// "2:5m,10:15m". "off" or "" is the empty ladder.
func ParseLadder(s string) ([]LadderStep, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "off") {
		return nil, nil
	}
	var steps []LadderStep
	for i, part := range strings.Split(s, ",") {
		after, iv, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, fmt.Errorf("step %d %q: want successes:interval", i+1, part)
		}
		n, err := strconv.Atoi(strings.TrimSpace(after))
		if err != nil {
			return nil, fmt.Errorf("step %d %q: successes not an integer", i+1, part)
		}
		d, err := parseSeconds(strings.TrimSpace(iv))
		if err != nil {
			return nil, fmt.Errorf("step %d %q: interval: %v", i+1, part, err)
		}
		steps = append(steps, LadderStep{After: n, Interval: d})
	}
	return steps, nil
}
