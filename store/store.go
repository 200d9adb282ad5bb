package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/tracker"
)

// Store implements ingest.Store and ingest.Outbox over a database opened
// with Open or OpenURL. It is safe for concurrent use, and several Stores
// (in several processes) may share one database.
type Store struct {
	db    *sql.DB
	tr    tracker.Tracker
	d     tracker.Dialect
	stmts stmtCache
	// owner identifies this Store's outbox leases; lease is their length.
	owner string
	lease time.Duration
}

// Options are a Store's settings beyond New's.
type Options struct {
	// OutboxLease is how long the items Due returns are reserved for this
	// Store: another Store sharing the database (a replica) does not send
	// them meanwhile; after a crash they are sent by another once it ends.
	// It must exceed the longest publish. Default DefaultOutboxLease.
	OutboxLease time.Duration
}

// DefaultOutboxLease is Options.OutboxLease's default.
const DefaultOutboxLease = 2 * time.Minute

var (
	_ ingest.Store  = (*Store)(nil)
	_ ingest.Outbox = (*Store)(nil)
)

// New returns a Store on db that marks files done through tr. tr must write
// to the same database (a tracker.SQL on db): otherwise the done mark is not
// part of the import's transaction.
//
// The dialect comes from db's driver (DialectOf).
func New(db *sql.DB, tr tracker.Tracker) (*Store, error) {
	return NewWith(db, tr, Options{})
}

// NewWith is New with options.
func NewWith(db *sql.DB, tr tracker.Tracker, o Options) (*Store, error) {
	if db == nil || tr == nil {
		return nil, errors.New("store: new: nil db or tracker")
	}
	if o.OutboxLease < 0 {
		return nil, fmt.Errorf("store: new: outbox lease %v: must not be negative", o.OutboxLease)
	}
	if o.OutboxLease == 0 {
		o.OutboxLease = DefaultOutboxLease
	}
	var tok [12]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, fmt.Errorf("store: new: %w", err)
	}
	s := &Store{db: db, tr: tr, d: DialectOf(db), owner: hex.EncodeToString(tok[:]), lease: o.OutboxLease}
	queries := append(insertShapes(), insertRoundSQL, insertEndstatsSQL, insertOutboxSQL, linkSQL, r1CandSQL, roundCandSQL, orphanSQL, lockSQL)
	if err := s.stmts.warm(context.Background(), db, s.d, queries); err != nil {
		return nil, fmt.Errorf("store: new (is the database migrated? store.Open does it): %w", err)
	}
	return s, nil
}

// DB returns the database.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns the database's dialect.
func (s *Store) Dialect() tracker.Dialect { return s.d }

// q returns query in the Store's dialect.
func (s *Store) q(query string) string { return rebind(s.d, query) }

// lockSQL takes PostgreSQL's transaction-scoped advisory lock of a server
// and map (see lockKey).
const lockSQL = `SELECT pg_advisory_xact_lock(?)`

// lockKey is the advisory lock key of a server's map: the pairing and link
// decisions of a commit depend only on rounds of the same server and map.
func lockKey(server, mp string) int64 {
	h := fnv.New64a()
	h.Write([]byte(server))
	h.Write([]byte{0})
	h.Write([]byte(mp))
	return int64(h.Sum64())
}

