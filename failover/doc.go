// Package failover is the pure policy that decides when roundfeed's polling
// (SFTP pull) path runs while the push (Discord webhook) path is primary.
//
// Two deterministic parts, in the style of etcd's raft core:
//
//   - Machine: push health. Outcomes of pushed files (Record) and the number
//     of players in voice (Tick) switch polling ON and OFF; each input
//     returns a Result with the transitions and alerts it caused. The
//     caller logs and alerts; the machine never does.
//   - Schedule: when the next poll, change probe and full listing are due,
//     from the time of day (dead hours in a configured zone), players in
//     voice, the time of the last file and the machine's mode.
//
// Neither reads the wall clock, sleeps, starts goroutines, logs or does I/O:
// time comes from an injected Clock (ManualClock in tests and the
// simulator). The goroutines and timers live in source/poll. Neither part is
// safe for concurrent use unless its doc says so; callers serialise.
//
// # Configuration
//
// ConfigFromEnv and ScheduleConfigFromEnv read these variables. Unset or
// empty keeps the default; any other value that does not parse is an error
// naming the variable and the value. Durations are whole seconds ("900") or
// Go syntax ("15m").
//
//	Variable                            Default        Meaning
//	SMART_FAILOVER_ENABLED              true           false: polling always on, both paths run (rollback)
//	WEBHOOK_SUCCESS_THRESHOLD           2              consecutive push successes of one kind that turn polling off
//	WEBHOOK_FAILURE_THRESHOLD           1              consecutive push failures of one kind that turn polling on
//	WEBHOOK_STATS_SUCCESS_THRESHOLD     0 (inherit)    per-kind override for stats files
//	WEBHOOK_STATS_FAILURE_THRESHOLD     0 (inherit)    per-kind override for stats files
//	WEBHOOK_ENDSTATS_SUCCESS_THRESHOLD  0 (inherit)    per-kind override for endstats files
//	WEBHOOK_ENDSTATS_FAILURE_THRESHOLD  0 (inherit)    per-kind override for endstats files
//	WEBHOOK_HEARTBEAT_TIMEOUT           900            no push success this long during play: polling on (0: off)
//	WEBHOOK_HEARTBEAT_MIN_PLAYERS       4              players in voice that mean "play" (heartbeat, alert)
//	WEBHOOK_HEARTBEAT_QUIET_OK          true           a quiet folder check counts like a push success for the heartbeat
//	PROLONGED_POLLING_ALERT             3600           alert once when polling stays on this long during play (0: off)
//	POLL_LADDER                         off            graduated reduction while OFF: "2:5m,10:15m"
//	POLL_TIMEZONE                       Europe/Paris   IANA zone of the dead hours
//	POLL_DEAD_HOURS                     02:00-11:00    nothing polled, probed or listed ("off" disables)
//	POLL_ACTIVE_PLAYERS                 6              players in voice for the active phase
//	POLL_ACTIVE_INTERVAL                60             poll interval, active phase
//	POLL_GRACE                          1800           grace phase length after the last file
//	POLL_GRACE_INTERVAL                 60             poll interval, grace phase
//	POLL_IDLE_INTERVAL                  600            poll interval, idle phase
//	PROBE_INTERVAL                      60             change probe while off, and while on between slower polls (0: off)
//	ANTI_ENTROPY_INTERVAL               1800           full listing whatever the mode (0: off)
//
// # Decisions
//
// Each file kind counts its own consecutive successes, so the default
// threshold 2 means two rounds, not one round's stats and endstats.
// Deferred (endstats before its round) counts as neither success nor
// failure. A heartbeat failover raises AlertHeartbeat in addition to the
// transition, because a silently dead push path is what an operator must
// hear about.
//
// Probes run while polling is ON too, whenever the phase polls more slowly
// than the probe interval. Polling is ON at start-up and after a failover,
// often in the idle phase (fewer than ActivePlayers in voice, no file for
// the grace), where it polls every 10 minutes: without probes a webhook
// lost then waited up to 10 minutes, while OFF would have caught it within
// a minute. The simulator measured it: in the flapping scenario (30% of
// messages lost), one night, 3 seeds in 40 had a p99 latency of 211-285 s;
// with probes while ON the worst of the 40 is 60 s. Probes count from the
// last listing too, so the cost did not grow: over the same 40 nights,
// roundfeed's discovery requests per active hour averaged 298 (was 299)
// in flapping and 123 (was 130) on healthy nights, the latter mostly
// thanks to the quiet heartbeat below.
//
// The heartbeat measures silence during play, not silence: with
// HeartbeatQuietOK (default true) a quiet folder check (Machine.Quiet,
// reported by source/poll after a probe that saw no change or a listing
// that found nothing push had not reported) counts like a push success.
// Players stay in voice for a quarter of an hour after the last round;
// without this, the design's heartbeat fired then on two of three healthy
// simulated nights, and polling stayed ON until the next evening's second
// round. The design's row still holds whenever it matters: while files are
// written that push does not report, no Quiet comes (and the probe's
// listing turns the file into a Failure "missed" within the grace); when
// the pull side cannot see the folder either (SSH down, probes disabled),
// no Quiet comes. Set WEBHOOK_HEARTBEAT_QUIET_OK=false for the proposal's
// heartbeat exactly; failover/sim's proposal policy does.
//
// Dead hours pause probes and anti-entropy too; the first plan
// after them makes a full listing due at once, so a file written at 03:00
// is found at 11:00 at the latest.
package failover
