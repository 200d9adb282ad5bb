package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/store"
	"github.com/roundfeed/roundfeed/store/pgtest"
	"github.com/roundfeed/roundfeed/tracker"
)

// benchPipeline returns a pipeline on a fresh SQLite file in a temp folder
// fetching from dir. The clock is real: nothing waits on it.
func benchPipeline(b *testing.B, dir string, sync bool) (*ingest.Pipeline, *store.Store) {
	return benchPipelineArchive(b, tracker.SQLite, dir, sync, "")
}

// benchPipelineArchive is benchPipeline on a fresh database of dialect d
// (PostgreSQL: a new database on pgtest's server), with the archive under
// archiveRoot ("" for the temp folder).
func benchPipelineArchive(b *testing.B, d tracker.Dialect, dir string, sync bool, archiveRoot string) (*ingest.Pipeline, *store.Store) {
	b.Helper()
	tmp := b.TempDir()
	u := ""
	if d == tracker.Postgres {
		u = pgtest.URL(b)
	}
	db, d, err := store.OpenURL(context.Background(), u, filepath.Join(tmp, "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	cfg := ingest.DefaultConfig()
	cfg.ArchiveDir = filepath.Join(tmp, "archive")
	if archiveRoot != "" {
		ad, err := os.MkdirTemp(archiveRoot, "roundfeed-bench-archive")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(ad) })
		cfg.ArchiveDir = ad
	}
	cfg.Lookback = 0
	cfg.ArchiveFsync = sync
	tr, err := tracker.NewSQL(db, cfg.TrackerConfig(nil), d)
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.New(db, tr)
	if err != nil {
		b.Fatal(err)
	}
	p, err := ingest.New(cfg, ingest.Deps{Tracker: tr, Store: st,
		Fetchers: map[string]source.Fetcher{"main": ingest.DirFetcher{Dir: dir}}})
	if err != nil {
		b.Fatal(err)
	}
	return p, st
}

// BenchmarkImport imports a folder of 1,000 generated stats files (500
// matches of 12 players: every round 2 is paired and differenced) into a
// fresh database, one file after the other on one goroutine. One iteration
// is the whole folder; files/s is the figure. "default" is the default
// configuration on SQLite; "fsync" adds ARCHIVE_FSYNC=true; "postgres" is
// the default on PostgreSQL (pgtest's server, or ROUNDFEED_PG_URL's; its
// CPU time is not in files/cpu-s, which counts this process only).
func BenchmarkImport(b *testing.B) {
	dir := b.TempDir()
	files := genMatches(b, dir, 42, time.Date(2026, 1, 1, 18, 0, 0, 0, time.UTC), 500, 12, false)
	var size int64
	for _, f := range files {
		size += int64(len(f.data))
	}
	type mode struct {
		name    string
		d       tracker.Dialect
		sync    bool
		archive string
	}
	modes := []mode{{"default", tracker.SQLite, false, ""}, {"fsync", tracker.SQLite, true, ""}, {"postgres", tracker.Postgres, false, ""}}
	// The archive creates one file per import; on some disks that is most
	// of the cost. "tmpfs-archive" shows the rest.
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		modes = append(modes, mode{"tmpfs-archive", tracker.SQLite, false, "/dev/shm"}, mode{"postgres-tmpfs-archive", tracker.Postgres, false, "/dev/shm"})
	}
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			ctx := context.Background()
			evs := make([]source.Event, len(files))
			for i, f := range files {
				evs[i] = event(b, f.name, source.ViaPoll)
			}
			b.SetBytes(size)
			var elapsed, cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				p, _ := benchPipelineArchive(b, mode.d, dir, mode.sync, mode.archive)
				b.StartTimer()
				t0, c0 := time.Now(), cpuTime()
				for _, ev := range evs {
					if r := p.Process(ctx, ev); r.Status != ingest.Imported {
						b.Fatalf("%s: %s %s %v", ev.Name.Raw, r.Status, r.Reason, r.Err)
					}
				}
				elapsed += time.Since(t0)
				cpu += cpuTime() - c0
			}
			n := float64(len(files) * b.N)
			b.ReportMetric(n/elapsed.Seconds(), "files/s")
			// The same per second of CPU time used by the process: what one
			// core does when the machine is shared (wall-clock figures then
			// include waiting for a CPU).
			b.ReportMetric(n/cpu.Seconds(), "files/cpu-s")
		})
	}
}

// cpuTime returns the user+system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEventLatency measures one event from Process to its committed
// transaction (claim, fetch, archive, parse, pair, store + mark + outbox)
// and reports the p50 and p99 over b.N events.
func BenchmarkEventLatency(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	// Enough distinct files for any b.N the benchmark picks (two per match).
	files := genMatches(b, dir, 43, time.Date(2026, 1, 1, 18, 0, 0, 0, time.UTC), 2500, 12, false)
	p, _ := benchPipeline(b, dir, false) // the default configuration
	var size int64
	for _, f := range files {
		size += int64(len(f.data))
	}
	b.SetBytes(size / int64(len(files)))
	var lat []time.Duration
	i := 0
	for b.Loop() {
		if i == len(files) {
			b.Fatalf("more than %d iterations", len(files))
		}
		ev := event(b, files[i].name, source.ViaWebhook)
		t0 := time.Now()
		r := p.Process(ctx, ev)
		lat = append(lat, time.Since(t0))
		if r.Status != ingest.Imported {
			b.Fatalf("%s: %s %v", files[i].name, r.Status, r.Err)
		}
		i++
	}
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}
