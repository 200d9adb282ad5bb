package tracker_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/store/pgtest"
	"github.com/roundfeed/roundfeed/tracker"
	"github.com/roundfeed/roundfeed/tracker/trackertest"

	_ "modernc.org/sqlite"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "t.db") +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newSQL(t *testing.T, db *sql.DB, cfg tracker.Config) *tracker.SQL {
	t.Helper()
	tr, err := tracker.NewSQL(db, cfg, tracker.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestMemoryConformance(t *testing.T) {
	trackertest.Run(t, func(t *testing.T, cfg tracker.Config) tracker.Tracker {
		tr, err := tracker.NewMemory(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	})
}

func TestSQLConformance(t *testing.T) {
	trackertest.Run(t, func(t *testing.T, cfg tracker.Config) tracker.Tracker {
		return newSQL(t, openDB(t), cfg)
	})
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*tracker.Config)
		want []string
	}{
		{"default", func(*tracker.Config) {}, nil},
		{"no lookback", func(c *tracker.Config) { c.Lookback = 0 }, nil},
		{"all bad", func(c *tracker.Config) { c.Lease, c.MaxAttempts, c.Lookback = 0, 0, -1 }, []string{"lease", "max attempts", "lookback"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tracker.DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			if (err != nil) != (len(tc.want) > 0) {
				t.Fatalf("Validate() = %v, want problems %v", err, tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, missing %q", err, w)
				}
			}
		})
	}
}

// The done mark commits or rolls back with the caller's transaction.
func TestSQLMarkDoneInTransaction(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	tr := newSQL(t, db, tracker.DefaultConfig())
	if _, err := db.Exec(`CREATE TABLE rounds (name TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	c, err := tr.Claim(ctx, tracker.Request{Server: "main", Name: "f", Via: "poll"})
	if err != nil {
		t.Fatal(err)
	}
	importOnce := func(commit bool) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO rounds (name) VALUES ('f')`); err != nil {
			tx.Rollback()
			return err
		}
		if err := tr.MarkDone(ctx, tx, c, tracker.Digest{SHA256: "x", Size: 1}); err != nil {
			tx.Rollback()
			return err
		}
		if !commit {
			return tx.Rollback()
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		tr.NoteDone(c.Server, c.Name)
		return nil
	}
	if err := importOnce(false); err != nil {
		t.Fatal(err)
	}
	if r, _ := tr.Get(ctx, "main", "f"); r.State != tracker.StateClaimed {
		t.Fatalf("after rollback: state %s, want claimed", r.State)
	}
	if err := importOnce(true); err != nil {
		t.Fatal(err)
	}
	if r, _ := tr.Get(ctx, "main", "f"); r.State != tracker.StateDone {
		t.Fatalf("after commit: state %s, want done", r.State)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM rounds`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rounds = %d, %v; want 1", n, err)
	}
	// The in-memory set answers without the table.
	if _, err := db.Exec(`DELETE FROM processed_files`); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Claim(ctx, tracker.Request{Server: "main", Name: "f"}); !errors.Is(err, tracker.ErrDone) {
		t.Errorf("claim after NoteDone: %v, want ErrDone from the in-memory set", err)
	}
}

// Two trackers on one database (two processes) never both hold a file, and a
// crashed one's lease expires on the other's clock.
func TestSQLTwoInstances(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	clock := trackertest.NewClock(trackertest.Epoch)
	cfg := tracker.DefaultConfig()
	cfg.Now = clock.Now
	a, b := newSQL(t, db, cfg), newSQL(t, db, cfg)
	const files = 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := map[string]int{}
	for _, tr := range []*tracker.SQL{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range files {
				name := string(rune('a'+i%26)) + string(rune('a'+i/26))
				c, err := tr.Claim(ctx, tracker.Request{Server: "s", Name: name})
				if errors.Is(err, tracker.ErrTaken) || errors.Is(err, tracker.ErrDone) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if err := tr.MarkDone(ctx, nil, c, tracker.Digest{}); err != nil {
					t.Error(err)
				}
				mu.Lock()
				won[name]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(won) != files {
		t.Errorf("%d files done, want %d", len(won), files)
	}
	for n, k := range won {
		if k != 1 {
			t.Errorf("%s processed %d times", n, k)
		}
	}
	// a crashes holding a claim; b takes over after the lease.
	if _, err := a.Claim(ctx, tracker.Request{Server: "s", Name: "crash"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Claim(ctx, tracker.Request{Server: "s", Name: "crash"}); !errors.Is(err, tracker.ErrTaken) {
		t.Fatalf("b claim while a holds: %v", err)
	}
	clock.Advance(cfg.Lease)
	if _, err := b.Claim(ctx, tracker.Request{Server: "s", Name: "crash"}); err != nil {
		t.Fatalf("b claim after a's lease: %v", err)
	}
}

func TestSQLSchemaPortable(t *testing.T) {
	for _, bad := range []string{"INSERT OR", "AUTOINCREMENT", "datetime(", "strftime("} {
		if strings.Contains(tracker.Schema, bad) {
			t.Errorf("schema uses SQLite-only %q", bad)
		}
	}
}

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// newPG returns a SQL tracker on a fresh PostgreSQL database (skipped when
// PostgreSQL is not installed, failed when CI=true).
func newPG(t *testing.T, db *sql.DB, cfg tracker.Config) *tracker.SQL {
	t.Helper()
	tr, err := tracker.NewSQL(db, cfg, tracker.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func TestPostgresConformance(t *testing.T) {
	trackertest.Run(t, func(t *testing.T, cfg tracker.Config) tracker.Tracker {
		return newPG(t, pgtest.DB(t), cfg)
	})
}

func TestSQLiteShared(t *testing.T) {
	trackertest.RunShared(t, func(t *testing.T, cfg tracker.Config, n int) []tracker.Tracker {
		path := filepath.Join(t.TempDir(), "t.db")
		var out []tracker.Tracker
		for range n {
			// One *sql.DB per instance, as in separate processes.
			db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			out = append(out, newSQL(t, db, cfg))
		}
		return out
	})
}

func TestPostgresShared(t *testing.T) {
	trackertest.RunShared(t, func(t *testing.T, cfg tracker.Config, n int) []tracker.Tracker {
		u := pgtest.URL(t)
		var out []tracker.Tracker
		for range n {
			db, err := sql.Open("pgx", u)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			out = append(out, newPG(t, db, cfg))
		}
		return out
	})
}

// Placeholders are renumbered for PostgreSQL, and a statement with a
// time parameter in a CASE (typed from its other branch) still takes
// Unix-millisecond values past 32 bits.
func TestPostgresLargeTimes(t *testing.T) {
	ctx := context.Background()
	clock := trackertest.NewClock(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	cfg := tracker.DefaultConfig()
	cfg.Now = clock.Now
	tr := newPG(t, pgtest.DB(t), cfg)
	c, err := tr.Claim(ctx, tracker.Request{Server: "s", Name: "f"})
	if err != nil {
		t.Fatal(err)
	}
	retry := clock.Now().Add(time.Hour)
	if st, err := tr.Fail(ctx, c, "x", retry); err != nil || st != tracker.StateFailed {
		t.Fatalf("fail: %s, %v", st, err)
	}
	if r, err := tr.Get(ctx, "s", "f"); err != nil || !r.RetryAt.Equal(retry) {
		t.Errorf("record %+v, %v; want retry at %v", r, err, retry)
	}
}
