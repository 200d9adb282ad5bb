package tracker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Schema creates the processed_files table. It is portable SQL (SQLite and
// PostgreSQL). roundfeed's store creates the same table in its migrations;
// CreateTable runs this for users of the tracker alone.
//
// Times are BIGINT Unix milliseconds (0 = unset): one representation that
// both databases compare the same way, read with the injected clock's values
// rather than the database's own now().
const Schema = `CREATE TABLE IF NOT EXISTS processed_files (
	server         TEXT    NOT NULL,
	name           TEXT    NOT NULL,
	state          TEXT    NOT NULL,
	via            TEXT    NOT NULL DEFAULT '',
	attempts       INTEGER NOT NULL DEFAULT 0,
	last_error     TEXT    NOT NULL DEFAULT '',
	sha256         TEXT    NOT NULL DEFAULT '',
	size           BIGINT  NOT NULL DEFAULT 0,
	token          TEXT    NOT NULL DEFAULT '',
	lease_until_ms BIGINT  NOT NULL DEFAULT 0,
	retry_at_ms    BIGINT  NOT NULL DEFAULT 0,
	first_seen_ms  BIGINT  NOT NULL,
	updated_ms     BIGINT  NOT NULL,
	done_ms        BIGINT  NOT NULL DEFAULT 0,
	PRIMARY KEY (server, name)
);
CREATE INDEX IF NOT EXISTS processed_files_state ON processed_files (state, updated_ms);
`

// Dialect selects the placeholder style of the SQL tracker's statements.
type Dialect int

const (
	// SQLite uses "?" placeholders (also MySQL-style drivers).
	SQLite Dialect = iota
	// Postgres uses "$1, $2, ..." placeholders.
	Postgres
)

// String returns "sqlite" or "postgres".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// maxErrorLen bounds last_error: a parse error message names a line, not a
// whole file.
const maxErrorLen = 1000

// SQL is a Tracker over database/sql. Several processes may share one
// database: every state change is a single conditional statement (a
// compare-and-set on state and token), so two claimants never both win.
//
// It keeps two in-memory sets in front of the table: files this process has
// claimed and not settled (a second claim from this process is refused
// without a query), and files known done (from a committed read or
// NoteDone).
type SQL struct {
	db  *sql.DB
	cfg Config
	q   queries

	mu       sync.Mutex
	done     map[key]struct{}
	inflight map[key]time.Time // lease end of this process's claims
	stmts    map[string]*sql.Stmt
}

// maxDoneCache bounds the done set; when full it is cleared (it is only a cache).
const maxDoneCache = 200_000

var _ Tracker = (*SQL)(nil)
var _ DoneNoter = (*SQL)(nil)
var _ Counter = (*SQL)(nil)
var _ Postponer = (*SQL)(nil)

// NewSQL returns a tracker over db, whose processed_files table must exist
// (store migrations or CreateTable create it).
func NewSQL(db *sql.DB, cfg Config, d Dialect) (*SQL, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if db == nil {
		return nil, fmt.Errorf("%w: nil db", ErrInvalid)
	}
	return &SQL{db: db, cfg: cfg, q: newQueries(d), done: make(map[key]struct{}), inflight: make(map[key]time.Time)}, nil
}

// stmt returns the prepared statement of query, preparing it once: parsing
// costs SQLite more than running these statements.
//
// The mutex is not held while preparing: PrepareContext may wait for a
// connection, and the connections may all be held by transactions waiting
// for the one that needs the mutex (in cached, from MarkDone).
func (t *SQL) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := t.cached(query); st != nil {
		return st, nil
	}
	st, err := t.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.stmts[query]; ok {
		st.Close() // prepared twice concurrently; keep the first
		return old, nil
	}
	if t.stmts == nil {
		t.stmts = make(map[string]*sql.Stmt)
	}
	t.stmts[query] = st
	return st, nil
}

func (t *SQL) cached(query string) *sql.Stmt {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stmts[query]
}

func (t *SQL) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (t *SQL) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return t.db.QueryRowContext(ctx, query, args...) // reports the prepare error on Scan
	}
	return st.QueryRowContext(ctx, args...)
}

// Close releases the prepared statements (not the database).
func (t *SQL) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	for _, st := range t.stmts {
		errs = append(errs, st.Close())
	}
	t.stmts = nil
	return errors.Join(errs...)
}

// CreateTable creates processed_files if it does not exist.
func (t *SQL) CreateTable(ctx context.Context) error {
	for _, stmt := range strings.Split(Schema, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := t.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("tracker: create table: %w", err)
		}
	}
	return nil
}

