package ingest

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Failures of the bot's own environment (its archive folder, its database)
// are not the file's fault: a full disk or a database locked by a backup
// must not quarantine good files. They are retried like source outages,
// without counting an attempt (tracker.Postponer records the reason), and
// they are loud: an Error line when an outage of a kind begins (not one per
// file), an Info line when it ends, and Metrics.EnvFailures/EnvOutage.
//
// Classification (envFault): what follows is the environment's; anything
// else keeps counting (parse errors, ErrTooLarge, "not found" after the
// grace, constraint violations and other store errors about the content,
// panics):
//
//	archive       any error writing or reading the archive (ENOSPC, EROFS,
//	              EACCES, EPERM, ENOTDIR, EDQUOT, EIO, ...)
//	database      SQLITE_BUSY, SQLITE_LOCKED ("database is locked"),
//	              SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY, SQLITE_CANTOPEN,
//	              SQLITE_NOMEM, SQLITE_PROTOCOL; PostgreSQL classes 08
//	              (connection), 53 (insufficient resources), 57 (operator
//	              intervention), 58 (system error), 40001, 40P01, 55P03;
//	              driver.ErrBadConn, sql.ErrConnDone, "sql: database is closed"
//
// A store error that is none of these (a constraint violation, a check of
// the store's) counts as an attempt: a bug that repeats on one file ends in
// quarantine, where status shows it. An environment failure that repeats
// forever (a leaked transaction holding SQLite's lock) is retried with the
// postponement's backoff, at most RetryMax (10 min) apart, never in a loop.

// envKind names the part of the environment that failed.
type envKind string

const (
	envArchive  envKind = "archive"
	envDatabase envKind = "database"
)

// archiveError marks an error of the local archive (see envFault); read
// tells a failed read of an archived copy from a failed write.
type archiveError struct {
	err  error
	read bool
}

func (e *archiveError) Error() string { return e.err.Error() }
func (e *archiveError) Unwrap() error { return e.err }

// envFault reports whether err is a failure of the bot's environment, which
// part failed, and the reason prefix status output shows.
func envFault(err error) (kind envKind, reason string, ok bool) {
	if err == nil {
		return "", "", false
	}
	var ae *archiveError
	if errors.As(err, &ae) {
		if ae.read {
			return envArchive, "archive unreadable", true
		}
		return envArchive, "archive unwritable", true
	}
	for _, e := range []error{syscall.ENOSPC, syscall.EROFS, syscall.EDQUOT} {
		if errors.Is(err, e) {
			return envArchive, "archive unwritable", true
		}
	}
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) {
		return envDatabase, "database closed", true
	}
	msg := strings.ToLower(err.Error())
	if strings.Contains(msg, "sql: database is closed") {
		return envDatabase, "database closed", true
	}
	var sc interface{ Code() int } // modernc.org/sqlite's *Error
	if errors.As(err, &sc) {
		switch sc.Code() & 0xff {
		case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
			return envDatabase, "database busy", true
		case 7, 8, 10, 13, 14, 15: // NOMEM, READONLY, IOERR, FULL, CANTOPEN, PROTOCOL
			return envDatabase, "database unavailable", true
		}
		return "", "", false
	}
	var pg interface{ SQLState() string } // pgx's *pgconn.PgError
	if errors.As(err, &pg) {
		s := pg.SQLState()
		switch {
		case s == "40001", s == "40P01", s == "55P03":
			return envDatabase, "database busy", true
		case len(s) == 5 && (s[:2] == "08" || s[:2] == "53" || s[:2] == "57" || s[:2] == "58"):
			return envDatabase, "database unavailable", true
		}
		return "", "", false
	}
	if strings.Contains(msg, "database is locked") || strings.Contains(msg, "sqlite_busy") || strings.Contains(msg, "database table is locked") {
		return envDatabase, "database busy", true
	}
	return "", "", false
}

// envState follows the environment's outages: one Error line when a kind
// starts failing, one Info line when it works again.
type envState struct {
	mu       sync.Mutex
	since    map[envKind]time.Time // failing kinds, since when
	failures map[envKind]int       // failures in the current outage
}

// fail records a failure of kind and logs the start of an outage.
func (s *envState) fail(log *slog.Logger, now time.Time, kind envKind, reason string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.since == nil {
		s.since, s.failures = make(map[envKind]time.Time), make(map[envKind]int)
	}
	s.failures[kind]++
	if _, ok := s.since[kind]; ok {
		return
	}
	s.since[kind] = now
	log.Error("ingest: environment failure; files are retried without counting attempts", "part", string(kind), "reason", reason, "err", err)
}

// ok records that kind worked and logs the end of an outage.
func (s *envState) ok(log *slog.Logger, now time.Time, kind envKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	since, ok := s.since[kind]
	if !ok {
		return
	}
	log.Info("ingest: environment recovered", "part", string(kind), "down_for", now.Sub(since), "failures", s.failures[kind])
	delete(s.since, kind)
	delete(s.failures, kind)
}

// outage returns the failing kinds, comma-separated, "" when none.
func (s *envState) outage() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, k := range []envKind{envArchive, envDatabase} {
		if _, ok := s.since[k]; ok {
			out = append(out, string(k))
		}
	}
	return strings.Join(out, ",")
}
