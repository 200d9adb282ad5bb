// Package ingest is roundfeed's pipeline from "a file exists" (a
// source.Event, from the webhook, a poll, a probe, a local folder or a
// backfill) to a committed round and a queued post:
//
//	claim (tracker) -> fetch (archive first, else source.Fetcher; archived)
//	-> parse -> stats: pair a round 2 with its round 1, compute the
//	differential; endstats: link to its round -> one transaction: store +
//	done mark + outbox rows -> report the outcome to the failover machine
//
// Exactly once: the tracker's claim keeps two workers (or two processes)
// off one file, and the done mark commits in the import's transaction, so
// a crash before the commit leaves only a lease that expires, and a commit
// is never repeated. Posts are rows of the same transaction, drained by a
// Sender through a Publisher with retries; a post carries a nonce derived
// from server, file and kind, and a sent post (one with a message ID) is
// never sent again. Several bot replicas may share one PostgreSQL database
// (store.OpenURL): claims, done marks and outbox leases live in the
// database, and the in-memory sets only say "done" for committed files.
//
// Waiting for another file is not a failure: an endstats file whose round is
// not stored yet is Deferred and retried with backoff for up to
// ENDSTATS_WAIT, then stored unlinked; a round-2 file whose round 1 is not
// stored yet waits up to R1_WAIT, then is stored as an orphan, and a later
// round 1 links it. Importing a stats file retries the files deferred for
// its map at once.
//
// Pairing looks up the stored round-1 files of the same map (exact match,
// also in compat mode: the reference reader's glob quirk S9 is a folder
// rule, not reproduced here) and applies parser.PairR1 and parser.PairAll;
// the decision is checked again inside the commit transaction, so an R1
// and its R2 committed at the same moment cannot both miss each other.
//
// Files older than LOOKBACK are left to the backfill: an event with Via
// backfill ignores the lookback, takes quarantined or waiting files too,
// and does not wait for companions (it walks a folder in order).
// Pipeline.Retry is the operator's retry of one file (fetched afresh).
// Failures are retried with backoff (10 s doubling to 10 min) by RetryDue,
// which Run calls on start (resuming what a crash or shutdown left) and
// every few seconds; after MAX_ATTEMPTS the file is quarantined with its
// last error (a parse error names the file and line).
//
// Only failures that are the file's count as attempts: parse errors, an
// oversized file, "not found" after the grace, store errors about the
// content (constraint violations, the store's own checks) and panics.
// Failures of the bot's own environment (the archive folder not writable:
// disk full, read-only, permissions; the database busy, locked or closed)
// are postponed like source outages, without counting, with the reason in
// status ("archive unwritable (not counted): ..."), one Error line per
// outage and Metrics.EnvFailures/EnvOutage to alert on; see envfault.go
// for the full table. A failure of the source (the
// SFTP connection down, a dial or handshake error, a deadline while
// connecting) is not the file's fault: the claim is given back without
// counting (tracker.Postponer records why), retried after half the file's
// age within 10 s..10 min, and at once when the source next answers a
// fetch. Its budget is the lookback window, so a long SSH outage never
// quarantines a good file. "Not found" is treated the same way for
// NOT_FOUND_GRACE after the file was first seen, then counts. A webhook
// file whose fetch fails still reports Failure to the machine (polling
// turns on, which is the safe side even though the push path worked).
//
// Outcomes of events with Via webhook go to the Reporter: Success when
// stored, Failure (fetch, parse, store, too large) with a reason, Deferred
// when waiting; duplicates report nothing.
//
// Configuration (Config, DefaultConfig, FromEnv):
//
//	| variable       | default         | meaning                                                    |
//	|----------------|-----------------|------------------------------------------------------------|
//	| ARCHIVE_DIR    | stats-archive   | raw bytes of every fetched file, <dir>/<server>/<name>     |
//	| ARCHIVE_FSYNC  | false           | fsync each archived file (see Archive.Sync)                |
//	| LOOKBACK       | 7d              | older files are not auto-processed (backfill does them)    |
//	| MAX_ATTEMPTS   | 5               | failures before a file is quarantined                      |
//	| LEASE          | 2m              | claim lease; after a crash the file is retried after it    |
//	| WORKERS        | 4               | files processed at once                                    |
//	| MAX_FILE_SIZE  | 4194304 (4MiB)  | larger files are refused unread and quarantined            |
//	| R1_WAIT        | 2m              | a round 2 waits this long for its round 1, then orphan     |
//	| ENDSTATS_WAIT  | 30m             | an endstats file waits this long for its round, then alone |
//	| NOT_FOUND_GRACE| 10m             | "not found" on the source costs no attempt this long       |
//	| PARSER_MODE    | native          | native or compat (reference reader parity)                 |
//
// Durations take Go syntax (90s, 2m) or days (7d); sizes bytes or KiB/MiB.
// The Sender (SenderConfig) retries a post 10 times with backoff from 2 s to
// 10 min, then leaves it in the outbox, given up and visible in status.
//
// Wiring, in a bot:
//
//	db, dialect, _ := store.OpenURL(ctx, os.Getenv("DB_URL"), "roundfeed.db") // "" -> SQLite
//	tr, _ := tracker.NewSQL(db, cfg.TrackerConfig(now), dialect)
//	st, _ := store.New(db, tr)
//	snd, _ := ingest.NewSender(ingest.DefaultSenderConfig(), st, publisher, log, now)
//	p, _ := ingest.New(cfg, ingest.Deps{Tracker: tr, Store: st, Fetchers: fetchers,
//		Reporter: guard, Notify: snd.Notify, Logger: log, Now: now})
//	go snd.Run(ctx, 10*time.Second)
//	go p.Run(ctx)
//	// sources: p.Submit(ctx, ev)
package ingest
