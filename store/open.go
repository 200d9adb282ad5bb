// Package store is roundfeed's SQLite store: the schema (embedded, versioned
// migrations), a way to open the database with the right pragmas, the
// implementation of ingest.Store and ingest.Outbox, and the queries a bot's
// status commands need.
//
// The tracker's table (processed_files) lives in the same database, and the
// store marks files done through the tracker inside the import's
// transaction: the import of a round, the done mark and its outbox rows
// commit together or not at all. Use a tracker.SQL on the same *sql.DB.
//
// Driver: modernc.org/sqlite (pure Go), registered as "sqlite".
package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// MaxConns is the connection pool size Open sets.
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

// Migration is one embedded schema version.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations in version order. File names
// are NNNN_name.sql; a migration, once released, is never edited: changes
// come as a new file.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
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
		b, err := migrations.ReadFile(path.Join("migrations", name))
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

// Migrate applies the migrations the database has not seen, each in its own
// transaction, recording them in schema_migrations. Running it again (or from
// two processes at once) is harmless. A database newer than this code is
// refused.
func Migrate(ctx context.Context, db *sql.DB) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_ms BIGINT  NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, m := range ms {
		if err := apply(ctx, db, m); err != nil {
			return err
		}
	}
	var top int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&top); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if top > len(ms) {
		return fmt.Errorf("store: migrate: database schema version %d is newer than this program's %d", top, len(ms))
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, m Migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migration %s: %w", m.Name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return fmt.Errorf("store: migration %s: %w", m.Name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("store: migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("store: migration %s: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migration %s: %w", m.Name, err)
	}
	return nil
}
