// Package store is roundfeed's SQL store, on SQLite (the default) or
// PostgreSQL: the schema (embedded, versioned migrations per dialect), a way
// to open the database with the right settings (Open, OpenURL), the
// implementation of ingest.Store and ingest.Outbox, and the queries a bot's
// status commands need.
//
// The tracker's table (processed_files) lives in the same database, and the
// store marks files done through the tracker inside the import's
// transaction: the import of a round, the done mark and its outbox rows
// commit together or not at all. Use a tracker.SQL on the same *sql.DB.
//
// Drivers: modernc.org/sqlite (pure Go), registered as "sqlite", and
// github.com/jackc/pgx/v5 through database/sql, registered as "pgx". The
// statements are written once with "?" placeholders and rewritten to $n for
// PostgreSQL; the migrations differ only in column types (see
// migrations/postgres).
//
// Several processes may share one PostgreSQL database (bot replicas): file
// claims are the tracker's compare-and-set rows, outbox rows are leased by
// Due, and a commit takes a transaction-scoped advisory lock on its server
// and map so that the pairing check inside it sees the other replicas'
// committed rounds (SQLite gets the same from its single writer).
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/roundfeed/roundfeed/tracker"
	"modernc.org/sqlite"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// MaxConns is the connection pool size Open and OpenURL set.
const MaxConns = 8

// BusyTimeout is how long a connection waits for another writer before
// failing with SQLITE_BUSY.
const BusyTimeout = 10 * time.Second

// DSN returns the data source name Open uses for the file at path: WAL
// journal (readers never block the writer), synchronous=NORMAL (safe with
// WAL: a power cut can lose the last transactions but never corrupts),
// foreign keys on, a busy timeout, and immediate transactions (a write
// transaction takes the write lock at BEGIN, so two writers queue on the
// busy timeout instead of one failing at its first write).
func DSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.Itoa(int(BusyTimeout/time.Millisecond))+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the SQLite database at path with the
// pragmas of DSN and applies the migrations. The caller closes the DB.
func Open(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// Keep connections (and the statements prepared on them): the default
	// of two idle connections would close and reopen the file, re-run the
	// pragmas and re-prepare statements whenever more than two workers ran.
	// Writers queue on SQLite's lock anyway, so a few connections suffice.
	db.SetMaxOpenConns(MaxConns)
	db.SetMaxIdleConns(MaxConns)
	if err := Migrate(context.Background(), db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Dialects, for callers that import store but not tracker.
const (
	SQLite   = tracker.SQLite
	Postgres = tracker.Postgres
)

// OpenURL opens the database a bot is configured with and applies the
// migrations: PostgreSQL when dbURL is a postgres:// or postgresql:// URL
// (the DB_URL setting), else, when dbURL is empty, the SQLite file at
// sqlitePath (Open). It returns the dialect to hand to tracker.NewSQL:
//
//	db, dialect, err := store.OpenURL(ctx, os.Getenv("DB_URL"), "roundfeed.db")
//	tr, err := tracker.NewSQL(db, cfg, dialect)
//	st, err := store.New(db, tr)
//
// Errors never contain the URL's password. The caller closes the DB.
func OpenURL(ctx context.Context, dbURL, sqlitePath string) (*sql.DB, tracker.Dialect, error) {
	if strings.TrimSpace(dbURL) == "" {
		db, err := Open(sqlitePath)
		return db, SQLite, err
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		// url.Parse's error quotes the URL, password included.
		return nil, 0, errors.New("store: DB_URL is not a valid URL")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, 0, fmt.Errorf("store: DB_URL scheme %q: want postgres:// (or leave DB_URL empty for SQLite)", u.Scheme)
	}
	shown := u.Redacted()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return nil, 0, fmt.Errorf("store: open %s: %w", shown, err)
	}
	db.SetMaxOpenConns(MaxConns)
	db.SetMaxIdleConns(MaxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, 0, fmt.Errorf("store: open %s: %w", shown, err)
	}
	if err := Migrate(ctx, db); err != nil {
		db.Close()
		return nil, 0, err
	}
	return db, Postgres, nil
}

// DialectOf tells which dialect db speaks, from its driver: Postgres for
// pgx, SQLite otherwise.
func DialectOf(db *sql.DB) tracker.Dialect {
	switch db.Driver().(type) {
	case *stdlib.Driver:
		return Postgres
	case *sqlite.Driver:
		return SQLite
	}
	return SQLite
}

// rebind rewrites a statement's "?" placeholders for dialect d ("$1, $2,
// ..." for PostgreSQL). The statements contain no "?" in string literals.
func rebind(d tracker.Dialect, q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// Migration is one embedded schema version.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded SQLite migrations in version order (see
// MigrationsFor).
func Migrations() ([]Migration, error) { return MigrationsFor(SQLite) }

// MigrationsFor returns the embedded migrations of dialect d in version
// order. File names are NNNN_name.sql, the same versions and names for
// every dialect; a migration, once released, is never edited: changes come
// as a new file.
func MigrationsFor(d tracker.Dialect) ([]Migration, error) {
	dir := "migrations/sqlite"
	if d == Postgres {
		dir = "migrations/postgres"
	}
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("store: migration %s: name is not NNNN_name.sql", name)
		}
		b, err := migrations.ReadFile(path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("store: migration %s: expected version %d", m.Name, i+1)
		}
	}
	return out, nil
}

// migrateLock is the PostgreSQL advisory lock key Migrate holds ("rfmigrat").
const migrateLock = 0x72666d6967726174

// Migrate applies the migrations the database has not seen, each in its own
// transaction, recording them in schema_migrations. The dialect comes from
// db's driver (DialectOf). Running it again, or from two processes at once
// (replicas starting together), is harmless: on PostgreSQL it holds an
// advisory lock, on SQLite the write lock serialises it. A database newer
// than this code is refused.
func Migrate(ctx context.Context, db *sql.DB) error {
	d := DialectOf(db)
	ms, err := MigrationsFor(d)
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Close()
	if d == Postgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLock)); err != nil {
			return fmt.Errorf("store: migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrateLock))
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_ms BIGINT  NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, m := range ms {
		if err := apply(ctx, conn, d, m); err != nil {
			return err
		}
	}
	var top int
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&top); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if top > len(ms) {
		return fmt.Errorf("store: migrate: database schema version %d is newer than this program's %d", top, len(ms))
	}
	return nil
}

func apply(ctx context.Context, conn *sql.Conn, d tracker.Dialect, m Migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migration %s: %w", m.Name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, rebind(d, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.Version).Scan(&n); err != nil {
		return fmt.Errorf("store: migration %s: %w", m.Name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("store: migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, rebind(d, `INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)`),
		m.Version, m.Name, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("store: migration %s: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migration %s: %w", m.Name, err)
	}
	return nil
}
