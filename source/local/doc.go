// Package local watches a stats folder on the same machine as the bot (or as
// the game-server notifier) and reports each complete stats file once.
//
// A Watcher uses fsnotify for low latency and a directory scan for
// correctness: it scans on start, again whenever the kernel's event queue
// overflows, and every Config.Rescan as anti-entropy, so a lost event delays
// a file and never loses it. The watch is set up before the first scan, so a
// file created while that scan runs is seen by one or the other.
//
// A stats file is written by the game while a round ends, so "a file exists"
// is not "a file is ready". A file is reported only once it is complete: no
// write event and no change of size or mtime for Config.Settle (2 s by
// default). A file renamed into the folder brings a single create event and
// no writes, so it is reported one Settle after the rename. Scans treat a
// file whose mtime is older than Settle as complete at once.
//
// Names must pass parser.ValidateName; anything else in the folder (sidecars,
// temporary files, editor backups) is skipped and counted, never reported.
//
// Watcher also implements source.Lister and source.Fetcher over the same
// folder, so a bot that runs on the game server needs no SSH at all.
package local
