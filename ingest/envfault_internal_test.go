package ingest

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/roundfeed/roundfeed/source"
	_ "modernc.org/sqlite"
)

// pgErr stands in for pgx's *pgconn.PgError (its SQLState method).
type pgErr string

func (e pgErr) Error() string    { return "pg: " + string(e) }
func (e pgErr) SQLState() string { return string(e) }

// realSQLiteErrors returns a real UNIQUE constraint violation and a real
// SQLITE_BUSY from modernc.org/sqlite.
func realSQLiteErrors(t *testing.T) (constraint, busy error) {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "x.db") + "?_pragma=busy_timeout(0)&_pragma=journal_mode(WAL)&_txlock=immediate"
	open := func() *sql.DB {
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()
	if _, err := a.Exec(`CREATE TABLE t (k TEXT PRIMARY KEY); INSERT INTO t VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	_, constraint = a.Exec(`INSERT INTO t VALUES ('x')`)
	tx, err := a.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	_, busy = b.Exec(`INSERT INTO t VALUES ('y')`)
	if constraint == nil || busy == nil {
		t.Fatalf("constraint %v, busy %v: want both errors", constraint, busy)
	}
	return constraint, busy
}

// The classification: failures of the environment do not count as
// attempts; the file's own faults do.
func TestEnvFault(t *testing.T) {
	constraint, busy := realSQLiteErrors(t)
	closed := sql.OpenDB(nil)
	closed.Close()
	closedErr := closed.Ping()
	tests := []struct {
		name   string
		err    error
		reason string // "" = counts as an attempt
	}{
		{"archive mkdir ENOTDIR", &archiveError{err: &fs.PathError{Op: "mkdir", Path: "a/main", Err: syscall.ENOTDIR}}, "archive unwritable"},
		{"archive read EIO", &archiveError{err: syscall.EIO, read: true}, "archive unreadable"},
		{"ENOSPC", fmt.Errorf("ingest: archive: %w", &fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}), "archive unwritable"},
		{"EROFS", &fs.PathError{Op: "open", Path: "x", Err: syscall.EROFS}, "archive unwritable"},
		{"SQLITE_BUSY (real)", fmt.Errorf("store: commit x: %w", busy), "database busy"},
		{"database is locked (text)", errors.New("database is locked (5) (SQLITE_BUSY)"), "database busy"},
		{"database closed (real)", fmt.Errorf("store: commit x: %w", closedErr), "database closed"},
		{"sql.ErrConnDone", fmt.Errorf("tracker: claim: %w", sql.ErrConnDone), "database closed"},
		{"pg connection failure", pgErr("08006"), "database unavailable"},
		{"pg disk full", pgErr("53100"), "database unavailable"},
		{"pg serialization", pgErr("40001"), "database busy"},
		{"constraint (real)", fmt.Errorf("store: commit x: %w", constraint), ""},
		{"pg unique violation", pgErr("23505"), ""},
		{"store check", errors.New("store: commit x: link y: not a differential"), ""},
		{"parse error", errors.New("parser: x.txt:3: field 4: not a number"), ""},
		{"not found", fmt.Errorf("ingest: read x: %w", source.ErrNotFound), ""},
		{"too large", source.ErrTooLarge, ""},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, reason, ok := envFault(tt.err)
			if ok != (tt.reason != "") || reason != tt.reason {
				t.Errorf("envFault(%v) = %q, %v; want %q", tt.err, reason, ok, tt.reason)
			}
		})
	}
}
