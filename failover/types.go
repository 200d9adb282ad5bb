package failover

import (
	"fmt"
	"time"
)

// Kind is the kind of stats file an outcome is about. Thresholds can differ
// per kind (Config.Stats, Config.Endstats), and each kind counts its own
// consecutive successes and failures.
type Kind uint8

// File kinds. The zero Kind is invalid.
const (
	KindStats    Kind = iota + 1 // a round's stats file
	KindEndstats                 // a round's endstats (awards) file
)

// String returns "stats" or "endstats".
func (k Kind) String() string {
	switch k {
	case KindStats:
		return "stats"
	case KindEndstats:
		return "endstats"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

func (k Kind) valid() bool { return k == KindStats || k == KindEndstats }

// Outcome is what became of a file the push path reported.
type Outcome uint8

// Outcomes. The zero Outcome is invalid. Shutdown and cancellation are not
// outcomes: the caller records nothing.
const (
	// Success: the file push reported was fetched, parsed and stored.
	Success Outcome = iota + 1
	// Failure: push failed to deliver a usable file (not delivered, missed by
	// push but found by a probe, corrupt, rate limited). Carries a reason.
	Failure
	// Deferred: the file cannot be handled yet for a reason that is not the
	// push path's fault, e.g. an endstats file that arrived before its
	// round's stats. Counted, but neither success nor failure.
	Deferred
)

// String returns "success", "failure" or "deferred".
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Failure:
		return "failure"
	case Deferred:
		return "deferred"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

func (o Outcome) valid() bool { return o >= Success && o <= Deferred }

// Mode says whether the polling (pull) path runs.
type Mode uint8

// Modes. The zero Mode is PollingOn, the safe default.
const (
	// PollingOn: push is not trusted (start-up, after a failure, heartbeat,
	// or smart failover disabled): the schedule polls.
	PollingOn Mode = iota
	// PollingOff: push is healthy; polling is off (or slowed to the ladder)
	// and only cheap change probes and the anti-entropy listing run.
	PollingOff
)

// String returns "on" or "off".
func (m Mode) String() string {
	switch m {
	case PollingOn:
		return "on"
	case PollingOff:
		return "off"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// MarshalText encodes the mode as its String.
func (m Mode) MarshalText() ([]byte, error) {
	if m > PollingOff {
		return nil, fmt.Errorf("failover: invalid mode %d", uint8(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText decodes "on" or "off".
func (m *Mode) UnmarshalText(b []byte) error {
	switch string(b) {
	case "on":
		*m = PollingOn
	case "off":
		*m = PollingOff
	default:
		return fmt.Errorf("failover: invalid mode %q", b)
	}
	return nil
}

// Transition is a mode change the machine made.
type Transition struct {
	From, To Mode
	// Reason says why, e.g. "push healthy: 2 consecutive stats successes",
	// "push failure: missed", "heartbeat: no push success for 15m0s".
	Reason string
	At     time.Time
}

// String formats the transition for a log line or a test.
func (t Transition) String() string {
	return fmt.Sprintf("polling %s -> %s: %s", t.From, t.To, t.Reason)
}

// AlertKind says what an alert is about.
type AlertKind uint8

// Alert kinds.
const (
	// AlertFailover: a push failure turned polling back on.
	AlertFailover AlertKind = iota + 1
	// AlertHeartbeat: push reported no success for the heartbeat timeout
	// while players were in voice, so polling was turned back on. The push
	// path is probably dead without saying so.
	AlertHeartbeat
	// AlertProlongedPolling: polling has been on for longer than
	// Config.ProlongedPolling during play; push is not recovering. Raised
	// once per ON episode.
	AlertProlongedPolling
)

// String returns "failover", "heartbeat" or "prolonged-polling".
func (k AlertKind) String() string {
	switch k {
	case AlertFailover:
		return "failover"
	case AlertHeartbeat:
		return "heartbeat"
	case AlertProlongedPolling:
		return "prolonged-polling"
	}
	return fmt.Sprintf("AlertKind(%d)", uint8(k))
}

// Alert is something an operator should hear about. The machine only returns
// it; the caller posts or logs it.
type Alert struct {
	Kind   AlertKind
	Reason string
	At     time.Time
}

// String formats the alert for a log line or a test.
func (a Alert) String() string { return fmt.Sprintf("alert %s: %s", a.Kind, a.Reason) }

// Result is what one input caused. Most inputs cause nothing: both slices
// are nil then.
type Result struct {
	Transitions []Transition
	Alerts      []Alert
}

// Empty reports whether r holds no transition and no alert.
func (r Result) Empty() bool { return len(r.Transitions) == 0 && len(r.Alerts) == 0 }
