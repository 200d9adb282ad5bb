package failover

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ScheduleConfig sets when the polling path runs. Build one with
// DefaultScheduleConfig.
type ScheduleConfig struct {
	// Zone is the IANA time zone the dead hours are in. Default
	// "Europe/Paris". It is loaded with time.LoadLocation, so the host needs
	// tzdata (or the binary imports time/tzdata).
	Zone string
	// DeadFrom and DeadUntil are the dead hours as wall-clock times of day
	// (offsets from midnight) in Zone: nothing is polled, probed or listed
	// from DeadFrom up to DeadUntil. DeadFrom > DeadUntil wraps past
	// midnight; equal values disable dead hours. Default 02:00 to 11:00.
	DeadFrom, DeadUntil time.Duration
	// ActivePlayers is how many players in voice make the phase Active.
	// Default 6.
	ActivePlayers int
	// ActiveInterval is the polling interval in the Active phase. Default 60 s.
	ActiveInterval time.Duration
	// Grace is how long after the last file the phase stays Grace; GraceInterval
	// is its polling interval. Defaults 30 min and 60 s.
	Grace, GraceInterval time.Duration
	// IdleInterval is the polling interval otherwise. Default 10 min.
	IdleInterval time.Duration
	// ProbeInterval is how often the change probe runs while polling is
	// OFF, and while it is ON in a phase whose poll interval is longer (see
	// Plan). Zero disables probes. Default 60 s.
	ProbeInterval time.Duration
	// AntiEntropyInterval is how often a full listing runs whatever the
	// mode and the probes say (a poll counts as one). Zero disables it; the
	// catch-up listing after dead hours still runs. Default 30 min.
	AntiEntropyInterval time.Duration
}

// DefaultScheduleConfig returns the proposal's schedule plus the probe and
// anti-entropy defaults.
func DefaultScheduleConfig() ScheduleConfig {
	return ScheduleConfig{
		Zone:                "Europe/Paris",
		DeadFrom:            2 * time.Hour,
		DeadUntil:           11 * time.Hour,
		ActivePlayers:       6,
		ActiveInterval:      time.Minute,
		Grace:               30 * time.Minute,
		GraceInterval:       time.Minute,
		IdleInterval:        10 * time.Minute,
		ProbeInterval:       time.Minute,
		AntiEntropyInterval: 30 * time.Minute,
	}
}

// Validate reports every problem of c at once, or nil.
func (c ScheduleConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("failover: schedule: "+format, args...))
	}
	if c.Zone == "" {
		bad("zone is empty")
	} else if _, err := time.LoadLocation(c.Zone); err != nil {
		bad("zone %q: %v", c.Zone, err)
	}
	if c.DeadFrom < 0 || c.DeadFrom >= 24*time.Hour {
		bad("dead hours start %v: must be within the day", c.DeadFrom)
	}
	if c.DeadUntil < 0 || c.DeadUntil >= 24*time.Hour {
		bad("dead hours end %v: must be within the day", c.DeadUntil)
	}
	if c.ActivePlayers < 0 {
		bad("active players %d: must not be negative", c.ActivePlayers)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"active interval", c.ActiveInterval}, {"grace interval", c.GraceInterval}, {"idle interval", c.IdleInterval}} {
		if d.v <= 0 {
			bad("%s %v: must be positive", d.name, d.v)
		}
	}
	if c.Grace < 0 {
		bad("grace %v: must not be negative", c.Grace)
	}
	if c.ProbeInterval < 0 {
		bad("probe interval %v: must not be negative (0 disables)", c.ProbeInterval)
	}
	if c.AntiEntropyInterval < 0 {
		bad("anti-entropy interval %v: must not be negative (0 disables)", c.AntiEntropyInterval)
	}
	return errors.Join(errs...)
}

