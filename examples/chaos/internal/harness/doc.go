// Package harness is roundfeed's chaos harness: a seeded schedule of faults
// at every seam, played against the real pipeline, and a check that every
// file was imported exactly once and posted exactly once.
//
// A run has two kinds of process. The parent (Run) owns the game server's
// side and the outside world: an in-process SSH+SFTP server
// (source/sftp/sftptest) behind a small TCP proxy, the stats folder it
// writes files into, a stand-in for Discord's message endpoint that
// honours enforce_nonce, and the SQLite file. Workers (RunWorker, a re-exec
// of the same binary) are the bot: the real SQLite store and tracker, the
// ingest pipeline and outbox sender, the SFTP client, the poller with its
// failover machine, and the webhook trigger, fed discordgo.MessageCreate
// values as JSON lines on stdin.
//
// The schedule (Plan) is drawn from the seed alone: the files (2 to 5
// matches of R1/R2 stats and endstats), when each is written, its webhook
// message dropped, delayed, duplicated (same message ID: a gateway
// re-delivery; new ID: a notifier re-send) or reordered, a low trigger rate
// limit in one run in five, and 4 to 9 faults: SSH connections cut, a cut
// in the middle of a server reply (the proxy forwards half a chunk and
// closes), the SSH server stopped and restarted, keepalives unanswered, the
// SQLite write lock held from a second connection, the worker SIGKILLed and
// restarted (every run has at least one), a second worker on the same
// database for a while (a restart that overlaps the old process), the
// archive folder unwritable for a while (a full disk), Discord answering
// 503, and posts made whose replies are lost. Wall-clock timing decides how the schedule
// interleaves with the workers, so a seed replays the same faults but not
// always the same interleaving.
//
// At the end the parent heals every fault, kills the chaos worker and
// starts a clean one with polling always on, waits until every file is
// done and posted (or a deadline), stops it with SIGTERM and checks: each
// file tracked once and done, stored once, one outbox row of its kind with
// its nonce, one Discord message per nonce whose ID the row holds, every
// round 2 paired, the archive byte-identical, and no nonce re-published by
// a worker that had received its reply (a re-publish after a lost reply or
// by a later worker is the crash window the nonce exists for).
//
// Timings are the production ones scaled down (lease 1 s, probes every
// 100 ms, polls every 200-300 ms, retries from 50 ms) so a run takes two to
// four seconds.
package harness
