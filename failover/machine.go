package failover

import (
	"errors"
	"fmt"
	"time"
)

// Machine decides whether the polling path runs, from the outcomes of files
// the push path reported and from the number of players in voice. It is the
// table in DESIGN.md:
//
//	state  event                                            next  effect
//	ON     push success, consecutive < SuccessThreshold     ON    count
//	ON     push success reaching SuccessThreshold           OFF   transition "push healthy"
//	OFF    push success                                     OFF   last-success time
//	OFF    push failure reaching FailureThreshold           ON    transition + AlertFailover
//	OFF    no push success for HeartbeatTimeout, >= MinPl.  ON    transition + AlertHeartbeat (*)
//	ON     push failure                                     ON    success counters reset
//	any    smart failover disabled                          ON    always (both paths run)
//
// (*) With Config.HeartbeatQuietOK (the default), a quiet folder check
// reported with Quiet counts like a push success for the heartbeat: see
// Quiet.
//
// The machine reads time only from its Clock and returns what happened as a
// Result; it never logs, sleeps, or starts goroutines.
//
// A Machine is not safe for concurrent use: callers serialise (source/poll's
// Guard wraps one in a mutex).
type Machine struct {
	cfg Config
	clk Clock

	mode  Mode
	since time.Time // when the current mode began
	gen   uint64

	succ   [3]int // consecutive successes per Kind (index 0 unused)
	fail   [3]int // consecutive failures per Kind
	streak int    // successes of any kind since the last failure or failover (the ladder's count)

	lastSuccess, lastFailure time.Time
	lastFailureReason        string
	lastQuiet                time.Time // last quiet folder check (Quiet)

	successes, failures, deferred, stale, rejected uint64

	timeIn     [2]time.Duration // completed periods per Mode
	failovers  int
	failoverAt time.Time // when polling last came back on after a failure; zero when recovered
	recoveries int
	ttrTotal   time.Duration
	ttrLast    time.Duration

	// Tick state.
	activeSince    time.Time // first Tick of the current run of ticks with >= min players
	lastTick       time.Time
	lastTickActive bool
	activeOn       time.Duration // time ON during play in this ON episode
	prolonged      bool          // AlertProlongedPolling raised in this ON episode
}

