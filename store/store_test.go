package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/store"
	"github.com/roundfeed/roundfeed/store/pgtest"
	"github.com/roundfeed/roundfeed/tracker"
	"github.com/roundfeed/roundfeed/tracker/trackertest"
)

// A stats file in the writer's format: one player with a "nan" and a "NaN"
// in float fields (SQLite cannot store NaN: the store writes NULL).
const nanR1 = "Broken Test\\nan_map\\legacy3\\1\\1\\2\\10:00\\7:35\\455200\n" +
	"0A1B2C3D\\^2Solid\\0\\1\\48 120 400 9 7 30 10 60 3 2 4 \t2100\t1500\t0\t12\t3\t1\t0\t0\t81.5\t44\t4\t3\t5\t0\t2\t0\t0\t1\t0\t2\t460\tnan\t10.1\tNaN\t18.3\t1.8\t1.6\t3\t71\t1\t0\t0\t0\t0\t2\t0\t0\t0\n" +
	"9F8E7D6C\\^4Other\\0\\2\\32 80 350 6 8 20 \t1700\t1900\t20\t0\t1\t0\t0\t0\t77.0\t30\t0\t3\t2\t1\t1\t0\t0\t0\t0\t1\t350\t0.0\t10.1\t0.0\t21.0\t2.1\t0.8\t2\t40\t0\t0\t0\t0\t0\t1\t1\t0\t0\n"

const window = 45 * time.Minute

const (
	r1Name = "2026-01-15-223000-nan_map-round-1.txt"
	r2Name = "2026-01-15-224500-nan_map-round-2.txt"
	esName = "2026-01-15-222959-nan_map-round-1-endstats.txt"
)

type env struct {
	t     *testing.T
	ctx   context.Context
	db    *sql.DB
	tr    *tracker.SQL
	st    *store.Store
	clock *trackertest.Clock
}

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// dialects runs f on a fresh SQLite database and on a fresh PostgreSQL one
// (skipped when PostgreSQL is not installed, failed when CI=true).
func dialects(t *testing.T, f func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { f(t, newEnv(t, tracker.SQLite)) })
	t.Run("postgres", func(t *testing.T) { f(t, newEnv(t, tracker.Postgres)) })
}

// openDB opens a fresh, migrated database of dialect d.
func openDB(t *testing.T, d tracker.Dialect) *sql.DB {
	t.Helper()
	u := ""
	if d == tracker.Postgres {
		u = pgtest.URL(t)
	}
	db, got, err := store.OpenURL(context.Background(), u, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if got != d || store.DialectOf(db) != d {
		t.Fatalf("OpenURL dialect %v, DialectOf %v; want %v", got, store.DialectOf(db), d)
	}
	return db
}

func newEnv(t *testing.T, d tracker.Dialect) *env {
	t.Helper()
	db := openDB(t, d)
	clock := trackertest.NewClock(time.Date(2026, 1, 15, 23, 0, 0, 0, time.UTC))
	return newEnvOn(t, db, clock)
}

// newEnvOn makes another env (another replica) on db with its own tracker
// and store.
func newEnvOn(t *testing.T, db *sql.DB, clock *trackertest.Clock) *env {
	t.Helper()
	cfg := tracker.DefaultConfig()
	cfg.Now = clock.Now
	tr, err := tracker.NewSQL(db, cfg, store.DialectOf(db))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.New(db, tr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(); tr.Close() })
	return &env{t: t, ctx: context.Background(), db: db, tr: tr, st: st, clock: clock}
}

// q rewrites a test query's placeholders for the env's dialect.
func (e *env) q(query string) string {
	if e.st.Dialect() != tracker.Postgres {
		return query
	}
	n := 0
	return regexp.MustCompile(`\?`).ReplaceAllStringFunc(query, func(string) string { n++; return "$" + strconv.Itoa(n) })
}

