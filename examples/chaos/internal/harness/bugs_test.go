// Findings of the chaos harness in other packages, kept as regression tests
// once fixed:
//
//	go test -run Finding ./examples/chaos/internal/harness
package harness

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/store"
	"github.com/roundfeed/roundfeed/tracker"
	"github.com/roundfeed/roundfeed/tracker/trackertest"
)

// TestFindingFullDiskQuarantinesGoodFiles: a local archive that cannot be
// written (a full disk) fails every import (ingest.Pipeline.load returns
// Archive.Write's error), and each failure counts as an attempt, so after
// MAX_ATTEMPTS (5) the file is quarantined although nothing is wrong with
// it and the source served it every time. Source failures no longer count
// (ingest 23fd624); local-disk failures are the same kind of fault. With
// the production backoff (10 s doubling) a disk full for about 2.5 minutes
// quarantines every file that arrives meanwhile. Found by
// `go run ./examples/chaos -seed 2 -runs 1 -intensity 2 -max-attempts 5`.
func TestFindingFullDiskQuarantinesGoodFiles(t *testing.T) {
	ctx := context.Background()
	work := t.TempDir()
	srvDir := filepath.Join(work, "server")
	if err := os.Mkdir(srvDir, 0o755); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	files := genMatches(rand.New(rand.NewPCG(1, 2)), day.Add(-2*time.Hour), 1, 6)
	f := files[1] // the round-1 stats file
	if err := os.WriteFile(filepath.Join(srvDir, f.Name), f.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	// The disk is full: the archive's server folder cannot be created.
	archive := filepath.Join(work, "archive")
	if err := os.MkdirAll(archive, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(archive, Server), nil, 0o444); err != nil {
		t.Fatal(err)
	}

	db, err := store.Open(filepath.Join(work, "roundfeed.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := trackertest.NewClock(day)
	cfg := ingest.DefaultConfig() // MAX_ATTEMPTS 5
	cfg.ArchiveDir = archive
	tr, err := tracker.NewSQL(db, cfg.TrackerConfig(clock.Now), tracker.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.New(db, tr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ingest.New(cfg, ingest.Deps{Tracker: tr, Store: st, Now: clock.Now,
		Fetchers: map[string]source.Fetcher{Server: ingest.DirFetcher{Dir: srvDir}}})
	if err != nil {
		t.Fatal(err)
	}
	name, err := parser.ValidateName(f.Name)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.MaxAttempts + 1 {
		res := p.Process(ctx, source.Event{Server: Server, Name: name, Via: source.ViaPoll, At: clock.Now()})
		t.Logf("attempt %d: %s %s %v", i+1, res.Status, res.Reason, res.Err)
		clock.Advance(cfg.RetryMax)
	}
	rec, err := tr.Get(ctx, Server, f.Name)
	if err != nil {
		t.Fatal(err)
	}
	if rec.State == tracker.StateQuarantined {
		t.Errorf("%s quarantined after %d attempts while only the local archive failed (last error %q): a full disk must not quarantine good files",
			f.Name, rec.Attempts, rec.LastError)
	}
}