// NewMachine returns a machine in PollingOn, the safe start, whatever
// happened before. It returns Validate's error for a bad config.
func NewMachine(cfg Config, clk Clock) (*Machine, error) {
	if clk == nil {
		return nil, errors.New("failover: nil clock")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Ladder = append([]LadderStep(nil), cfg.Ladder...)
	return &Machine{cfg: cfg, clk: clk, mode: PollingOn, since: clk.Now(), gen: 1}, nil
}

// Config returns the machine's configuration.
func (m *Machine) Config() Config {
	c := m.cfg
	c.Ladder = append([]LadderStep(nil), c.Ladder...)
	return c
}

// Generation returns the current generation; it starts at 1 and grows by one
// at every transition. Stamp work with it when the work starts and pass it to
// Record: an outcome of work that began before the last transition is
// ignored, so a slow failure from before recovery cannot undo the recovery.
func (m *Machine) Generation() uint64 { return m.gen }

// Mode returns the current mode.
func (m *Machine) Mode() Mode { return m.mode }

// PollingEnabled reports whether the polling path should run at its normal
// rate: true in PollingOn (always when smart failover is disabled).
func (m *Machine) PollingEnabled() bool { return m.mode == PollingOn }

// OffInterval returns the graduated-reduction interval for polling while
// OFF, or 0 when polling is ON or no ladder is configured (OFF then polls
// nothing). The rung is the last one whose After is at most the success
// streak; below the first rung, the first rung applies.
func (m *Machine) OffInterval() time.Duration {
	if m.mode != PollingOff || len(m.cfg.Ladder) == 0 {
		return 0
	}
	iv := m.cfg.Ladder[0].Interval
	for _, s := range m.cfg.Ladder {
		if m.streak >= s.After {
			iv = s.Interval
		}
	}
	return iv
}

func (m *Machine) successThreshold(k Kind) int {
	t := m.cfg.SuccessThreshold
	if k == KindStats && m.cfg.Stats.SuccessThreshold > 0 {
		t = m.cfg.Stats.SuccessThreshold
	}
	if k == KindEndstats && m.cfg.Endstats.SuccessThreshold > 0 {
		t = m.cfg.Endstats.SuccessThreshold
	}
	return t
}

func (m *Machine) failureThreshold(k Kind) int {
	t := m.cfg.FailureThreshold
	if k == KindStats && m.cfg.Stats.FailureThreshold > 0 {
		t = m.cfg.Stats.FailureThreshold
	}
	if k == KindEndstats && m.cfg.Endstats.FailureThreshold > 0 {
		t = m.cfg.Endstats.FailureThreshold
	}
	return t
}

// Record takes the outcome of a file the push path reported. gen is the
// Generation read when the work started; 0 skips the check. reason is kept
// for a Failure (e.g. "missed", "corrupt", "rate_limited", "not_found") and
// ignored otherwise. An outcome with a stale generation, an invalid kind or
// an invalid outcome changes nothing but a counter in Status.
func (m *Machine) Record(gen uint64, kind Kind, o Outcome, reason string) Result {
	now := m.clk.Now()
	if !kind.valid() || !o.valid() {
		m.rejected++
		return Result{}
	}
	if gen != 0 && gen < m.gen {
		m.stale++
		return Result{}
	}
	var r Result
	switch o {
	case Success:
		m.successes++
		m.lastSuccess = now
		m.succ[kind]++
		m.fail[kind] = 0
		m.streak++
		if m.cfg.Enabled && m.mode == PollingOn && m.succ[kind] >= m.successThreshold(kind) {
			why := fmt.Sprintf("push healthy: %d consecutive %s successes", m.succ[kind], kind)
			r.Transitions = append(r.Transitions, m.transition(PollingOff, why, now))
		}
	case Failure:
		if reason == "" {
			reason = "unspecified"
		}
		m.failures++
		m.lastFailure = now
		m.lastFailureReason = reason
		m.fail[kind]++
		m.succ = [3]int{}
		m.streak = 0
		if m.cfg.Enabled && m.mode == PollingOff && m.fail[kind] >= m.failureThreshold(kind) {
			why := fmt.Sprintf("push failure: %s %s", kind, reason)
			r.Transitions = append(r.Transitions, m.failover(why, now))
			r.Alerts = append(r.Alerts, Alert{Kind: AlertFailover, Reason: why, At: now})
		}
	case Deferred:
		m.deferred++
	}
	return r
}

// Quiet records that the pull side looked at the stats folder just now and
// found no file that push has not reported: a change probe that saw no
// change since the previous good probe, or a listing whose files push had
// all reported (or that were imported before, or were there before the
// first listing). It never causes a transition.
//
// With Config.HeartbeatQuietOK the heartbeat counts from the later of the
// last push success and the last Quiet, so it fires only when push has been
// silent and the folder has gone unchecked for HeartbeatTimeout during
// play. This is what keeps players chatting in voice after the last round
// from turning polling back on for the next day: push is silent because
// there is nothing to push, and the probes prove it. A silently dead push
// path while files are written is unaffected: the listing that finds the
// file reports no Quiet, and the file becomes a Failure "missed" after the
// grace.
//
// Callers must report Quiet only on evidence: not after a failed probe or
// listing, not after a probe that saw no change while an earlier change is
// still unlisted (its listing failed), and not while a listed file push has
// not reported is still within the missed grace.
func (m *Machine) Quiet() {
	m.lastQuiet = m.clk.Now()
}

// Tick tells the machine how many players are in voice now. Call it
// regularly (source/poll calls it on every step; a minute apart is plenty).
// It turns polling back on when push reported no success for
// HeartbeatTimeout while at least HeartbeatMinPlayers were in voice (and,
// with HeartbeatQuietOK, no Quiet folder check came either), and
// raises AlertProlongedPolling once per ON episode when polling stayed on for
// ProlongedPolling during play.
//
// "In voice" is sampled: the heartbeat counts from the first Tick of an
// unbroken run of ticks with enough players, and the prolonged-polling time
// adds the intervals between ticks whose first tick had enough players.
func (m *Machine) Tick(players int) Result {
	now := m.clk.Now()
	min := m.cfg.HeartbeatMinPlayers
	active := players >= min
	if active && m.activeSince.IsZero() {
		m.activeSince = now
	} else if !active {
		m.activeSince = time.Time{}
	}
	var r Result
	if m.mode == PollingOn && m.lastTickActive && !m.lastTick.IsZero() {
		m.activeOn += nonneg(now.Sub(later(m.lastTick, m.since)))
	}
	m.lastTick, m.lastTickActive = now, active
	if !m.cfg.Enabled {
		return r
	}
	switch m.mode {
	case PollingOff:
		if m.cfg.HeartbeatTimeout <= 0 || !active {
			break
		}
		base := later(later(m.lastSuccess, m.since), m.activeSince)
		what := "no push success"
		if m.cfg.HeartbeatQuietOK && m.lastQuiet.After(base) {
			base, what = m.lastQuiet, "no push success and no quiet folder check"
		}
		if now.Sub(base) >= m.cfg.HeartbeatTimeout {
			why := fmt.Sprintf("heartbeat: %s for %v with %d players in voice", what, now.Sub(base), players)
			r.Transitions = append(r.Transitions, m.failover(why, now))
			r.Alerts = append(r.Alerts, Alert{Kind: AlertHeartbeat, Reason: why, At: now})
		}
	case PollingOn:
		if m.cfg.ProlongedPolling > 0 && active && !m.prolonged && m.activeOn >= m.cfg.ProlongedPolling {
			m.prolonged = true
			why := fmt.Sprintf("polling on for %v during play; push has not recovered", m.activeOn)
			r.Alerts = append(r.Alerts, Alert{Kind: AlertProlongedPolling, Reason: why, At: now})
		}
	}
	return r
}

// failover turns polling back on after push went bad.
func (m *Machine) failover(why string, now time.Time) Transition {
	t := m.transition(PollingOn, why, now)
	m.failovers++
	m.failoverAt = now
	return t
}

func (m *Machine) transition(to Mode, why string, now time.Time) Transition {
	from := m.mode
	m.timeIn[from] += nonneg(now.Sub(m.since))
	m.mode, m.since = to, now
	m.gen++
	switch to {
	case PollingOn:
		m.succ, m.streak = [3]int{}, 0
		m.activeOn, m.prolonged = 0, false
	case PollingOff:
		m.fail = [3]int{}
		if !m.failoverAt.IsZero() {
			ttr := nonneg(now.Sub(m.failoverAt))
			m.recoveries++
			m.ttrTotal += ttr
			m.ttrLast = ttr
			m.failoverAt = time.Time{}
		}
	}
	return Transition{From: from, To: to, Reason: why, At: now}
}

func nonneg(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