// Commit implements ingest.Store.
func (s *Store) Commit(ctx context.Context, imp *ingest.Import) error {
	name := imp.Event.Name.Raw
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: commit %s: %w", name, err)
	}
	defer tx.Rollback()
	if s.d == Postgres {
		// Serialise commits of one server's map across replicas, so that the
		// basis check below sees every round committed before this one (on
		// SQLite, BEGIN IMMEDIATE serialises all writers).
		if _, err := s.exec(ctx, tx, lockSQL, lockKey(imp.Event.Server, imp.Event.Name.Map)); err != nil {
			return fmt.Errorf("store: commit %s: lock: %w", name, err)
		}
	}
	if err := s.checkBasis(ctx, tx, imp); err != nil {
		return fmt.Errorf("store: commit %s: %w", name, err)
	}
	switch {
	case imp.Stats != nil:
		err = s.insertRound(ctx, tx, imp)
	case imp.Endstats != nil:
		err = s.insertEndstats(ctx, tx, imp)
	default:
		err = errors.New("neither stats nor endstats")
	}
	if err != nil {
		return fmt.Errorf("store: commit %s: %w", name, err)
	}
	if err := s.tr.MarkDone(ctx, tx, imp.Claim, imp.Digest); err != nil {
		return fmt.Errorf("store: commit %s: %w", name, err)
	}
	for _, p := range imp.Posts {
		payload, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("store: commit %s: post: %w", name, err)
		}
		if _, err := s.exec(ctx, tx, insertOutboxSQL,
			p.Server, p.File, string(p.Kind), ingest.Nonce(p.Server, p.File, p.Kind), string(payload), ms(imp.At)); err != nil {
			return fmt.Errorf("store: commit %s: outbox: %w", name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit %s: %w", name, err)
	}
	if n, ok := s.tr.(tracker.DoneNoter); ok {
		n.NoteDone(imp.Claim.Server, imp.Claim.Name)
	}
	return nil
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

// fl stores NaN as NULL (SQLite cannot store NaN).
func fl(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullStr(ok bool, s string) any {
	if !ok {
		return nil
	}
	return s
}

func nullInt(ok bool, v int) any {
	if !ok {
		return nil
	}
	return v
}

func joinInts(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

const roundCols = `server, file_name, file_time_ms, map, round_number, sha256, size, parse_mode, via, imported_ms,
field_count, server_name, header_map, config, round_raw, header_round, defender_raw, winner_raw,
defender_team, winner_team, defender_normalized, winner_normalized, side_reasons, timelimit, actual_time,
playtime_raw, playtime_seconds, round_time_seconds, aborted, skipped_lines,
score_confidence, round_outcome, stopwatch_state, time_to_beat_seconds, next_timelimit_minutes, mvp,
total_players, bot_player_count, human_player_count, is_bot_round,
r2_status, r1_round_id, r1_file, pair_confidence, r2_warning, r2_error, r2_mvp`

var insertRoundSQL = `INSERT INTO rounds (` + roundCols + `) VALUES (` + placeholders(strings.Count(roundCols, ",")+1) +
	`) ON CONFLICT (server, file_name) DO NOTHING RETURNING id`

const (
	awardCols         = "endstats_id, position, line_no, title, player, value, numeric"
	vsCols            = "endstats_id, position, line_no, subject, subject_guid, player, kills, deaths"
	insertEndstatsSQL = `INSERT INTO endstats (server, file_name, file_time_ms, map, round_number, match_id, sha256, size,
parse_mode, via, imported_ms, round_id, link_delta_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (server, file_name) DO NOTHING RETURNING id`
	insertOutboxSQL = `INSERT INTO outbox (server, file_name, kind, nonce, payload, created_ms)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (nonce) DO NOTHING`
	linkSQL = `UPDATE rounds SET r2_status = ?, r1_round_id = ?, r1_file = ?, pair_confidence = ?, r2_warning = ?, r2_mvp = ?
WHERE id = ? AND r2_status = 'orphan'`
)

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func (s *Store) insertRound(ctx context.Context, tx *sql.Tx, imp *ingest.Import) error {
	st, h, rd := imp.Stats, &imp.Stats.Header, &imp.Stats.Round
	fn := imp.Event.Name
	var playtime any
	if h.PlaytimeKnown {
		playtime = fl(h.PlaytimeSeconds)
	}
	var r2Status, r1File, pairConf, warn, r2Err string
	var r1ID, r2MVP any
	if imp.R2 != nil {
		r := imp.R2
		r2Status, r1File, pairConf, warn = r.Status, r.R1File, r.PairConfidence, r.Warning
		if r.Error != "" {
			r2Err = r.Error + ": " + r.ErrorDetail
		}
		if r.HasRound {
			r2MVP = nullStr(r.Round.HasMVP, r.Round.MVP)
		}
		if r.Status == parser.StatusDifferential && imp.R1 != nil {
			r1ID = imp.R1.RoundID
		}
	}
	args := []any{
		imp.Event.Server, fn.Raw, ms(fn.Time), fn.Map, fn.Round, imp.Digest.SHA256, imp.Digest.Size, st.Mode.String(), string(imp.Event.Via), ms(imp.At),
		h.FieldCount, h.ServerName, h.Map, h.Config, h.RoundRaw, h.Round, h.DefenderRaw, h.WinnerRaw,
		h.DefenderTeam, h.WinnerTeam, h.DefenderNormalized, h.WinnerNormalized, strings.Join(h.SideReasons, ","), h.Timelimit, h.ActualTime,
		nullStr(h.HasPlaytime, h.PlaytimeRaw), playtime, h.RoundTimeSeconds, b2i(st.Aborted), joinInts(st.SkippedLines()),
		rd.ScoreConfidence, rd.RoundOutcome, rd.StopwatchState, nullInt(rd.HasTimeToBeat, rd.TimeToBeatSeconds),
		nullInt(rd.HasNextTimelimit, rd.NextTimelimitMinutes), nullStr(rd.HasMVP, rd.MVP),
		rd.TotalPlayers, rd.BotPlayerCount, rd.HumanPlayerCount, b2i(rd.IsBotRound),
		r2Status, r1ID, r1File, pairConf, warn, r2Err, r2MVP,
	}
	var id int64
	err := s.queryRow(ctx, tx, insertRoundSQL, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return ingest.ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("round: %w", err)
	}
	rows := make([]playerRow, 0, len(st.Players))
	for i := range st.Players {
		rows = append(rows, rawRow(i, &st.Players[i]))
	}
	if err := s.insertPlayers(ctx, tx, id, kindRaw, rows); err != nil {
		return err
	}
	if imp.R2 != nil && imp.R2.Status == parser.StatusDifferential {
		if err := s.insertDiff(ctx, tx, id, imp.R2); err != nil {
			return err
		}
	}
	for _, l := range imp.Links {
		if err := s.link(ctx, tx, id, fn.Raw, l); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) insertDiff(ctx context.Context, tx *sql.Tx, roundID int64, r *parser.R2) error {
	rows := make([]playerRow, 0, len(r.Players))
	for i := range r.Players {
		rows = append(rows, diffRow(i, &r.Players[i]))
	}
	return s.insertPlayers(ctx, tx, roundID, kindDiff, rows)
}

func (s *Store) insertEndstats(ctx context.Context, tx *sql.Tx, imp *ingest.Import) error {
	e := imp.Endstats
	fn := imp.Event.Name
	var roundID, delta any
	if imp.Round != nil {
		roundID, delta = imp.Round.RoundID, imp.LinkDelta
	}
	var id int64
	err := s.queryRow(ctx, tx, insertEndstatsSQL,
		imp.Event.Server, fn.Raw, ms(fn.Time), fn.Map, fn.Round, e.MatchID, imp.Digest.SHA256, imp.Digest.Size,
		e.Mode.String(), string(imp.Event.Via), ms(imp.At), roundID, delta).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return ingest.ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("endstats: %w", err)
	}
	aw := make([][]any, len(e.Awards))
	for i, a := range e.Awards {
		var num any
		if a.HasNumber {
			num = fl(a.Number)
		}
		aw[i] = []any{id, i, a.Line, a.Title, a.Player, a.Value, num}
	}
	if err := s.insertMany(ctx, tx, "endstats_awards", awardCols, aw); err != nil {
		return err
	}
	vs := make([][]any, len(e.Versus))
	for i, v := range e.Versus {
		vs[i] = []any{id, i, v.Line, nullStr(v.HasSubject, v.Subject), nullStr(v.HasSubjectGUID, v.SubjectGUID), v.Player, v.Kills, v.Deaths}
	}
	return s.insertMany(ctx, tx, "endstats_vs", vsCols, vs)
}

// maxParams bounds the placeholders of one statement (SQLite's limit is
// 32766 since 3.32; PostgreSQL's 65535).
const maxParams = 30000

// maxChunk is the most rows one INSERT carries.
const maxChunk = 16

// insertMany inserts rows with multi-row VALUES statements, in chunks of a
// power of two rows so that a handful of prepared statements per table
// serve every row count: parsing a 68-column statement costs more than
// running it, and one statement per row would cost a statement step each.
func (s *Store) insertMany(ctx context.Context, tx *sql.Tx, table, cols string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	n := strings.Count(cols, ",") + 1
	limit := min(maxChunk, max(1, maxParams/n))
	for start := 0; start < len(rows); {
		size := 1
		for size*2 <= min(limit, len(rows)-start) {
			size *= 2
		}
		chunk := rows[start : start+size]
		start += size
		args := make([]any, 0, size*n)
		for _, r := range chunk {
			if len(r) != n {
				return fmt.Errorf("%s: row of %d values for %d columns", table, len(r), n)
			}
			args = append(args, r...)
		}
		if _, err := s.exec(ctx, tx, insertSQL(table, cols, n, size), args...); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
	}
	return nil
}

// stmtCache holds the statements prepared when the Store was made, keyed
// by their "?" text (prepared in the Store's dialect). A
// statement prepared on the *sql.DB is reused by tx.StmtContext on each
// connection (prepared there once, on the transaction's own connection).
// Nothing is prepared later: preparing on the *sql.DB inside a transaction
// would take a second connection from a bounded pool while the transaction
// holds one, and with every connection held by a transaction waiting for
// SQLite's write lock that would deadlock until the busy timeout.
type stmtCache struct {
	m map[string]*sql.Stmt // read-only after warm
}

func (c *stmtCache) warm(ctx context.Context, db *sql.DB, d tracker.Dialect, queries []string) error {
	c.m = make(map[string]*sql.Stmt, len(queries))
	for _, q := range queries {
		if q == lockSQL && d != Postgres {
			continue
		}
		st, err := db.PrepareContext(ctx, rebind(d, q))
		if err != nil {
			c.close()
			return err
		}
		c.m[q] = st
	}
	return nil
}

func (c *stmtCache) close() error {
	var errs []error
	for _, st := range c.m {
		errs = append(errs, st.Close())
	}
	c.m = nil
	return errors.Join(errs...)
}

// insertSQL is the INSERT of rows rows into table.
func insertSQL(table, cols string, n, rows int) string {
	one := "(" + placeholders(n) + ")"
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + cols + ") VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}

// insertShapes lists every multi-row INSERT insertMany uses.
func insertShapes() []string {
	var out []string
	for _, t := range []struct{ table, cols string }{
		{"player_stats", playerCols}, {"weapon_stats", weaponCols},
		{"endstats_awards", awardCols}, {"endstats_vs", vsCols},
	} {
		n := strings.Count(t.cols, ",") + 1
		limit := min(maxChunk, max(1, maxParams/n))
		for size := 1; size <= limit; size *= 2 {
			out = append(out, insertSQL(t.table, t.cols, n, size))
		}
	}
	return out
}

// exec runs a statement inside tx, prepared if it is one of the cache's.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st, ok := s.stmts.m[query]; ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, s.q(query), args...)
}

// queryRow runs a single-row query inside tx, prepared if cached.
func (s *Store) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st, ok := s.stmts.m[query]; ok {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, s.q(query), args...)
}

// Close releases the Store's prepared statements (not the database).
func (s *Store) Close() error { return s.stmts.close() }

// checkBasis re-runs, inside the transaction, the lookup the import's
// pairing or linking decision was made on (see ingest.Import.Basis).
func (s *Store) checkBasis(ctx context.Context, tx *sql.Tx, imp *ingest.Import) error {
	fn := imp.Event.Name
	var cands []ingest.Candidate
	var err error
	switch {
	case imp.Stats != nil && imp.Stats.File.IsRound2ByName:
		cands, err = s.r1Cands(ctx, tx, imp.Event.Server, fn, imp.Window)
	case imp.Stats != nil:
		cands, err = s.orphans(ctx, tx, imp.Event.Server, fn, imp.Window)
	case imp.Endstats != nil:
		cands, err = s.roundCands(ctx, tx, imp.Event.Server, fn, imp.Window)
	}
	if err != nil {
		return err
	}
	ids := make([]int64, len(cands))
	for i, c := range cands {
		ids[i] = c.RoundID
	}
	want := slices.Clone(imp.Basis)
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		return ingest.ErrConflict
	}
	return nil
}

// link records that the orphan round l.R2 pairs with round r1ID and stores
// its differential. A round no longer an orphan is left alone.
func (s *Store) link(ctx context.Context, tx *sql.Tx, r1ID int64, r1File string, l ingest.Link) error {
	d := l.Result
	if d == nil || d.Status != parser.StatusDifferential {
		return fmt.Errorf("link %s: not a differential", l.R2.Name.Raw)
	}
	var mvp any
	if d.HasRound {
		mvp = nullStr(d.Round.HasMVP, d.Round.MVP)
	}
	res, err := s.exec(ctx, tx, linkSQL, d.Status, r1ID, r1File, d.PairConfidence, d.Warning, mvp, l.R2.RoundID)
	if err != nil {
		return fmt.Errorf("link %s: %w", l.R2.Name.Raw, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	if err := s.insertDiff(ctx, tx, l.R2.RoundID, d); err != nil {
		return fmt.Errorf("link %s: %w", l.R2.Name.Raw, err)
	}
	return nil
}
