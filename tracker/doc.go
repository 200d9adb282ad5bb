// Package tracker is roundfeed's exactly-once bookkeeping: it answers "has
// this file been processed, or is someone working on it?" for a key of
// server + file name.
//
// A worker first claims a file (Tracker.Claim). The claim carries a lease: a
// crash between claim and done leaves a lease that expires (default 2 min),
// after which the file can be claimed again. The worker then imports the file
// and marks it done with Tracker.MarkDone inside the same database
// transaction as the import, so "imported" and "marked" commit together or
// not at all. A failure is recorded with a retry time (Tracker.Fail); after
// MaxAttempts failures (default 5) the file is quarantined and only a forced
// claim (an operator's retry command, a backfill) takes it again.
//
// Claim checks, cheapest first: the file's age (files older than the lookback
// window, 7 days by default, are not auto-processed), an in-memory set of
// files this process knows to be done or in flight, then the table.
//
// Two implementations: Memory, for tests and library users without a
// database, and SQL, over database/sql, tested on SQLite (modernc.org/sqlite)
// and PostgreSQL (pgx): one set of statements, "?" rewritten to $n for
// PostgreSQL (Dialect). Several processes may share the SQL tracker's
// database: every claim and settlement is one conditional statement on the
// row (a compare-and-set on state and token, which PostgreSQL re-checks
// after a concurrent update's row lock), and the in-memory sets only say
// "done" for committed marks and "taken" for this process's own live
// claims. The conformance suite in tracker/trackertest (Run, and RunShared
// for several instances on one database) runs against all of them and is
// meant for any new backend.
//
// The package imports nothing else of roundfeed: servers, names and "via"
// are plain strings.
package tracker
