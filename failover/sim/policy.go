package sim

import "time"

// Policy is a way of running the two paths. All policies share the same
// notifier, Discord, webhook handler, tracker and pipeline; they differ in
// when and how the bot looks at the SFTP folder.
type Policy struct {
	// Name is the policy's name on the command line and in the table.
	Name string
	// Doc says what the policy does, in one line.
	Doc string

	smart       bool          // the machine decides (false: smart failover disabled, polling ON forever)
	schedule    bool          // poll as failover.Schedule plans (false: every fixedPoll, day and night)
	fixedPoll   time.Duration // interval when schedule is false
	probe       bool          // change probe (one stat) while polling is OFF
	antiEntropy bool          // slow full listing whatever the mode
	persistent  bool          // one SSH connection kept open (false: a new connection per poll and per fetch)
	missed      bool          // a listed file push has not reported within the grace is a Failure("missed")
	quiet       bool          // quiet folder checks feed Machine.Quiet, and the heartbeat honours them (HeartbeatQuietOK)
}

// Policy names.
const (
	PolicyBoth      = "both"
	PolicyProposal  = "proposal"
	PolicyRoundfeed = "roundfeed"
)

// Policies returns every policy, in table order.
func Policies() []Policy {
	return []Policy{
		{
			Name:      PolicyBoth,
			Doc:       "today: webhook on and an SSH listing every 60 s always, a new connection per poll",
			fixedPoll: time.Minute,
		},
		{
			Name:     PolicyProposal,
			Doc:      "the proposal's state machine (the design's heartbeat) and schedule; no probe, no anti-entropy, a new connection per poll",
			smart:    true,
			schedule: true,
		},
		{
			Name:        PolicyRoundfeed,
			Doc:         "machine + schedule + change probe (also while ON between slow polls) + anti-entropy on one persistent connection; quiet probes count for the heartbeat",
			smart:       true,
			schedule:    true,
			probe:       true,
			antiEntropy: true,
			persistent:  true,
			missed:      true,
			quiet:       true,
		},
	}
}

// PolicyByName returns the policy called name.
func PolicyByName(name string) (Policy, bool) {
	for _, p := range Policies() {
		if p.Name == name {
			return p, true
		}
	}
	return Policy{}, false
}