func mustName(t *testing.T, s string) parser.FileName {
	t.Helper()
	n, err := parser.ValidateName(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// importStats claims and commits a stats file; r2 may be nil.
func (e *env) importStats(name, data string, r2 *parser.R2, r1 *ingest.Candidate, links ...ingest.Link) error {
	e.t.Helper()
	var basis []ingest.Candidate
	var err error
	if strings.Contains(name, "-round-2.txt") {
		basis, err = e.st.R1Candidates(e.ctx, "main", mustName(e.t, name), window)
	} else {
		basis, err = e.st.OrphanR2s(e.ctx, "main", mustName(e.t, name), window)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []int64
	for _, c := range basis {
		ids = append(ids, c.RoundID)
	}
	st, err := parser.ParseStats(name, []byte(data), parser.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.tr.Claim(e.ctx, tracker.Request{Server: "main", Name: name, Via: "poll"})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.st.Commit(e.ctx, &ingest.Import{
		Event: source.Event{Server: "main", Name: mustName(e.t, name), Via: source.ViaPoll},
		Claim: c, Digest: tracker.Digest{SHA256: st.File.SHA256, Size: int64(len(data))}, At: e.clock.Now(),
		Stats: st, R2: r2, R1: r1, Links: links, Basis: ids, Window: window,
		Posts: []ingest.Post{ingest.RoundPost("main", st, r2)},
	})
}

func (e *env) count(q string) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRow(q).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestMigrateIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	for range 2 {
		db, err := store.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var v int
		if err := db.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || v != 2 {
			t.Fatalf("schema version %d, %v", v, err)
		}
		for _, p := range []struct{ pragma, want string }{{"journal_mode", "wal"}, {"foreign_keys", "1"}, {"busy_timeout", "10000"}} {
			var got string
			if err := db.QueryRow("PRAGMA " + p.pragma).Scan(&got); err != nil || got != p.want {
				t.Errorf("PRAGMA %s = %q, %v; want %q", p.pragma, got, err, p.want)
			}
		}
		db.Close()
	}
	for _, d := range []tracker.Dialect{tracker.SQLite, tracker.Postgres} {
		ms, err := store.MigrationsFor(d)
		if err != nil || len(ms) != 2 || ms[0].Version != 1 || ms[1].Name != "0002_outbox_lease.sql" {
			t.Fatalf("migrations of %v: %+v, %v", d, ms, err)
		}
	}
}

// Replicas starting together migrate one PostgreSQL database at once.
func TestMigratePostgresConcurrent(t *testing.T) {
	u := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, _, err := store.OpenURL(context.Background(), u, "")
			if err == nil {
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	db, d, err := store.OpenURL(context.Background(), u, "")
	if err != nil || d != tracker.Postgres {
		t.Fatalf("reopen: %v, %v", d, err)
	}
	defer db.Close()
	var n, v int
	if err := db.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &v); err != nil || n != 2 || v != 2 {
		t.Errorf("schema_migrations: %d rows, version %d, %v", n, v, err)
	}
}

// OpenURL: empty selects SQLite, postgres:// PostgreSQL; other schemes are
// refused; a password never appears in an error.
func TestOpenURL(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, url, want string
	}{
		{"unknown scheme", "mysql://u:s3cret@db/x", `scheme "mysql"`},
		{"unparsable", "postgres://u:s3cret@[::1/x", "not a valid URL"},
		{"unreachable", "postgres://u:s3cret@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", "127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, _, err := store.OpenURL(ctx, tc.url, "")
			if err == nil {
				db.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q: want %q and no password", err, tc.want)
			}
		})
	}
	db, d, err := store.OpenURL(ctx, "", filepath.Join(t.TempDir(), "x.db"))
	if err != nil || d != tracker.SQLite {
		t.Fatalf("empty URL: %v, %v", d, err)
	}
	db.Close()
}

// Two stores (replicas) on one database: Due leases items to the store
// that got them; the other gets them only after the lease ends or once
// they failed; the leaseholder gets them again.
func TestOutboxLeases(t *testing.T) { dialects(t, testOutboxLeases) }

func testOutboxLeases(t *testing.T, a *env) {
	b := newEnvOn(t, a.db, a.clock)
	if err := a.importStats(r1Name, nanR1, nil, nil); err != nil {
		t.Fatal(err)
	}
	due := func(e *env) int {
		t.Helper()
		items, err := e.st.Due(e.ctx, e.clock.Now(), 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(items)
	}
	if n := due(a); n != 1 {
		t.Fatalf("a: %d due, want 1", n)
	}
	if n := due(b); n != 0 {
		t.Errorf("b while a holds the lease: %d due, want 0", n)
	}
	if n := due(a); n != 1 {
		t.Errorf("a again (its own lease): %d due, want 1", n)
	}
	a.clock.Advance(store.DefaultOutboxLease)
	items, err := b.st.Due(b.ctx, b.clock.Now(), 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("b after a's lease: %+v, %v", items, err)
	}
	if n := due(a); n != 0 {
		t.Errorf("a while b holds the lease: %d due, want 0", n)
	}
	if _, err := b.st.Failed(b.ctx, items[0].ID, "503", time.Time{}, false); err != nil {
		t.Fatal(err)
	}
	if n := due(a); n != 1 {
		t.Errorf("a after b's failure: %d due, want 1", n)
	}
}

// A round 1 and its round 2 committed at the same moment by two replicas,
// each decided on a basis without the other: exactly one commit must see
// the other and be refused with ErrConflict (on PostgreSQL the advisory
// lock of the map serialises them; on SQLite the write lock).
func TestConcurrentPairCommits(t *testing.T) { dialects(t, testConcurrentPairCommits) }

func testConcurrentPairCommits(t *testing.T, a *env) {
	b := newEnvOn(t, a.db, a.clock)
	r2data := strings.Replace(nanR1, "\\1\\1\\2\\", "\\2\\1\\2\\", 1)
	for day := 1; day <= 12; day++ {
		r1 := fmt.Sprintf("2026-02-%02d-223000-nan_map-round-1.txt", day)
		r2 := fmt.Sprintf("2026-02-%02d-224500-nan_map-round-2.txt", day)
		r1st, err := parser.ParseStats(r1, []byte(nanR1), parser.Options{})
		if err != nil {
			t.Fatal(err)
		}
		r2st, err := parser.ParseStats(r2, []byte(r2data), parser.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c1, err := a.tr.Claim(a.ctx, tracker.Request{Server: "main", Name: r1})
		if err != nil {
			t.Fatal(err)
		}
		c2, err := b.tr.Claim(b.ctx, tracker.Request{Server: "main", Name: r2})
		if err != nil {
			t.Fatal(err)
		}
		imp1 := &ingest.Import{Event: source.Event{Server: "main", Name: mustName(t, r1)}, Claim: c1, At: a.clock.Now(),
			Stats: r1st, Window: window, Posts: []ingest.Post{ingest.RoundPost("main", r1st, nil)}}
		imp2 := &ingest.Import{Event: source.Event{Server: "main", Name: mustName(t, r2)}, Claim: c2, At: a.clock.Now(),
			Stats: r2st, R2: parser.Orphan(r2st, ""), Window: window, Posts: []ingest.Post{ingest.RoundPost("main", r2st, nil)}}
		var err1, err2 error
		var wg sync.WaitGroup
		wg.Go(func() { err1 = a.st.Commit(a.ctx, imp1) })
		wg.Go(func() { err2 = b.st.Commit(b.ctx, imp2) })
		wg.Wait()
		c1ok, c2ok := err1 == nil, err2 == nil
		if c1ok == c2ok || (!c1ok && !errors.Is(err1, ingest.ErrConflict)) || (!c2ok && !errors.Is(err2, ingest.ErrConflict)) {
			t.Fatalf("day %d: r1 commit %v, r2 commit %v; want exactly one ErrConflict", day, err1, err2)
		}
	}
}

// The store's processed_files must be the tracker's table, column for column.
func TestTrackerSchemaMatches(t *testing.T) { dialects(t, testTrackerSchemaMatches) }

func testTrackerSchemaMatches(t *testing.T, e *env) {
	var other *sql.DB
	if e.st.Dialect() == tracker.Postgres {
		other = pgtest.DB(t)
	} else {
		var err error
		if other, err = sql.Open("sqlite", store.DSN(filepath.Join(t.TempDir(), "t.db"))); err != nil {
			t.Fatal(err)
		}
		defer other.Close()
	}
	tr, err := tracker.NewSQL(other, tracker.DefaultConfig(), e.st.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.CreateTable(e.ctx); err != nil {
		t.Fatal(err)
	}
	query := `SELECT name, type, COALESCE(dflt_value, ''), "notnull", pk FROM pragma_table_info('processed_files')`
	if e.st.Dialect() == tracker.Postgres {
		query = `SELECT column_name, data_type, COALESCE(column_default, ''), CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END, 0
FROM information_schema.columns WHERE table_name = 'processed_files' ORDER BY ordinal_position`
	}
	cols := func(db *sql.DB) []string {
		rows, err := db.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var name, typ, dflt string
			var notnull, pk int
			if err := rows.Scan(&name, &typ, &dflt, &notnull, &pk); err != nil {
				t.Fatal(err)
			}
			out = append(out, strings.Join([]string{name, typ, dflt}, " ")+string(rune('0'+notnull))+string(rune('0'+pk)))
		}
		return out
	}
	if a, b := cols(e.db), cols(other); !slices.Equal(a, b) || len(a) != 14 {
		t.Errorf("store processed_files %v\ntracker processed_files %v", a, b)
	}
}

func TestCommitRoundAndLookups(t *testing.T) { dialects(t, testCommitRoundAndLookups) }

func testCommitRoundAndLookups(t *testing.T, e *env) {
	if err := e.importStats(r1Name, nanR1, nil, nil); err != nil {
		t.Fatal(err)
	}
	r, err := e.st.Round(e.ctx, "main", r1Name)
	if err != nil {
		t.Fatal(err)
	}
	if r.RawPlayers != 2 || r.Weapons != 3 || r.Map != "nan_map" || r.RoundNumber != 1 || r.Via != "poll" || r.Size != int64(len(nanR1)) {
		t.Errorf("round = %+v", r)
	}
	var dpm, tank sql.NullFloat64
	if err := e.db.QueryRow(`SELECT x_dpm, x_tank_meatshield FROM player_stats WHERE name = 'Solid'`).Scan(&dpm, &tank); err != nil {
		t.Fatal(err)
	}
	if dpm.Valid || tank.Valid {
		t.Errorf("NaN fields stored as %v, %v; want NULL", dpm, tank)
	}
	if rec, err := e.tr.Get(e.ctx, "main", r1Name); err != nil || rec.State != tracker.StateDone {
		t.Errorf("tracker: %+v, %v", rec, err)
	}
	last, err := e.st.LastProcessed(e.ctx, "main")
	if err != nil || last.Name != r1Name {
		t.Errorf("last processed %+v, %v", last, err)
	}
	if _, err := e.st.LastProcessed(e.ctx, "other"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("last processed of another server: %v", err)
	}
	if _, err := e.st.Round(e.ctx, "main", "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing round: %v", err)
	}
	// Candidates.
	cands, err := e.st.R1Candidates(e.ctx, "main", mustName(t, r2Name), 45*time.Minute)
	if err != nil || len(cands) != 1 || cands[0].Name.Raw != r1Name || cands[0].HeaderMap != "nan_map" || cands[0].HeaderRound != 1 {
		t.Errorf("r1 candidates %+v, %v", cands, err)
	}
	if cands, _ := e.st.R1Candidates(e.ctx, "main", mustName(t, r2Name), 10*time.Minute); len(cands) != 0 {
		t.Errorf("r1 candidates outside the window: %+v", cands)
	}
	for _, tc := range []struct {
		name string
		want bool
	}{
		{esName, true},
		{"2026-01-15-222900-nan_map-round-1-endstats.txt", false}, // 60 s earlier
		{"2026-01-15-222959-nan_map-round-2-endstats.txt", false}, // other round
	} {
		if got, err := e.st.HasRoundForEndstats(e.ctx, "main", mustName(t, tc.name)); err != nil || got != tc.want {
			t.Errorf("HasRoundForEndstats(%s) = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	counts, err := e.st.Counts(e.ctx)
	if err != nil || counts[tracker.StateDone] != 1 {
		t.Errorf("counts %v, %v", counts, err)
	}
}

// A commit under a stale claim rolls back: nothing stored, no post queued.
func TestCommitRollsBackOnLostLease(t *testing.T) { dialects(t, testCommitRollsBackOnLostLease) }

func testCommitRollsBackOnLostLease(t *testing.T, e *env) {
	st, err := parser.ParseStats(r1Name, []byte(nanR1), parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stale, err := e.tr.Claim(e.ctx, tracker.Request{Server: "main", Name: r1Name})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Minute)
	if _, err := e.tr.Claim(e.ctx, tracker.Request{Server: "main", Name: r1Name}); err != nil {
		t.Fatal(err)
	}
	err = e.st.Commit(e.ctx, &ingest.Import{
		Event: source.Event{Server: "main", Name: mustName(t, r1Name)}, Claim: stale, Stats: st, At: e.clock.Now(),
		Posts: []ingest.Post{ingest.RoundPost("main", st, nil)},
	})
	if !errors.Is(err, tracker.ErrLeaseLost) {
		t.Fatalf("commit: %v, want ErrLeaseLost", err)
	}
	for _, table := range []string{"rounds", "player_stats", "weapon_stats", "outbox"} {
		if n := e.count("SELECT COUNT(*) FROM " + table); n != 0 {
			t.Errorf("%s has %d rows after the rollback", table, n)
		}
	}
}

// An R2 stored as an orphan, then linked to its R1.
func TestOrphanAndLink(t *testing.T) { dialects(t, testOrphanAndLink) }

func testOrphanAndLink(t *testing.T, e *env) {
	r2data := strings.Replace(nanR1, "\\1\\1\\2\\", "\\2\\1\\2\\", 1)
	r2st, err := parser.ParseStats(r2Name, []byte(r2data), parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.importStats(r2Name, r2data, parser.Orphan(r2st, ""), nil); err != nil {
		t.Fatal(err)
	}
	orphans, err := e.st.OrphanR2s(e.ctx, "main", mustName(t, r1Name), window)
	if err != nil || len(orphans) != 1 || orphans[0].Name.Raw != r2Name {
		t.Fatalf("orphans %+v, %v", orphans, err)
	}
	r1st, _ := parser.ParseStats(r1Name, []byte(nanR1), parser.Options{})
	d := parser.Differential(r1st, r2st, parser.Options{})
	// The R1's commit links the orphan in its own transaction.
	if err := e.importStats(r1Name, nanR1, nil, nil, ingest.Link{R2: orphans[0], Result: d}); err != nil {
		t.Fatal(err)
	}
	r, _ := e.st.Round(e.ctx, "main", r2Name)
	if r.R2Status != parser.StatusDifferential || r.R1File != r1Name || r.DiffPlayers != 2 {
		t.Errorf("linked round %+v", r)
	}
	if cands, _ := e.st.R1Candidates(e.ctx, "main", mustName(t, r2Name), 45*time.Minute); cands[0].PairedWith != r2Name {
		t.Errorf("R1 candidate after the link: %+v", cands[0])
	}
	if orphans, _ := e.st.OrphanR2s(e.ctx, "main", mustName(t, r1Name), 45*time.Minute); len(orphans) != 0 {
		t.Errorf("still orphans: %+v", orphans)
	}
}

func TestFailoverEvents(t *testing.T) { dialects(t, testFailoverEvents) }

func testFailoverEvents(t *testing.T, e *env) {
	at := time.Date(2026, 1, 15, 22, 0, 0, 0, time.UTC)
	r := failover.Result{
		Transitions: []failover.Transition{{From: failover.PollingOn, To: failover.PollingOff, Reason: "push healthy", At: at}},
		Alerts:      []failover.Alert{{Kind: failover.AlertHeartbeat, Reason: "no push for 15m", At: at.Add(time.Hour)}},
	}
	if err := e.st.RecordFailover(e.ctx, "main", r); err != nil {
		t.Fatal(err)
	}
	if err := e.st.RecordFailover(e.ctx, "main", failover.Result{}); err != nil {
		t.Fatal(err)
	}
	evs, err := e.st.FailoverEvents(e.ctx, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("events %+v, %v", evs, err)
	}
	if evs[0].Kind != "alert" || evs[0].Alert != "heartbeat" || !evs[0].At.Equal(at.Add(time.Hour)) {
		t.Errorf("newest event %+v", evs[0])
	}
	if evs[1].Kind != "transition" || evs[1].From != "on" || evs[1].To != "off" || evs[1].Reason != "push healthy" {
		t.Errorf("oldest event %+v", evs[1])
	}
}

// Each post is queued once per nonce; Sent keeps the first message ID.
func TestOutbox(t *testing.T) { dialects(t, testOutbox) }

func testOutbox(t *testing.T, e *env) {
	if err := e.importStats(r1Name, nanR1, nil, nil); err != nil {
		t.Fatal(err)
	}
	items, err := e.st.Due(e.ctx, e.clock.Now(), 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("due %+v, %v", items, err)
	}
	it := items[0]
	if it.Nonce != ingest.Nonce("main", r1Name, ingest.PostRound) || it.Post.Kind != ingest.PostRound || it.Post.Map != "nan_map" || len(it.Post.Players) != 2 {
		t.Errorf("item %+v", it)
	}
	if n, err := e.st.Failed(e.ctx, it.ID, "503", e.clock.Now().Add(time.Minute), false); err != nil || n != 1 {
		t.Fatalf("failed: %d, %v", n, err)
	}
	if items, _ := e.st.Due(e.ctx, e.clock.Now(), 10); len(items) != 0 {
		t.Errorf("due before the retry time: %+v", items)
	}
	for _, id := range []string{"m1", "m2"} {
		if err := e.st.Sent(e.ctx, it.ID, id, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	var msg string
	if err := e.db.QueryRow(e.q(`SELECT message_id FROM outbox WHERE id = ?`), it.ID).Scan(&msg); err != nil || msg != "m1" {
		t.Errorf("message id %q, %v; want the first", msg, err)
	}
	if _, err := e.st.Failed(e.ctx, it.ID, "late", time.Time{}, false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("failing a sent item: %v", err)
	}
	b, err := e.st.OutboxBacklog(e.ctx)
	if err != nil || b != (store.Backlog{Sent: 1}) {
		t.Errorf("backlog %+v, %v", b, err)
	}
}

// A commit whose pairing basis changed (another worker committed a file it
// depends on) is refused with ErrConflict and rolled back.
func TestCommitConflict(t *testing.T) { dialects(t, testCommitConflict) }

func testCommitConflict(t *testing.T, e *env) {
	r2data := strings.Replace(nanR1, "\\1\\1\\2\\", "\\2\\1\\2\\", 1)
	r2st, err := parser.ParseStats(r2Name, []byte(r2data), parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.tr.Claim(e.ctx, tracker.Request{Server: "main", Name: r2Name})
	if err != nil {
		t.Fatal(err)
	}
	// Decided "orphan" on an empty basis; then the R1 commits.
	imp := &ingest.Import{Event: source.Event{Server: "main", Name: mustName(t, r2Name)}, Claim: c, At: e.clock.Now(),
		Stats: r2st, R2: parser.Orphan(r2st, ""), Window: window}
	if err := e.importStats(r1Name, nanR1, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Commit(e.ctx, imp); !errors.Is(err, ingest.ErrConflict) {
		t.Fatalf("commit on a stale basis: %v, want ErrConflict", err)
	}
	if _, err := e.st.Round(e.ctx, "main", r2Name); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("round stored despite the conflict: %v", err)
	}
	if rec, _ := e.tr.Get(e.ctx, "main", r2Name); rec.State != tracker.StateClaimed {
		t.Errorf("tracker state %s, want still claimed", rec.State)
	}
}
