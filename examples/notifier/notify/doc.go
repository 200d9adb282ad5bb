// Package notify is the game-server side of roundfeed's push path: it
// watches the stats folder and posts a Discord webhook naming each complete
// file, in the format of spec/webhook-protocol.md section 1. The command
// examples/notifier runs it from environment variables; the bot's demo runs
// it in-process against a fake Discord.
//
// Run:
//
//  1. opens the spool (SPOOL_DIR), adds the complete files of the lookback
//     window (48 h) not yet notified, and starts sending, in order;
//  2. starts the folder watcher (source/local), which watches before it
//     scans: the scan reports the files of the lookback window (48 h), the
//     watch every file completed afterwards. A file is complete when its size
//     and mtime have not changed for the settle time (2 s): the endstats file
//     is written by many append-and-close cycles;
//  3. queues each complete file not yet notified: written to the spool (and
//     fsynced) before it is sent. A file under 100 bytes is reported in the
//     log and not sent; if it grows, it is reported again.
//
// One goroutine sends, one file per message, in the order of the times in
// the file names (a round's stats file before its endstats file). A notification
// leaves the spool only after a 2xx. Discord being down, rate-limiting
// (429, Retry-After) or the network failing only delays it: the sender
// retries with backoff forever. A 4xx other than 429 is a configuration
// error: logged at error level, kept in the spool, retried slowly, never
// deleted as if sent. What was sent is remembered in the spool (one marker
// per file), so a restart never notifies a file twice.
//
// The one window for a duplicate is a hard crash after Discord accepted a
// post and before its marker reached the disk; a graceful stop lets the post
// in flight finish and records it. Downstream, the bot's tracker imports a
// file once however many triggers name it.
//
// This package must not link discordgo or SQLite: it runs on the game
// server. A test checks its dependencies.
package notify
