package ingest_test

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/store"
	"github.com/roundfeed/roundfeed/tracker"
)

// logRecorder is a slog.Handler keeping the messages logged at each level.
type logRecorder struct {
	mu  sync.Mutex
	got map[slog.Level][]string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.got == nil {
		l.got = map[slog.Level][]string{}
	}
	l.got[r.Level] = append(l.got[r.Level], r.Message)
	return nil
}

func (l *logRecorder) lines(level slog.Level, prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.got[level] {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// rebuild replaces e's pipeline by one with the same parts, st as its
// store, and a recorded log.
func (e *env) rebuild(st ingest.Store) *logRecorder {
	e.t.Helper()
	logs := &logRecorder{}
	p, err := ingest.New(e.cfg, ingest.Deps{Tracker: e.tr, Store: st, Fetchers: map[string]source.Fetcher{"main": e.src},
		Reporter: e.rep, Notify: e.snd.Notify, Logger: slog.New(logs), Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	e.p = p
	return logs
}

// retryOutage processes name at each of its retry times for span of
// virtual time while the environment fails, and checks that every try
// leaves it pending with no attempt counted, the reason in status, and a
// retry at most RetryMax ahead. It returns the number of tries.
func (e *env) retryOutage(name string, span time.Duration, reason string) int {
	e.t.Helper()
	start := e.clock.Now()
	tries := 0
	for e.clock.Now().Sub(start) < span {
		via := source.ViaPoll
		if tries == 0 {
			via = source.ViaWebhook
		}
		r := e.process(name, via)
		tries++
		if r.Status != ingest.Failed || !strings.Contains(r.Reason, reason+" (not counted)") {
			e.t.Fatalf("try %d at +%v: %s (%s, %v), want failed: %s (not counted)", tries, e.clock.Now().Sub(start), r.Status, r.Reason, r.Err, reason)
		}
		rec := e.record(name)
		if rec.State != tracker.StatePending || rec.Attempts != 0 || !strings.HasPrefix(rec.LastError, reason+" (not counted): ") {
			e.t.Fatalf("try %d: record %+v, want pending, no attempt, last error %q...", tries, rec, reason+" (not counted): ")
		}
		wait := rec.RetryAt.Sub(e.clock.Now())
		if wait <= 0 || wait > e.cfg.RetryMax {
			e.t.Fatalf("try %d: retry in %v, want within (0, RetryMax]", tries, wait)
		}
		e.clock.Advance(wait)
	}
	return tries
}

// An archive that cannot be written (its server folder replaced by a file,
// like a full or read-only disk) for 40 minutes, many attempt-lengths:
// the file stays pending with no attempt counted, one Error line marks the
// outage, the webhook's push path is not blamed, and the file is imported
// once the folder is fixed.
func TestArchiveUnwritableNotCounted(t *testing.T) {
	e := newEnv(t, nil)
	logs := e.rebuild(e.st)
	e.put(iceR1)
	if err := os.MkdirAll(e.cfg.ArchiveDir, 0o755); err != nil {
		t.Fatal(err)
	}
	blocker := filepath.Join(e.cfg.ArchiveDir, "main")
	if err := os.WriteFile(blocker, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	tries := e.retryOutage(iceR1, 40*time.Minute, "archive unwritable")
	if tries < 3*e.cfg.MaxAttempts {
		t.Errorf("only %d tries in the outage", tries)
	}
	m := e.p.Metrics()
	if m.EnvFailures != uint64(tries) || m.EnvOutage != "archive" || m.Quarantined != 0 {
		t.Errorf("metrics %+v, want %d environment failures, outage archive, none quarantined", m, tries)
	}
	if n := logs.lines(slog.LevelError, "ingest: environment failure"); n != 1 {
		t.Errorf("%d Error lines for one outage, want 1", n)
	}
	if got := e.rep.outcomes(); len(got) != 0 {
		t.Errorf("reported %v to the failover machine, want nothing (the push path worked)", got)
	}

	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	e.want(iceR1, source.ViaPoll, ingest.Imported)
	if rec := e.record(iceR1); rec.State != tracker.StateDone || rec.Attempts != 0 {
		t.Errorf("record %+v, want done with no attempt", rec)
	}
	if _, err := os.Stat(filepath.Join(blocker, iceR1)); err != nil {
		t.Errorf("not archived after the fix: %v", err)
	}
	if m := e.p.Metrics(); m.EnvOutage != "" {
		t.Errorf("outage %q after the fix", m.EnvOutage)
	}
	if n := logs.lines(slog.LevelInfo, "ingest: environment recovered"); n != 1 {
		t.Errorf("%d recovery lines, want 1", n)
	}
}

// lockedStore is the real store, whose commits meet a write transaction of
// another connection on the same SQLite file while locked is set (the
// other transaction ends after the commit failed, like a backup or a
// second process holding the lock in bursts).
type lockedStore struct {
	*store.Store
	other  *sql.DB
	locked atomic.Bool
}

func (s *lockedStore) Commit(ctx context.Context, imp *ingest.Import) error {
	if !s.locked.Load() {
		return s.Store.Commit(ctx, imp)
	}
	tx, err := s.other.BeginTx(ctx, nil) // BEGIN IMMEDIATE: takes the write lock
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE processed_files SET updated_ms = updated_ms`); err != nil {
		return err
	}
	return s.Store.Commit(ctx, imp)
}

// openShortBusy opens the SQLite file at path like store.Open does, with a
// short busy timeout so that a locked database fails fast in tests.
func openShortBusy(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(20)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := store.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

// A database locked by another connection's write transaction for longer
// than a few attempts: first at every commit (SQLITE_BUSY after the claim),
// then for whole tries (the claim itself refused). The file stays pending
// with no attempt counted and is imported once the lock is gone.
func TestDatabaseLockedNotCounted(t *testing.T) {
	e := newEnv(t, nil)
	path := filepath.Join(t.TempDir(), "locked.db")
	e.db = openShortBusy(t, path)
	var err error
	if e.tr, err = tracker.NewSQL(e.db, e.cfg.TrackerConfig(e.clock.Now), tracker.SQLite); err != nil {
		t.Fatal(err)
	}
	if e.st, err = store.New(e.db, e.tr); err != nil {
		t.Fatal(err)
	}
	ls := &lockedStore{Store: e.st, other: openShortBusy(t, path)}
	logs := e.rebuild(ls)
	e.put(iceR1)

	ls.locked.Store(true)
	tries := e.retryOutage(iceR1, 20*time.Minute, "database busy")
	if tries < 2*e.cfg.MaxAttempts {
		t.Errorf("only %d tries while locked at commit", tries)
	}

	// Locked for whole tries: the claim is refused, nothing changes.
	ls.locked.Store(false)
	tx, err := ls.other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e.clock.Advance(e.cfg.RetryMax)
		r := e.process(iceR1, source.ViaPoll)
		if r.Status != ingest.Failed || r.Reason != "claim: database busy (not counted)" {
			t.Fatalf("locked try %d: %s (%s, %v), want failed: claim: database busy (not counted)", i+1, r.Status, r.Reason, r.Err)
		}
		if rec := e.record(iceR1); rec.State != tracker.StatePending || rec.Attempts != 0 {
			t.Fatalf("locked try %d: record %+v, want pending, no attempt", i+1, rec)
		}
	}
	m := e.p.Metrics()
	if m.EnvFailures != uint64(tries+3) || m.EnvOutage != "database" {
		t.Errorf("metrics %+v, want %d environment failures, outage database", m, tries+3)
	}
	if n := logs.lines(slog.LevelError, "ingest: environment failure"); n != 1 {
		t.Errorf("%d Error lines for one outage, want 1", n)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	e.clock.Advance(e.cfg.RetryMax)
	e.want(iceR1, source.ViaPoll, ingest.Imported)
	if rec := e.record(iceR1); rec.State != tracker.StateDone || rec.Attempts != 0 {
		t.Errorf("record %+v, want done with no attempt", rec)
	}
	if m := e.p.Metrics(); m.EnvOutage != "" || m.Quarantined != 0 {
		t.Errorf("metrics %+v after the lock ended", m)
	}
}

// runUntilDone runs the pipeline's workers until name is done (bounded by
// a real-time deadline: the work is immediate, nothing waits on the clock).
func (e *env) runUntilDone(start func(ctx context.Context), name string) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if start != nil {
		start(ctx)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec, err := e.tr.Get(e.ctx, "main", name)
		if err == nil && rec.State == tracker.StateDone {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s not imported: %+v, %v", name, rec, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// A claim the locked database refused leaves no record: the pipeline keeps
// the event and RetryDue (called by Run on start) tries it again once due.
func TestClaimRefusedRetried(t *testing.T) {
	e := newEnv(t, nil)
	path := filepath.Join(t.TempDir(), "locked.db")
	e.db = openShortBusy(t, path)
	var err error
	if e.tr, err = tracker.NewSQL(e.db, e.cfg.TrackerConfig(e.clock.Now), tracker.SQLite); err != nil {
		t.Fatal(err)
	}
	if e.st, err = store.New(e.db, e.tr); err != nil {
		t.Fatal(err)
	}
	e.rebuild(e.st)
	e.put(iceR1)
	tx, err := openShortBusy(t, path).Begin()
	if err != nil {
		t.Fatal(err)
	}
	e.want(iceR1, source.ViaWebhook, ingest.Failed)
	if _, err := e.tr.Get(e.ctx, "main", iceR1); err == nil {
		t.Fatal("a record was written through the lock")
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n, err := e.p.RetryDue(e.ctx); err != nil || n != 0 {
		t.Fatalf("RetryDue before the retry time: %d, %v; want 0", n, err)
	}
	e.clock.Advance(e.cfg.RetryBase)
	e.runUntilDone(nil, iceR1)
}

// Files postponed by an environment failure are retried as soon as another
// file imports (the archive or database works again), not at their
// backed-off retry time.
func TestEnvRecoveryRetriesAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.put(iceR1, iceR1E)
	if err := os.MkdirAll(e.cfg.ArchiveDir, 0o755); err != nil {
		t.Fatal(err)
	}
	blocker := filepath.Join(e.cfg.ArchiveDir, "main")
	if err := os.WriteFile(blocker, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	e.want(iceR1, source.ViaPoll, ingest.Failed)
	e.clock.Advance(10 * time.Minute)
	e.want(iceR1, source.ViaPoll, ingest.Failed)
	if d := e.record(iceR1).RetryAt.Sub(e.clock.Now()); d < time.Minute {
		t.Fatalf("retry in %v; the test needs a retry time well ahead", d)
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	e.runUntilDone(func(ctx context.Context) {
		// A backfill does not wait for the round: it imports at once.
		if err := e.p.Submit(ctx, event(t, iceR1E, source.ViaBackfill)); err != nil {
			t.Fatal(err)
		}
	}, iceR1)
}
