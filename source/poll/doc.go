// Package poll is the thin driver around the pure failover core: the part
// with goroutines, timers and I/O.
//
//   - Guard wraps a *failover.Machine with a mutex so the bot's handlers,
//     the ingest pipeline and the Poller can share it, and hands each
//     non-empty Result to a callback after the lock is released.
//   - Poller runs one server's failover.Schedule: on every step it reads the
//     clock, ticks the machine with the players in voice, asks the schedule
//     what is due, and polls (a listing), probes (a cheap change check) or
//     runs the anti-entropy listing; every listed file not emitted before
//     becomes a source.Event. A file that a listing finds and that push has
//     not reported (Seen) within a grace is a push failure, reason "missed".
//     A probe that saw no change, or a listing that left no file waiting
//     for push, is a quiet folder check (Guard.Quiet): with
//     failover.Config.HeartbeatQuietOK the heartbeat then knows push is
//     silent because there is nothing to push.
//
// Time comes from a Clock (SystemClock in production); tests run the Poller
// inside testing/synctest, where the system clock and its timers are
// virtual.
package poll
