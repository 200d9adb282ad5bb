package failover

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Status is everything a diagnostic command shows about the machine.
type Status struct {
	Enabled    bool      `json:"enabled"`
	Mode       Mode      `json:"mode"`
	ModeSince  time.Time `json:"mode_since"`
	Generation uint64    `json:"generation"`

	// ConsecutiveSuccesses is the success streak of all kinds since the last
	// failure (the ladder's count); ConsecutiveFailures the failures of all
	// kinds since the last success. Per-kind counts are in Stats/Endstats.
	ConsecutiveSuccesses int        `json:"consecutive_successes"`
	ConsecutiveFailures  int        `json:"consecutive_failures"`
	Stats                KindStatus `json:"stats"`
	Endstats             KindStatus `json:"endstats"`

	LastSuccess       time.Time `json:"last_success,omitzero"`
	LastFailure       time.Time `json:"last_failure,omitzero"`
	LastFailureReason string    `json:"last_failure_reason,omitempty"`

	SuccessThreshold    int           `json:"success_threshold"`
	FailureThreshold    int           `json:"failure_threshold"`
	HeartbeatTimeout    time.Duration `json:"heartbeat_timeout"`
	HeartbeatMinPlayers int           `json:"heartbeat_min_players"`
	// HeartbeatQuietOK: quiet folder checks count for the heartbeat;
	// LastQuiet is the last one (zero: none since start).
	HeartbeatQuietOK bool      `json:"heartbeat_quiet_ok"`
	LastQuiet        time.Time `json:"last_quiet,omitzero"`
	// OffInterval is the ladder interval while OFF (0: none).
	OffInterval time.Duration `json:"off_interval"`

	// TimeOn and TimeOff are the totals spent in each mode, the current
	// period included.
	TimeOn  time.Duration `json:"time_on"`
	TimeOff time.Duration `json:"time_off"`

	// Failovers counts OFF -> ON transitions (failure or heartbeat);
	// Recoveries counts the ON -> OFF transitions that followed one.
	Failovers  int `json:"failovers"`
	Recoveries int `json:"recoveries"`
	// LastTimeToRecover and MeanTimeToRecover measure failover -> push
	// healthy again. Zero before the first recovery.
	LastTimeToRecover time.Duration `json:"last_time_to_recover"`
	MeanTimeToRecover time.Duration `json:"mean_time_to_recover"`

	// Totals of recorded outcomes. Stale counts outcomes dropped for an old
	// generation; Rejected those with an invalid kind or outcome.
	Successes uint64 `json:"successes"`
	Failures  uint64 `json:"failures"`
	Deferred  uint64 `json:"deferred"`
	Stale     uint64 `json:"stale"`
	Rejected  uint64 `json:"rejected"`

	// ActiveSince is the first Tick of the current run with at least
	// HeartbeatMinPlayers in voice (zero: not enough players).
	ActiveSince time.Time `json:"active_since,omitzero"`
	// PollingDuringPlay is how long polling has been on during play in the
	// current ON episode (what the prolonged-polling alert measures).
	PollingDuringPlay time.Duration `json:"polling_during_play"`
}

// KindStatus is the per-kind part of Status.
type KindStatus struct {
	ConsecutiveSuccesses int `json:"consecutive_successes"`
	ConsecutiveFailures  int `json:"consecutive_failures"`
	SuccessThreshold     int `json:"success_threshold"`
	FailureThreshold     int `json:"failure_threshold"`
}

// Status returns the machine's state at the clock's current time.
func (m *Machine) Status() Status {
	now := m.clk.Now()
	s := Status{
		Enabled:              m.cfg.Enabled,
		Mode:                 m.mode,
		ModeSince:            m.since,
		Generation:           m.gen,
		ConsecutiveSuccesses: m.streak,
		LastSuccess:          m.lastSuccess,
		LastFailure:          m.lastFailure,
		LastFailureReason:    m.lastFailureReason,
		SuccessThreshold:     m.cfg.SuccessThreshold,
		FailureThreshold:     m.cfg.FailureThreshold,
		HeartbeatTimeout:     m.cfg.HeartbeatTimeout,
		HeartbeatMinPlayers:  m.cfg.HeartbeatMinPlayers,
		HeartbeatQuietOK:     m.cfg.HeartbeatQuietOK,
		LastQuiet:            m.lastQuiet,
		OffInterval:          m.OffInterval(),
		TimeOn:               m.timeIn[PollingOn],
		TimeOff:              m.timeIn[PollingOff],
		Failovers:            m.failovers,
		Recoveries:           m.recoveries,
		LastTimeToRecover:    m.ttrLast,
		Successes:            m.successes,
		Failures:             m.failures,
		Deferred:             m.deferred,
		Stale:                m.stale,
		Rejected:             m.rejected,
		ActiveSince:          m.activeSince,
		PollingDuringPlay:    m.activeOn,
	}
	if m.mode == PollingOn {
		s.TimeOn += nonneg(now.Sub(m.since))
	} else {
		s.TimeOff += nonneg(now.Sub(m.since))
	}
	for _, k := range []Kind{KindStats, KindEndstats} {
		ks := KindStatus{
			ConsecutiveSuccesses: m.succ[k],
			ConsecutiveFailures:  m.fail[k],
			SuccessThreshold:     m.successThreshold(k),
			FailureThreshold:     m.failureThreshold(k),
		}
		s.ConsecutiveFailures += m.fail[k]
		if k == KindStats {
			s.Stats = ks
		} else {
			s.Endstats = ks
		}
	}
	if m.recoveries > 0 {
		s.MeanTimeToRecover = m.ttrTotal / time.Duration(m.recoveries)
	}
	return s
}

