package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/tracker"
)

// ErrNotFound is returned by lookups of one thing that is not there.
var ErrNotFound = errors.New("store: not found")

const candCols = `r.id, r.file_name, r.header_map, r.header_round, r.aborted, r.sha256,
COALESCE((SELECT MIN(p.file_name) FROM rounds p WHERE p.r1_round_id = r.id), '')`

// candidates runs a cached candidate query, inside tx when tx is not nil.
func (s *Store) candidates(ctx context.Context, tx *sql.Tx, op, query string, args ...any) ([]ingest.Candidate, error) {
	var rows *sql.Rows
	var err error
	st, cached := s.stmts.m[query]
	switch {
	case cached && tx != nil:
		rows, err = tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	case cached:
		rows, err = st.QueryContext(ctx, args...)
	case tx != nil:
		rows, err = tx.QueryContext(ctx, s.q(query), args...)
	default:
		rows, err = s.db.QueryContext(ctx, s.q(query), args...)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	defer rows.Close()
	var out []ingest.Candidate
	for rows.Next() {
		var c ingest.Candidate
		var name string
		var aborted int
		if err := rows.Scan(&c.RoundID, &name, &c.HeaderMap, &c.HeaderRound, &aborted, &c.SHA256, &c.PairedWith); err != nil {
			return nil, fmt.Errorf("store: %s: %w", op, err)
		}
		c.Aborted = aborted != 0
		if c.Name, err = parser.ParseFileName(name); err != nil {
			return nil, fmt.Errorf("store: %s: stored name %q: %w", op, name, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	return out, nil
}

const (
	r1CandSQL = `SELECT ` + candCols + ` FROM rounds r
WHERE r.server = ? AND r.map = ? AND r.round_number = 1 AND r.file_time_ms < ? AND r.file_time_ms >= ?
ORDER BY r.file_time_ms DESC, r.file_name`
	roundCandSQL = `SELECT ` + candCols + ` FROM rounds r
WHERE r.server = ? AND r.map = ? AND r.round_number = ? AND r.file_time_ms >= ? AND r.file_time_ms <= ?
ORDER BY ABS(r.file_time_ms - ?), r.file_name`
	orphanSQL = `SELECT ` + candCols + ` FROM rounds r
WHERE r.server = ? AND r.map = ? AND r.round_number = 2 AND r.r2_status = 'orphan' AND r.file_time_ms > ? AND r.file_time_ms <= ?
ORDER BY r.file_time_ms, r.file_name`
)

func (s *Store) r1Cands(ctx context.Context, tx *sql.Tx, server string, r2 parser.FileName, window time.Duration) ([]ingest.Candidate, error) {
	t := ms(r2.Time)
	return s.candidates(ctx, tx, "r1 candidates", r1CandSQL, server, r2.Map, t, t-window.Milliseconds())
}

func (s *Store) roundCands(ctx context.Context, tx *sql.Tx, server string, es parser.FileName, window time.Duration) ([]ingest.Candidate, error) {
	t := ms(es.Time)
	return s.candidates(ctx, tx, "round candidates", roundCandSQL, server, es.Map, es.Round, t-window.Milliseconds(), t+window.Milliseconds(), t)
}

func (s *Store) orphans(ctx context.Context, tx *sql.Tx, server string, r1 parser.FileName, window time.Duration) ([]ingest.Candidate, error) {
	t := ms(r1.Time)
	return s.candidates(ctx, tx, "orphan r2s", orphanSQL, server, r1.Map, t, t+window.Milliseconds())
}

// R1Candidates implements ingest.Store.
func (s *Store) R1Candidates(ctx context.Context, server string, r2 parser.FileName, window time.Duration) ([]ingest.Candidate, error) {
	return s.r1Cands(ctx, nil, server, r2, window)
}

// RoundCandidates implements ingest.Store.
func (s *Store) RoundCandidates(ctx context.Context, server string, es parser.FileName, window time.Duration) ([]ingest.Candidate, error) {
	return s.roundCands(ctx, nil, server, es, window)
}

// OrphanR2s implements ingest.Store.
func (s *Store) OrphanR2s(ctx context.Context, server string, r1 parser.FileName, window time.Duration) ([]ingest.Candidate, error) {
	return s.orphans(ctx, nil, server, r1, window)
}

// EndstatsLinkWindow is the endstats-to-round link rule's window
// (endstats-format.md section 5).
const EndstatsLinkWindow = 30 * time.Second

// HasRoundForEndstats reports whether a stats file that the endstats file es
// could link to (same map and round number, within EndstatsLinkWindow) is
// stored.
func (s *Store) HasRoundForEndstats(ctx context.Context, server string, es parser.FileName) (bool, error) {
	c, err := s.RoundCandidates(ctx, server, es, EndstatsLinkWindow)
	return len(c) > 0, err
}

// dueSQL leases the due items to one owner and returns them. The outer
// WHERE repeats the conditions: under PostgreSQL's READ COMMITTED, a row
// another replica leased meanwhile is re-checked against them after its
// lock is released, and skipped. SKIP LOCKED (PostgreSQL) passes over rows
// another replica is leasing at this moment instead of waiting.
const dueSQL = `UPDATE outbox SET lease_owner = ?, lease_until_ms = ?
WHERE id IN (SELECT id FROM outbox
	WHERE message_id = '' AND dead = 0 AND next_attempt_ms <= ? AND (lease_until_ms <= ? OR lease_owner = ?)
	ORDER BY id LIMIT ?%s)
AND message_id = '' AND dead = 0 AND (lease_until_ms <= ? OR lease_owner = ?)
RETURNING id, server, file_name, kind, nonce, payload, attempts, last_error, created_ms, next_attempt_ms`

// Due implements ingest.Outbox. The items it returns are leased to this
// Store for Options.OutboxLease: a Store sharing the database (another
// replica) gets other items, so two replicas never post the same item at
// the same time; this Store gets them again (a Flush cut short). Sent and
// Failed end the lease; after a crash it expires.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]ingest.OutboxItem, error) {
	if limit <= 0 {
		limit = 100
	}
	skip := ""
	if s.d == Postgres {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	n := ms(now)
	rows, err := s.db.QueryContext(ctx, s.q(fmt.Sprintf(dueSQL, skip)),
		s.owner, ms(now.Add(s.lease)), n, n, s.owner, limit, n, s.owner)
	if err != nil {
		return nil, fmt.Errorf("store: outbox due: %w", err)
	}
	defer rows.Close()
	var out []ingest.OutboxItem
	for rows.Next() {
		var it ingest.OutboxItem
		var kind, payload string
		var created, next int64
		if err := rows.Scan(&it.ID, &it.Server, &it.File, &kind, &it.Nonce, &payload, &it.Attempts, &it.LastError, &created, &next); err != nil {
			return nil, fmt.Errorf("store: outbox due: %w", err)
		}
		it.Kind, it.Created, it.NextAttempt = ingest.PostKind(kind), fromMS(created), fromMS(next)
		if err := json.Unmarshal([]byte(payload), &it.Post); err != nil {
			return nil, fmt.Errorf("store: outbox item %d: payload: %w", it.ID, err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: outbox due: %w", err)
	}
	// RETURNING has no order.
	slices.SortFunc(out, func(a, b ingest.OutboxItem) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Sent implements ingest.Outbox.
func (s *Store) Sent(ctx context.Context, id int64, messageID string, at time.Time) error {
	if messageID == "" {
		return fmt.Errorf("store: outbox item %d: empty message id", id)
	}
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE outbox SET message_id = ?, sent_ms = ?, last_error = '', lease_owner = '', lease_until_ms = 0 WHERE id = ? AND message_id = ''`),
		messageID, ms(at), id); err != nil {
		return fmt.Errorf("store: outbox item %d: sent: %w", id, err)
	}
	return nil
}

// Failed implements ingest.Outbox.
func (s *Store) Failed(ctx context.Context, id int64, reason string, next time.Time, giveUp bool) (int, error) {
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_ms = ?, dead = ?, lease_owner = '', lease_until_ms = 0
WHERE id = ? AND message_id = '' RETURNING attempts`), reason, ms(next), b2i(giveUp), id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: outbox item %d: %w (or already sent)", id, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("store: outbox item %d: failed: %w", id, err)
	}
	return n, nil
}

// RetryPost puts a given-up outbox item back in the queue (a status
// command's "retry"), resetting its attempts.
func (s *Store) RetryPost(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE outbox SET dead = 0, attempts = 0, next_attempt_ms = 0, lease_owner = '', lease_until_ms = 0 WHERE id = ? AND message_id = ''`), id)
	if err != nil {
		return fmt.Errorf("store: retry post %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: retry post %d: %w (or already sent)", id, ErrNotFound)
	}
	return nil
}

// Backlog summarises the outbox.
type Backlog struct {
	// Pending are unsent items still being tried.
	Pending int
	// GivenUp are unsent items no longer tried (too many failures or a
	// permanent one); they stay until a retry command.
	GivenUp int
	// Sent are delivered items.
	Sent int
	// Oldest is the creation time of the oldest pending item (zero if none).
	Oldest time.Time
}

// OutboxBacklog returns the outbox summary for status output.
func (s *Store) OutboxBacklog(ctx context.Context) (Backlog, error) {
	var b Backlog
	var oldest int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT
	COALESCE(SUM(CASE WHEN message_id = '' AND dead = 0 THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN message_id = '' AND dead = 1 THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN message_id <> '' THEN 1 ELSE 0 END), 0),
	COALESCE(MIN(CASE WHEN message_id = '' AND dead = 0 THEN created_ms END), 0)
FROM outbox`)).Scan(&b.Pending, &b.GivenUp, &b.Sent, &oldest)
	if err != nil {
		return Backlog{}, fmt.Errorf("store: outbox backlog: %w", err)
	}
	b.Oldest = fromMS(oldest)
	return b, nil
}

// GivenUpPosts lists the outbox items no longer tried, newest first.
func (s *Store) GivenUpPosts(ctx context.Context, limit int) ([]ingest.OutboxItem, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, server, file_name, kind, nonce, attempts, last_error, created_ms
FROM outbox WHERE message_id = '' AND dead = 1 ORDER BY id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: given-up posts: %w", err)
	}
	defer rows.Close()
	var out []ingest.OutboxItem
	for rows.Next() {
		var it ingest.OutboxItem
		var kind string
		var created int64
		if err := rows.Scan(&it.ID, &it.Server, &it.File, &kind, &it.Nonce, &it.Attempts, &it.LastError, &created); err != nil {
			return nil, fmt.Errorf("store: given-up posts: %w", err)
		}
		it.Kind, it.Created = ingest.PostKind(kind), fromMS(created)
		out = append(out, it)
	}
	return out, rows.Err()
}

// Counts returns the number of tracked files in each state.
func (s *Store) Counts(ctx context.Context) (map[tracker.State]int, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT state, COUNT(*) FROM processed_files GROUP BY state`))
	if err != nil {
		return nil, fmt.Errorf("store: counts: %w", err)
	}
	defer rows.Close()
	out := make(map[tracker.State]int)
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("store: counts: %w", err)
		}
		out[tracker.State(st)] = n
	}
	return out, rows.Err()
}

// Quarantined lists quarantined files, most recent first, with their last
// error (which names the file and line for a parse error).
func (s *Store) Quarantined(ctx context.Context, limit int) ([]tracker.Record, error) {
	return s.tr.List(ctx, tracker.StateQuarantined, limit)
}

// LastProcessed returns the most recently imported file of server ("" for
// any server), or ErrNotFound.
func (s *Store) LastProcessed(ctx context.Context, server string) (tracker.Record, error) {
	var srv, name string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT server, name FROM processed_files
WHERE state = 'done' AND (server = ? OR ? = '') ORDER BY done_ms DESC, name DESC LIMIT 1`), server, server).Scan(&srv, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return tracker.Record{}, fmt.Errorf("store: last processed: %w", ErrNotFound)
	}
	if err != nil {
		return tracker.Record{}, fmt.Errorf("store: last processed: %w", err)
	}
	return s.tr.Get(ctx, srv, name)
}

// FailoverEvent is one stored transition or alert.
type FailoverEvent struct {
	ID       int64
	Server   string
	At       time.Time
	Kind     string // "transition" or "alert"
	From, To string // modes, for transitions
	Alert    string // alert kind, for alerts
	Reason   string
}

// RecordFailover stores the transitions and alerts of one machine result.
func (s *Store) RecordFailover(ctx context.Context, server string, r failover.Result) error {
	if r.Empty() {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: record failover: %w", err)
	}
	defer tx.Rollback()
	for _, t := range r.Transitions {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO failover_events (server, at_ms, kind, from_mode, to_mode, reason) VALUES (?, ?, 'transition', ?, ?, ?)`),
			server, ms(t.At), t.From.String(), t.To.String(), t.Reason); err != nil {
			return fmt.Errorf("store: record failover: %w", err)
		}
	}
	for _, a := range r.Alerts {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO failover_events (server, at_ms, kind, alert, reason) VALUES (?, ?, 'alert', ?, ?)`),
			server, ms(a.At), a.Kind.String(), a.Reason); err != nil {
			return fmt.Errorf("store: record failover: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: record failover: %w", err)
	}
	return nil
}