type queries struct {
	insert, take, state, done, fail, quarantine, release, postpone, get, list, counts string
}

const cols = `server, name, state, via, attempts, last_error, sha256, size, lease_until_ms, retry_at_ms, first_seen_ms, updated_ms, done_ms`

func newQueries(d Dialect) queries {
	q := queries{
		insert: `INSERT INTO processed_files (server, name, state, via, token, lease_until_ms, first_seen_ms, updated_ms)
VALUES (?, ?, 'claimed', ?, ?, ?, ?, ?) ON CONFLICT (server, name) DO NOTHING`,
		take: `UPDATE processed_files SET state = 'claimed', token = ?, lease_until_ms = ?, retry_at_ms = 0, updated_ms = ?,
	attempts = CASE WHEN state = 'quarantined' THEN 0 ELSE attempts END
WHERE server = ? AND name = ? AND (
	(state = 'claimed' AND lease_until_ms <= ?)
	OR (state IN ('pending', 'failed') AND (retry_at_ms <= ? OR ? = 1))
	OR (state = 'quarantined' AND ? = 1))
RETURNING via, attempts, first_seen_ms`,
		state: `SELECT state, lease_until_ms, retry_at_ms FROM processed_files WHERE server = ? AND name = ?`,
		done: `UPDATE processed_files SET state = 'done', token = '', lease_until_ms = 0, sha256 = ?, size = ?, done_ms = ?, updated_ms = ?, last_error = ''
WHERE server = ? AND name = ? AND state = 'claimed' AND token = ?`,
		fail: `UPDATE processed_files SET attempts = attempts + 1, last_error = ?, token = '', lease_until_ms = 0, updated_ms = ?,
	state = CASE WHEN attempts + 1 >= ? THEN 'quarantined' ELSE 'failed' END,
	retry_at_ms = CASE WHEN attempts + 1 >= ? THEN 0 ELSE CAST(? AS BIGINT) END
WHERE server = ? AND name = ? AND state = 'claimed' AND token = ?
RETURNING state`,
		quarantine: `UPDATE processed_files SET attempts = attempts + 1, last_error = ?, token = '', lease_until_ms = 0, updated_ms = ?, state = 'quarantined', retry_at_ms = 0
WHERE server = ? AND name = ? AND state = 'claimed' AND token = ?`,
		release: `UPDATE processed_files SET state = 'pending', token = '', lease_until_ms = 0, retry_at_ms = ?, updated_ms = ?
WHERE server = ? AND name = ? AND state = 'claimed' AND token = ?`,
		postpone: `UPDATE processed_files SET state = 'pending', token = '', lease_until_ms = 0, retry_at_ms = ?, updated_ms = ?, last_error = ?
WHERE server = ? AND name = ? AND state = 'claimed' AND token = ?`,
		get:    `SELECT ` + cols + ` FROM processed_files WHERE server = ? AND name = ?`,
		list:   `SELECT ` + cols + ` FROM processed_files WHERE state = ? ORDER BY updated_ms DESC, server, name LIMIT ?`,
		counts: `SELECT state, COUNT(*) FROM processed_files GROUP BY state`,
	}
	if d == Postgres {
		for _, p := range []*string{&q.insert, &q.take, &q.state, &q.done, &q.fail, &q.quarantine, &q.release, &q.postpone, &q.get, &q.list, &q.counts} {
			*p = rebind(*p)
		}
	}
	return q
}