// snapshotVersion is bumped when the snapshot format changes incompatibly.
const snapshotVersion = 1

// snapshot is the persisted form. Durations are nanoseconds.
type snapshot struct {
	Version           int           `json:"version"`
	SavedAt           time.Time     `json:"saved_at"`
	Mode              Mode          `json:"mode"`
	Generation        uint64        `json:"generation"`
	Failures          [2]int        `json:"consecutive_failures"` // stats, endstats
	LastSuccess       time.Time     `json:"last_success"`
	LastFailure       time.Time     `json:"last_failure"`
	LastFailureReason string        `json:"last_failure_reason"`
	TimeOn            time.Duration `json:"time_on"`
	TimeOff           time.Duration `json:"time_off"`
	Failovers         int           `json:"failovers"`
	FailoverAt        time.Time     `json:"failover_at"`
	Recoveries        int           `json:"recoveries"`
	TTRTotal          time.Duration `json:"ttr_total"`
	TTRLast           time.Duration `json:"ttr_last"`
	Successes         uint64        `json:"successes"`
	FailuresTotal     uint64        `json:"failures"`
	Deferred          uint64        `json:"deferred"`
	Stale             uint64        `json:"stale"`
	Rejected          uint64        `json:"rejected"`
}

// ErrBadSnapshot is returned (wrapped) by Restore for data that is not a
// snapshot this version can read.
var ErrBadSnapshot = errors.New("failover: bad snapshot")

// Snapshot returns the machine's persistent state as JSON, for a bot to store
// and hand to Restore after a restart.
func (m *Machine) Snapshot() ([]byte, error) {
	st := m.Status()
	s := snapshot{
		Version:           snapshotVersion,
		SavedAt:           m.clk.Now(),
		Mode:              m.mode,
		Generation:        m.gen,
		Failures:          [2]int{m.fail[KindStats], m.fail[KindEndstats]},
		LastSuccess:       m.lastSuccess,
		LastFailure:       m.lastFailure,
		LastFailureReason: m.lastFailureReason,
		TimeOn:            st.TimeOn,
		TimeOff:           st.TimeOff,
		Failovers:         m.failovers,
		FailoverAt:        m.failoverAt,
		Recoveries:        m.recoveries,
		TTRTotal:          m.ttrTotal,
		TTRLast:           m.ttrLast,
		Successes:         m.successes,
		FailuresTotal:     m.failures,
		Deferred:          m.deferred,
		Stale:             m.stale,
		Rejected:          m.rejected,
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("failover: snapshot: %w", err)
	}
	return b, nil
}

// Restore loads a Snapshot into the machine; call it right after NewMachine.
// Totals, failover statistics, failure counts and the last success and
// failure are kept. The machine still starts in PollingOn, whatever the
// snapshot's mode, with its success counts at zero: push must prove itself
// again after a restart, as the design requires. The generation moves past
// the snapshot's, so work stamped before the restart is stale. If the
// snapshot was taken during a failover, the time to recover keeps counting
// from the original failover.
//
// On error the machine is unchanged; the error wraps ErrBadSnapshot.
func (m *Machine) Restore(b []byte) error {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	if s.Version != snapshotVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrBadSnapshot, s.Version, snapshotVersion)
	}
	if s.Failures[0] < 0 || s.Failures[1] < 0 || s.TimeOn < 0 || s.TimeOff < 0 || s.Failovers < 0 ||
		s.Recoveries < 0 || s.TTRTotal < 0 || s.TTRLast < 0 {
		return fmt.Errorf("%w: negative counter", ErrBadSnapshot)
	}
	now := m.clk.Now()
	m.mode, m.since = PollingOn, now
	m.gen = max(m.gen, s.Generation+1)
	m.succ, m.streak = [3]int{}, 0
	m.fail = [3]int{0, s.Failures[0], s.Failures[1]}
	m.lastSuccess, m.lastFailure, m.lastFailureReason = s.LastSuccess, s.LastFailure, s.LastFailureReason
	m.timeIn = [2]time.Duration{s.TimeOn, s.TimeOff}
	m.failovers, m.failoverAt = s.Failovers, s.FailoverAt
	m.recoveries, m.ttrTotal, m.ttrLast = s.Recoveries, s.TTRTotal, s.TTRLast
	m.successes, m.failures, m.deferred, m.stale, m.rejected = s.Successes, s.FailuresTotal, s.Deferred, s.Stale, s.Rejected
	m.activeOn, m.prolonged = 0, false
	return nil
}