// Environment variable names read by ScheduleConfigFromEnv.
const (
	EnvZone                = "POLL_TIMEZONE"
	EnvDeadHours           = "POLL_DEAD_HOURS"
	EnvActivePlayers       = "POLL_ACTIVE_PLAYERS"
	EnvActiveInterval      = "POLL_ACTIVE_INTERVAL"
	EnvGrace               = "POLL_GRACE"
	EnvGraceInterval       = "POLL_GRACE_INTERVAL"
	EnvIdleInterval        = "POLL_IDLE_INTERVAL"
	EnvProbeInterval       = "PROBE_INTERVAL"
	EnvAntiEntropyInterval = "ANTI_ENTROPY_INTERVAL"
)

// ScheduleConfigFromEnv returns DefaultScheduleConfig with the variables
// lookup finds applied. Durations are whole seconds or Go syntax;
// POLL_DEAD_HOURS is "HH:MM-HH:MM" or "off". Unset or empty keeps the
// default; a bad value is an error naming the variable and the value.
func ScheduleConfigFromEnv(lookup func(string) (string, bool)) (ScheduleConfig, error) {
	c := DefaultScheduleConfig()
	r := &envReader{lookup: lookup}
	if v, ok := r.get(EnvZone); ok {
		if _, err := time.LoadLocation(v); err != nil {
			r.fail(EnvZone, v, "not an IANA time zone known here (is tzdata installed?)")
		} else {
			c.Zone = v
		}
	}
	if v, ok := r.get(EnvDeadHours); ok {
		from, until, err := parseDeadHours(v)
		if err != nil {
			r.fail(EnvDeadHours, v, err.Error())
		} else {
			c.DeadFrom, c.DeadUntil = from, until
		}
	}
	r.integer(EnvActivePlayers, &c.ActivePlayers, 0)
	r.seconds(EnvActiveInterval, &c.ActiveInterval, true)
	r.seconds(EnvGrace, &c.Grace, false)
	r.seconds(EnvGraceInterval, &c.GraceInterval, true)
	r.seconds(EnvIdleInterval, &c.IdleInterval, true)
	r.seconds(EnvProbeInterval, &c.ProbeInterval, false)
	r.seconds(EnvAntiEntropyInterval, &c.AntiEntropyInterval, false)
	if len(r.errs) > 0 {
		return c, errors.Join(r.errs...)
	}
	// Every field was checked above with its variable's name (the default
	// zone only fails without tzdata).
	return c, c.Validate()
}