// rebind turns "?" placeholders into "$1, $2, ..." (the statements contain
// no "?" inside string literals).
func rebind(s string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func clip(s string) string {
	if len(s) <= maxErrorLen {
		return s
	}
	return s[:maxErrorLen]
}

// Claim implements Tracker.
func (t *SQL) Claim(ctx context.Context, r Request) (Claim, error) {
	if err := checkRequest(r); err != nil {
		return Claim{}, err
	}
	now := t.cfg.now()
	if t.cfg.tooOld(r, now) {
		return Claim{}, &ClaimError{Server: r.Server, Name: r.Name, Err: ErrTooOld}
	}
	k := key{r.Server, r.Name}
	t.mu.Lock()
	_, isDone := t.done[k]
	until, mine := t.inflight[k]
	t.mu.Unlock()
	if isDone {
		return Claim{}, &ClaimError{Server: r.Server, Name: r.Name, Err: ErrDone}
	}
	if mine && now.Before(until) {
		return Claim{}, &ClaimError{Server: r.Server, Name: r.Name, Err: ErrTaken, Until: until}
	}

	if t.cached(t.q.done) == nil {
		// Prepare the statements settled inside callers' transactions now,
		// outside any transaction (see settle). A failure only costs speed.
		for _, q := range []string{t.q.done, t.q.release, t.q.quarantine} {
			_, _ = t.stmt(ctx, q)
		}
	}
	tok := newToken()
	lease := now.Add(t.cfg.Lease)
	nowMS, leaseMS := ms(now), ms(lease)
	c := Claim{Server: r.Server, Name: r.Name, Token: tok, LeaseUntil: fromMS(leaseMS)}
	// Two rounds at most: a row can vanish between the statements only if
	// someone deletes it, and then the insert wins the second time.
	for range 2 {
		res, err := t.exec(ctx, t.q.insert, r.Server, r.Name, r.Via, tok, leaseMS, nowMS, nowMS)
		if err != nil {
			return Claim{}, fmt.Errorf("tracker: claim %s/%s: %w", r.Server, r.Name, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			c.Via, c.FirstSeen = r.Via, fromMS(nowMS)
			t.noteClaim(k, c.LeaseUntil)
			return c, nil
		}
		var first int64
		err = t.queryRow(ctx, t.q.take, tok, leaseMS, nowMS, r.Server, r.Name, nowMS, nowMS, b2i(r.Force), b2i(r.Force)).Scan(&c.Via, &c.Attempts, &first)
		if err == nil {
			c.FirstSeen = fromMS(first)
			t.noteClaim(k, c.LeaseUntil)
			return c, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Claim{}, fmt.Errorf("tracker: claim %s/%s: %w", r.Server, r.Name, err)
		}
		var st string
		var leaseEnd, retryAt int64
		err = t.queryRow(ctx, t.q.state, r.Server, r.Name).Scan(&st, &leaseEnd, &retryAt)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return Claim{}, fmt.Errorf("tracker: claim %s/%s: %w", r.Server, r.Name, err)
		}
		ce := &ClaimError{Server: r.Server, Name: r.Name}
		switch State(st) {
		case StateDone:
			ce.Err = ErrDone
			t.NoteDone(r.Server, r.Name)
		case StateQuarantined:
			ce.Err = ErrQuarantined
		case StatePending, StateFailed:
			ce.Err, ce.Until = ErrNotDue, fromMS(retryAt)
		default:
			// claimed, or a state that changed between the statements: the
			// lease end is the best answer.
			ce.Err, ce.Until = ErrTaken, fromMS(leaseEnd)
		}
		return Claim{}, ce
	}
	return Claim{}, fmt.Errorf("tracker: claim %s/%s: row vanished twice", r.Server, r.Name)
}

func (t *SQL) noteClaim(k key, until time.Time) {
	t.mu.Lock()
	t.inflight[k] = until
	t.mu.Unlock()
}

func (t *SQL) forget(c Claim) {
	t.mu.Lock()
	delete(t.inflight, key{c.Server, c.Name})
	t.mu.Unlock()
}

// NoteDone implements DoneNoter.
func (t *SQL) NoteDone(server, name string) {
	k := key{server, name}
	t.mu.Lock()
	if len(t.done) >= maxDoneCache {
		clear(t.done)
	}
	t.done[k] = struct{}{}
	delete(t.inflight, k)
	t.mu.Unlock()
}

// settle runs a conditional update that must touch exactly one row.
func (t *SQL) settle(ctx context.Context, ex Execer, op string, c Claim, query string, args ...any) error {
	if err := checkClaim(c); err != nil {
		return err
	}
	var res sql.Result
	var err error
	switch ex := ex.(type) {
	case *sql.DB:
		res, err = t.exec(ctx, query, args...)
	case *sql.Tx:
		// Only a statement prepared earlier: preparing now would take a
		// second connection from the pool while the transaction holds one.
		if st := t.cached(query); st != nil {
			res, err = ex.StmtContext(ctx, st).ExecContext(ctx, args...)
		} else {
			res, err = ex.ExecContext(ctx, query, args...)
		}
	default:
		res, err = ex.ExecContext(ctx, query, args...)
	}
	if err != nil {
		return fmt.Errorf("tracker: %s %s/%s: %w", op, c.Server, c.Name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("tracker: %s %s/%s: %w", op, c.Server, c.Name, err)
	}
	if n != 1 {
		return fmt.Errorf("tracker: %s %s/%s: %w", op, c.Server, c.Name, ErrLeaseLost)
	}
	return nil
}

// MarkDone implements Tracker. With a transaction the file enters the done
// set only at NoteDone, since the transaction may still roll back; until
// then claims from this process ask the table.
func (t *SQL) MarkDone(ctx context.Context, tx Execer, c Claim, d Digest) error {
	direct := tx == nil
	if direct {
		tx = t.db
	}
	now := ms(t.cfg.now())
	err := t.settle(ctx, tx, "mark done", c, t.q.done, d.SHA256, d.Size, now, now, c.Server, c.Name, c.Token)
	switch {
	case err == nil && direct:
		t.NoteDone(c.Server, c.Name)
	case err == nil:
		t.forget(c)
	}
	return err
}

// Fail implements Tracker.
func (t *SQL) Fail(ctx context.Context, c Claim, reason string, retryAt time.Time) (State, error) {
	if err := checkClaim(c); err != nil {
		return "", err
	}
	now := ms(t.cfg.now())
	var st string
	err := t.queryRow(ctx, t.q.fail, clip(reason), now, t.cfg.MaxAttempts, t.cfg.MaxAttempts, ms(retryAt), c.Server, c.Name, c.Token).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("tracker: fail %s/%s: %w", c.Server, c.Name, ErrLeaseLost)
	}
	if err != nil {
		return "", fmt.Errorf("tracker: fail %s/%s: %w", c.Server, c.Name, err)
	}
	t.forget(c)
	return State(st), nil
}

// Quarantine implements Tracker.
func (t *SQL) Quarantine(ctx context.Context, c Claim, reason string) error {
	err := t.settle(ctx, t.db, "quarantine", c, t.q.quarantine, clip(reason), ms(t.cfg.now()), c.Server, c.Name, c.Token)
	if err == nil {
		t.forget(c)
	}
	return err
}

// Release implements Tracker.
func (t *SQL) Release(ctx context.Context, c Claim, retryAt time.Time) error {
	err := t.settle(ctx, t.db, "release", c, t.q.release, ms(retryAt), ms(t.cfg.now()), c.Server, c.Name, c.Token)
	if err == nil {
		t.forget(c)
	}
	return err
}

// Postpone implements Postponer.
func (t *SQL) Postpone(ctx context.Context, c Claim, reason string, retryAt time.Time) error {
	err := t.settle(ctx, t.db, "postpone", c, t.q.postpone, ms(retryAt), ms(t.cfg.now()), clip(reason), c.Server, c.Name, c.Token)
	if err == nil {
		t.forget(c)
	}
	return err
}

type scanner interface{ Scan(dest ...any) error }

func scanRecord(s scanner) (Record, error) {
	var r Record
	var st string
	var lease, retry, first, upd, done int64
	if err := s.Scan(&r.Server, &r.Name, &st, &r.Via, &r.Attempts, &r.LastError, &r.SHA256, &r.Size, &lease, &retry, &first, &upd, &done); err != nil {
		return Record{}, err
	}
	r.State = State(st)
	r.LeaseUntil, r.RetryAt, r.FirstSeen, r.Updated, r.DoneAt = fromMS(lease), fromMS(retry), fromMS(first), fromMS(upd), fromMS(done)
	return r, nil
}

// Get implements Tracker.
func (t *SQL) Get(ctx context.Context, server, name string) (Record, error) {
	r, err := scanRecord(t.queryRow(ctx, t.q.get, server, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, fmt.Errorf("tracker: get %s/%s: %w", server, name, ErrNotFound)
	}
	if err != nil {
		return Record{}, fmt.Errorf("tracker: get %s/%s: %w", server, name, err)
	}
	return r, nil
}

// List implements Tracker.
func (t *SQL) List(ctx context.Context, state State, limit int) ([]Record, error) {
	if !state.Valid() {
		return nil, fmt.Errorf("%w: state %q", ErrInvalid, state)
	}
	if limit <= 0 {
		limit = 1 << 62 // "no limit" in a form both SQLite and PostgreSQL accept
	}
	rows, err := t.db.QueryContext(ctx, t.q.list, string(state), limit)
	if err != nil {
		return nil, fmt.Errorf("tracker: list %s: %w", state, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("tracker: list %s: %w", state, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tracker: list %s: %w", state, err)
	}
	return out, nil
}

// Counts implements Counter.
func (t *SQL) Counts(ctx context.Context) (map[State]int, error) {
	rows, err := t.db.QueryContext(ctx, t.q.counts)
	if err != nil {
		return nil, fmt.Errorf("tracker: counts: %w", err)
	}
	defer rows.Close()
	out := make(map[State]int)
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("tracker: counts: %w", err)
		}
		out[State(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tracker: counts: %w", err)
	}
	return out, nil
}