// FailoverEvents returns stored events, newest first.
func (s *Store) FailoverEvents(ctx context.Context, limit int) ([]FailoverEvent, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, server, at_ms, kind, from_mode, to_mode, alert, reason
FROM failover_events ORDER BY at_ms DESC, id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: failover events: %w", err)
	}
	defer rows.Close()
	var out []FailoverEvent
	for rows.Next() {
		var e FailoverEvent
		var at int64
		if err := rows.Scan(&e.ID, &e.Server, &at, &e.Kind, &e.From, &e.To, &e.Alert, &e.Reason); err != nil {
			return nil, fmt.Errorf("store: failover events: %w", err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Round is a stored round, for tests and the bot's lookups.
type Round struct {
	ID          int64
	Server      string
	File        string
	Map         string
	RoundNumber int
	SHA256      string
	Size        int64
	Via         string
	MVP         string
	// R2Status is "" for a round-1 file, else differential/orphan/error.
	R2Status string
	R1File   string
	// RawPlayers and DiffPlayers count the player_stats rows of each kind;
	// Weapons counts weapon_stats rows.
	RawPlayers, DiffPlayers, Weapons int
}

// Round looks up one stored round, or ErrNotFound.
func (s *Store) Round(ctx context.Context, server, file string) (Round, error) {
	var r Round
	var mvp sql.NullString
	err := s.db.QueryRowContext(ctx, s.q(`SELECT r.id, r.server, r.file_name, r.map, r.round_number, r.sha256, r.size, r.via, r.mvp, r.r2_status, r.r1_file,
	(SELECT COUNT(*) FROM player_stats p WHERE p.round_id = r.id AND p.kind = 'raw'),
	(SELECT COUNT(*) FROM player_stats p WHERE p.round_id = r.id AND p.kind = 'diff'),
	(SELECT COUNT(*) FROM weapon_stats w WHERE w.round_id = r.id)
FROM rounds r WHERE r.server = ? AND r.file_name = ?`), server, file).Scan(
		&r.ID, &r.Server, &r.File, &r.Map, &r.RoundNumber, &r.SHA256, &r.Size, &r.Via, &mvp, &r.R2Status, &r.R1File,
		&r.RawPlayers, &r.DiffPlayers, &r.Weapons)
	if errors.Is(err, sql.ErrNoRows) {
		return Round{}, fmt.Errorf("store: round %s/%s: %w", server, file, ErrNotFound)
	}
	if err != nil {
		return Round{}, fmt.Errorf("store: round %s/%s: %w", server, file, err)
	}
	r.MVP = mvp.String
	return r, nil
}

// EndstatsFile is a stored endstats file.
type EndstatsFile struct {
	ID     int64
	Server string
	File   string
	// RoundFile is the linked stats file, "" when unlinked.
	RoundFile      string
	Awards, Versus int
}

// Endstats looks up one stored endstats file, or ErrNotFound.
func (s *Store) Endstats(ctx context.Context, server, file string) (EndstatsFile, error) {
	var e EndstatsFile
	err := s.db.QueryRowContext(ctx, s.q(`SELECT e.id, e.server, e.file_name, COALESCE(r.file_name, ''),
	(SELECT COUNT(*) FROM endstats_awards a WHERE a.endstats_id = e.id),
	(SELECT COUNT(*) FROM endstats_vs v WHERE v.endstats_id = e.id)
FROM endstats e LEFT JOIN rounds r ON r.id = e.round_id WHERE e.server = ? AND e.file_name = ?`), server, file).Scan(
		&e.ID, &e.Server, &e.File, &e.RoundFile, &e.Awards, &e.Versus)
	if errors.Is(err, sql.ErrNoRows) {
		return EndstatsFile{}, fmt.Errorf("store: endstats %s/%s: %w", server, file, ErrNotFound)
	}
	if err != nil {
		return EndstatsFile{}, fmt.Errorf("store: endstats %s/%s: %w", server, file, err)
	}
	return e, nil
}
