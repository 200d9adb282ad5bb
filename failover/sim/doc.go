// Package sim is a deterministic simulator of roundfeed's two paths. It runs
// the real failover.Machine and failover.Schedule on a virtual clock
// (failover.ManualClock driven by an event queue) over scripted game nights,
// with a model of every part a file passes through, and reports what each
// polling policy costs and what it loses.
//
// # The world
//
// A night: players join voice from 19:45 and reach a peak of 6 to 12 at
// 20:15, wander within three of it, and leave between 01:00 and 01:30. From
// 20:00 to 01:00 a round ends every 5 to 12 minutes (R1 then R2 of each
// map); each writes a stats file and, 2 s later, an endstats file. The stats
// folder starts with DefaultFolderFiles files, all imported; its mtime has
// one-second resolution, as over SFTP v3.
//
// The paths:
//   - notifier (on the game server): posts a webhook message 2 s after a file
//     settles (+0.1-0.5 s); when restarted it rescans the folder for files it
//     has not notified (48 h lookback), paced at 2 a second.
//   - Discord: delivers a message after 0.2-1.5 s, or loses it (outage
//     windows, random loss).
//   - the bot's webhook handler: rate limit of 5 messages a minute (over it:
//     Failure "rate_limited", polling finds the file); messages arriving
//     while the bot is down are lost.
//   - SSH/SFTP: a handshake costs 500 ms, a request 30 ms, a download
//     300 ms; a listing is opendir + one readdir per 100 entries + the EOF
//     readdir + close. Policies either open a connection per poll and per
//     fetch (as today) or keep one open (keepalive notices a dead server in
//     15 s; reconnect backoff 1 s doubling to 30 s).
//   - the tracker: a claim with a 60 s lease, and "imported" committed in
//     the same transaction as the import; it survives bot restarts.
//   - processing: fetch, parse and store. A corrupt file is quarantined
//     (counted as processed); an endstats file whose stats file is not
//     imported is Deferred and imported right after it. Failed fetches are
//     retried (backoff 10 s doubling to 60 s, or when the connection is back).
//
// Outcomes of push-delivered files go to the Machine (Success, Failure
// "corrupt", Failure "rate_limited", Deferred for an early endstats file or
// a failed fetch); the bot ticks it with the players in voice every minute
// and persists its Snapshot on every transition, restoring it after a
// restart. Listings follow source/poll: every file not yet imported is
// imported at once, and under the roundfeed policy a listed file that push
// has not reported within 30 s of its mtime is a Failure "missed" (except in
// an incarnation's first listing, the baseline). Also under roundfeed, a
// probe that sees no change, or a listing that finds nothing push has not
// reported (and no file still within that grace), is a quiet folder check
// reported to Machine.Quiet, which holds the heartbeat
// (failover.Config.HeartbeatQuietOK); the proposal policy runs without it,
// with the design's heartbeat. The schedule plans change probes while
// polling is OFF and, while ON, between polls slower than the probe
// interval.
//
// # Policies and scenarios
//
// See Policies and Scenarios. A multi-server scenario (multi-server-crash)
// runs one independent world per game server, each with its own Machine, as
// one bot serving several servers does; its Row adds them up and lists each
// server in Row.Servers (and under the table), and -v logs carry a server
// field. Every policy faces the same script for a seed
// and scenario: the nights come from the seed alone, the fault's time from
// the seed and the scenario, and each message's delay and fate from a hash of
// the seed and the file name, never from the order in which a policy asks.
//
// # Measures
//
// A Row counts files written, lost (not imported or quarantined by 12:00
// after the last night), duplicates (imports beyond the first), latency
// from write to import, and the costs charged while at least 4 players are
// in voice, per hour with at least 4 players in voice: SSH handshakes, and
// discovery requests (stat, opendir, readdir, close; downloads excluded).
// Failovers counts the Machine's transitions from OFF to ON.
//
// The package imports only failover and the standard library.
package sim