// parseDeadHours parses "02:00-11:00" or "off".
func parseDeadHours(v string) (from, until time.Duration, err error) {
	if strings.EqualFold(v, "off") {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(v, "-")
	if !ok {
		return 0, 0, errors.New(`want "HH:MM-HH:MM" or "off"`)
	}
	if from, err = parseTimeOfDay(strings.TrimSpace(a)); err != nil {
		return 0, 0, err
	}
	if until, err = parseTimeOfDay(strings.TrimSpace(b)); err != nil {
		return 0, 0, err
	}
	return from, until, nil
}

func parseTimeOfDay(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 || len(m) != 2 {
		return 0, fmt.Errorf("time of day %q: want HH:MM (00:00 to 23:59)", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

// Phase is the part of the day the schedule is in.
type Phase uint8

// Phases, from the most to the least restrictive.
const (
	PhaseIdle   Phase = iota // nobody playing, no recent file: slow polling
	PhaseGrace               // a file arrived recently: the next round may follow soon
	PhaseActive              // enough players in voice: a game is on
	PhaseDead                // dead hours: nothing runs
)

// String returns "idle", "grace", "active" or "dead".
func (p Phase) String() string {
	switch p {
	case PhaseIdle:
		return "idle"
	case PhaseGrace:
		return "grace"
	case PhaseActive:
		return "active"
	case PhaseDead:
		return "dead"
	}
	return fmt.Sprintf("Phase(%d)", uint8(p))
}

// Schedule computes when polls, probes and full listings are due. It is a
// pure function of its input (and safe for concurrent use).
//
// Dead hours stop everything, probes and anti-entropy included: the night is
// left to the push path, and the server sees no SSH traffic. What push missed
// in the night is caught at the end of the dead hours: the first plan after
// them makes a full listing due at once if none ran since, even with
// anti-entropy disabled. A file written at 03:00 is therefore listed at 11:00
// at the latest.
type Schedule struct {
	cfg ScheduleConfig
	loc *time.Location
}

// NewSchedule returns a schedule for cfg, or Validate's error.
func NewSchedule(cfg ScheduleConfig) (*Schedule, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(cfg.Zone)
	if err != nil {
		return nil, fmt.Errorf("failover: schedule: zone %q: %w", cfg.Zone, err)
	}
	return &Schedule{cfg: cfg, loc: loc}, nil
}

// Config returns the schedule's configuration.
func (s *Schedule) Config() ScheduleConfig { return s.cfg }

// Location returns the loaded time zone of the dead hours.
func (s *Schedule) Location() *time.Location { return s.loc }

// PlanInput is what Plan needs. Zero times mean "never".
type PlanInput struct {
	Now     time.Time
	Players int // players in voice
	// LastFile is when the last stats file arrived (by any path).
	LastFile time.Time
	// LastPoll, LastProbe and LastFullList are when each last ran. A poll is
	// a full listing too.
	LastPoll, LastProbe, LastFullList time.Time
	// Mode and OffInterval come from the Machine (Mode, OffInterval).
	Mode        Mode
	OffInterval time.Duration
}

// Plan says what is due when. A zero time means "not scheduled"; a non-zero
// time is never before In.Now (due now means Now).
type Plan struct {
	Phase Phase
	// Interval is the polling interval in force (0 when polls are off).
	Interval     time.Duration
	NextPoll     time.Time
	NextProbe    time.Time
	NextFullList time.Time
}

// Next returns the earliest scheduled time in p, or the zero time.
func (p Plan) Next() time.Time {
	var n time.Time
	for _, t := range []time.Time{p.NextPoll, p.NextProbe, p.NextFullList} {
		if !t.IsZero() && (n.IsZero() || t.Before(n)) {
			n = t
		}
	}
	return n
}

// Plan computes the next poll, probe and full listing.
//
// Polling ON: polls every ActiveInterval (>= ActivePlayers in voice),
// GraceInterval (within Grace of LastFile) or IdleInterval. Polling OFF: no
// polls, or the ladder's OffInterval when it is set (never faster than the
// phase's own interval). Change probes run every ProbeInterval while OFF,
// and while ON whenever the poll interval in force is longer than
// ProbeInterval: polling ON at the start of a session with few players
// (idle phase, a poll every 10 min) must not notice a lost webhook later
// than OFF would. A probe that sees a change makes the caller list. The
// next probe counts from the later of LastProbe and the last listing
// (LastPoll, LastFullList). In both modes a full listing every
// AntiEntropyInterval after the later of LastPoll and LastFullList.
// Anything falling into dead hours moves to their end.
func (s *Schedule) Plan(in PlanInput) Plan {
	now := in.Now
	var p Plan
	if s.dead(now) {
		end := s.deadEnd(now)
		p.Phase = PhaseDead
		if in.Mode == PollingOn || in.OffInterval > 0 {
			p.NextPoll = end
		}
		if in.Mode == PollingOff && s.cfg.ProbeInterval > 0 {
			p.NextProbe = end
		}
		p.NextFullList = end
		return p
	}
	switch {
	case in.Players >= s.cfg.ActivePlayers:
		p.Phase, p.Interval = PhaseActive, s.cfg.ActiveInterval
	case !in.LastFile.IsZero() && now.Sub(in.LastFile) < s.cfg.Grace:
		p.Phase, p.Interval = PhaseGrace, s.cfg.GraceInterval
	default:
		p.Phase, p.Interval = PhaseIdle, s.cfg.IdleInterval
	}
	if in.Mode == PollingOff {
		if in.OffInterval > 0 {
			p.Interval = max(p.Interval, in.OffInterval)
		} else {
			p.Interval = 0
		}
	}
	if p.Interval > 0 {
		p.NextPoll = s.due(now, in.LastPoll, p.Interval)
	}
	listed := later(in.LastPoll, in.LastFullList)
	// Probes fill the gaps between polls: always while OFF, and while ON
	// when the phase polls more slowly than the probe interval (idle: a
	// poll every 10 min, a probe every minute). A listing answers what a
	// probe asks, so the next probe counts from the later of the two.
	if s.cfg.ProbeInterval > 0 && (in.Mode == PollingOff || p.Interval > s.cfg.ProbeInterval) {
		p.NextProbe = s.due(now, later(in.LastProbe, listed), s.cfg.ProbeInterval)
	}
	if s.cfg.AntiEntropyInterval > 0 {
		p.NextFullList = s.due(now, listed, s.cfg.AntiEntropyInterval)
	}
	if s.hasDead() && listed.Before(s.prevDeadEnd(now)) {
		p.NextFullList = now // catch-up after the dead hours
	}
	return p
}

// due returns last+every, moved out of dead hours, and not before now.
func (s *Schedule) due(now, last time.Time, every time.Duration) time.Time {
	if last.IsZero() {
		return now
	}
	t := last.Add(every)
	if !t.After(now) {
		return now
	}
	if s.dead(t) {
		t = s.deadEnd(t)
	}
	return t
}

func (s *Schedule) hasDead() bool { return s.cfg.DeadFrom != s.cfg.DeadUntil }

// dead reports whether t's wall clock in the zone is within dead hours.
// Wall-clock membership is exact across DST: on a spring-forward night the
// dead hours begin at the jump if DeadFrom falls in the gap, and on a
// fall-back night the repeated hour is dead twice.
func (s *Schedule) dead(t time.Time) bool {
	if !s.hasDead() {
		return false
	}
	tod := timeOfDay(t.In(s.loc))
	from, until := s.cfg.DeadFrom, s.cfg.DeadUntil
	if from < until {
		return tod >= from && tod < until
	}
	return tod >= from || tod < until
}

// deadEnd returns the end of the dead hours containing t.
func (s *Schedule) deadEnd(t time.Time) time.Time {
	lt := t.In(s.loc)
	y, m, d := lt.Date()
	if timeOfDay(lt) >= s.cfg.DeadUntil { // wrapped window, before midnight
		d++
	}
	return s.wall(y, m, d, s.cfg.DeadUntil)
}

// prevDeadEnd returns the latest end of dead hours at or before t.
func (s *Schedule) prevDeadEnd(t time.Time) time.Time {
	lt := t.In(s.loc)
	y, m, d := lt.Date()
	e := s.wall(y, m, d, s.cfg.DeadUntil)
	if e.After(t) {
		e = s.wall(y, m, d-1, s.cfg.DeadUntil)
	}
	return e
}

// wall returns the first instant at which the zone's wall clock reads tod on
// the given date (time.Date normalises d). When tod falls into a DST gap that
// is the instant of the jump.
func (s *Schedule) wall(y int, m time.Month, d int, tod time.Duration) time.Time {
	h, rest := tod/time.Hour, tod%time.Hour
	t := time.Date(y, m, d, int(h), int(rest/time.Minute), int(rest%time.Minute/time.Second), 0, s.loc)
	want := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(tod) // the wall reading, as a naive time
	got := naive(t.In(s.loc))
	if got.Equal(want) {
		return t
	}
	// In a gap: time.Date picked one side of the jump, which is a zone
	// boundary of t.
	start, end := t.ZoneBounds()
	if got.After(want) {
		return start
	}
	return end
}

// naive returns t's wall-clock reading as a UTC time, for comparing readings.
func naive(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(timeOfDay(t))
}

func timeOfDay(t time.Time) time.Duration {
	h, m, sec := t.Clock()
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second + time.Duration(t.Nanosecond())
}
