package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/tracker"
)

const (
	iceR1E = "2026-01-15-230014-et_ice-round-1-endstats.txt"
	iceR1  = "2026-01-15-230015-et_ice-round-1.txt"
	iceR2E = "2026-01-15-230734-et_ice-round-2-endstats.txt"
	iceR2  = "2026-01-15-230736-et_ice-round-2.txt"
)

// A match in order: rounds stored, R2 paired, endstats linked, four posts,
// webhook outcomes reported, raw bytes archived.
func TestMatchInOrder(t *testing.T) {
	e := newEnv(t, nil)
	e.rep.gen = 7
	e.put(iceR1, iceR1E, iceR2, iceR2E)
	for _, n := range []string{iceR1, iceR1E, iceR2, iceR2E} {
		e.want(n, source.ViaWebhook, ingest.Imported)
	}
	r1, r2 := e.round(iceR1), e.round(iceR2)
	if r1.R2Status != "" || r1.RawPlayers != 7 || r1.Weapons == 0 {
		t.Errorf("r1 = %+v", r1)
	}
	if r2.R2Status != parser.StatusDifferential || r2.R1File != iceR1 || r2.DiffPlayers != r2.RawPlayers || r2.DiffPlayers == 0 {
		t.Errorf("r2 = %+v, want a differential against %s", r2, iceR1)
	}
	for _, pair := range [][2]string{{iceR1E, iceR1}, {iceR2E, iceR2}} {
		es, err := e.st.Endstats(e.ctx, "main", pair[0])
		if err != nil {
			t.Fatal(err)
		}
		if es.RoundFile != pair[1] || es.Awards == 0 || es.Versus == 0 {
			t.Errorf("%s = %+v, want linked to %s", pair[0], es, pair[1])
		}
	}
	if n := e.flush(); n != 4 {
		t.Errorf("sent %d posts, want 4", n)
	}
	if n := e.flush(); n != 0 {
		t.Errorf("second flush sent %d posts, want 0", n)
	}
	kinds := map[ingest.PostKind]int{}
	for _, p := range e.pub.posts {
		kinds[p.Kind]++
		if p.Kind == ingest.PostRound && p.Round == 2 && (!p.Differential || len(p.Players) == 0) {
			t.Errorf("round 2 post = %+v, want a differential table", p)
		}
	}
	if kinds[ingest.PostRound] != 2 || kinds[ingest.PostAwards] != 2 {
		t.Errorf("posts by kind = %v", kinds)
	}
	if got := e.rep.outcomes(); len(got) != 4 || slices.ContainsFunc(got, func(o failover.Outcome) bool { return o != failover.Success }) {
		t.Errorf("reported %v, want 4 successes", got)
	}
	for _, r := range e.rep.got {
		if r.gen != 7 || r.server != "main" {
			t.Errorf("report %+v: want generation 7 of server main", r)
		}
	}
	if k := []parser.Kind{e.rep.got[0].kind, e.rep.got[1].kind}; k[0] != parser.KindStats || k[1] != parser.KindEndstats {
		t.Errorf("reported kinds %v", k)
	}
	for _, n := range []string{iceR1, iceR2E} {
		want, _ := os.ReadFile(filepath.Join("testdata", n))
		got, err := os.ReadFile(filepath.Join(e.cfg.ArchiveDir, "main", n))
		if err != nil || string(got) != string(want) {
			t.Errorf("archive of %s: %v, %d bytes, want %d", n, err, len(got), len(want))
		}
	}
	rec := e.record(iceR1)
	if rec.State != tracker.StateDone || rec.Via != "webhook" || rec.Size != 1400 || len(rec.SHA256) != 64 {
		t.Errorf("tracker record = %+v", rec)
	}
	// Duplicates: nothing happens and nothing is reported.
	e.want(iceR1, source.ViaPoll, ingest.Skipped)
	e.want(iceR1, source.ViaWebhook, ingest.Skipped)
	if n := len(e.rep.outcomes()); n != 4 {
		t.Errorf("duplicates reported: %d outcomes, want 4", n)
	}
}

// The same file fed 50 times from 3 paths at once imports once and posts once.
func TestSameFileFromThreePaths(t *testing.T) {
	e := newEnv(t, nil)
	e.put(iceR1)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.p.Run(ctx); close(done) }()
	var wg sync.WaitGroup
	vias := []source.Via{source.ViaWebhook, source.ViaPoll, source.ViaProbe}
	var mu sync.Mutex
	var results []ingest.Result
	for i := range 50 {
		wg.Go(func() {
			ev := event(t, iceR1, vias[i%3])
			if i%2 == 0 {
				if err := e.p.Submit(ctx, ev); err != nil {
					t.Error(err)
				}
				return
			}
			r := e.p.Process(ctx, ev)
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
		})
	}
	wg.Wait()
	// Wait (on the tracker, not the clock) until the queued events are handled.
	for e.p.Metrics().Queued > 0 || e.state(iceR1) != tracker.StateDone {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	e.flush()
	if n := e.count(`SELECT COUNT(*) FROM rounds`); n != 1 {
		t.Errorf("%d rounds, want 1", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM outbox`); n != 1 {
		t.Errorf("%d outbox rows, want 1", n)
	}
	if total, distinct := e.pub.sends(); total != 1 || distinct != 1 {
		t.Errorf("published %d times (%d distinct), want once", total, distinct)
	}
	imported := 0
	for _, r := range results {
		switch r.Status {
		case ingest.Imported:
			imported++
		case ingest.Skipped:
		default:
			t.Errorf("result %s (%s)", r.Status, r.Reason)
		}
	}
	m := e.p.Metrics()
	if m.Imported != 1 || int(m.Imported+m.Skipped) < 50 {
		t.Errorf("metrics %+v, want 1 import and the rest skipped", m)
	}
}

// An endstats file before its round is Deferred (not a failure), retried,
// and linked as soon as the round is stored.
func TestEndstatsBeforeRound(t *testing.T) {
	e := newEnv(t, nil)
	e.put(iceR1, iceR1E)
	e.want(iceR1E, source.ViaWebhook, ingest.Deferred)
	if got := e.rep.outcomes(); !slices.Equal(got, []failover.Outcome{failover.Deferred}) {
		t.Fatalf("reported %v, want [deferred]", got)
	}
	rec := e.record(iceR1E)
	if rec.State != tracker.StatePending || rec.Attempts != 0 || !rec.RetryAt.Equal(epoch.Add(5*time.Second)) {
		t.Fatalf("record = %+v, want pending for 5 s without an attempt", rec)
	}
	e.want(iceR1E, source.ViaPoll, ingest.Skipped) // not due
	e.clock.Advance(5 * time.Second)
	if n, err := e.p.RetryDue(e.ctx); err != nil || n != 1 {
		t.Fatalf("RetryDue = %d, %v; want 1", n, err)
	}
	// The retry waits in the queue (no worker runs yet); the round arrives.
	e.want(iceR1, source.ViaPoll, ingest.Imported)
	if m := e.p.Metrics(); m.Queued != 1 {
		t.Fatalf("queued %d, want the endstats retry", m.Queued)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.p.Run(ctx); close(done) }()
	for e.state(iceR1E) != tracker.StateDone {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	es, err := e.st.Endstats(e.ctx, "main", iceR1E)
	if err != nil || es.RoundFile != iceR1 {
		t.Fatalf("endstats = %+v, %v; want linked to %s", es, err, iceR1)
	}
	// The retry (via webhook, first seen) reports its success; no failure.
	if got := e.rep.outcomes(); !slices.Equal(got, []failover.Outcome{failover.Deferred, failover.Success}) {
		t.Errorf("reported %v, want [deferred success]", got)
	}
}

// After ENDSTATS_WAIT an endstats file is stored unlinked.
func TestEndstatsGivesUpWaiting(t *testing.T) {
	e := newEnv(t, nil)
	e.put(iceR2E)
	e.want(iceR2E, source.ViaPoll, ingest.Deferred)
	var retries []time.Time
	for e.record(iceR2E).State == tracker.StatePending {
		rec := e.record(iceR2E)
		retries = append(retries, rec.RetryAt)
		e.clock.Advance(rec.RetryAt.Sub(e.clock.Now()))
		r := e.process(iceR2E, source.ViaPoll)
		if r.Status == ingest.Imported {
			break
		}
		if r.Status != ingest.Deferred || len(retries) > 40 {
			t.Fatalf("retry %d: %s (%s)", len(retries), r.Status, r.Reason)
		}
	}
	if last := retries[len(retries)-1]; !last.Equal(epoch.Add(30 * time.Minute)) {
		t.Errorf("last retry at %v, want the deadline %v", last, epoch.Add(30*time.Minute))
	}
	if len(retries) > 20 {
		t.Errorf("%d retries in 30 min: backoff too eager", len(retries))
	}
	es, err := e.st.Endstats(e.ctx, "main", iceR2E)
	if err != nil || es.RoundFile != "" {
		t.Fatalf("endstats = %+v, %v; want stored unlinked", es, err)
	}
	e.flush()
	if len(e.pub.posts) != 1 || e.pub.posts[0].RoundFile != "" || e.pub.posts[0].Kind != ingest.PostAwards {
		t.Errorf("posts = %+v", e.pub.posts)
	}
}

// A round 2 waits up to R1_WAIT for its round 1, is stored as an orphan, and
// a later round 1 links it.
func TestR2BeforeR1(t *testing.T) {
	e := newEnv(t, nil)
	e.put(iceR1, iceR2)
	e.want(iceR2, source.ViaWebhook, ingest.Deferred)
	e.clock.Advance(time.Minute)
	e.want(iceR2, source.ViaPoll, ingest.Deferred)
	e.clock.Advance(time.Minute)
	e.want(iceR2, source.ViaPoll, ingest.Imported)
	if r := e.round(iceR2); r.R2Status != parser.StatusOrphan || r.DiffPlayers != 0 {
		t.Fatalf("r2 = %+v, want an orphan", r)
	}
	e.flush()
	if p := e.pub.posts[0]; !p.Orphan || p.Differential {
		t.Errorf("orphan post = %+v", p)
	}
	e.want(iceR1, source.ViaPoll, ingest.Imported)
	r := e.round(iceR2)
	if r.R2Status != parser.StatusDifferential || r.R1File != iceR1 || r.DiffPlayers != r.RawPlayers {
		t.Fatalf("after R1: r2 = %+v, want linked", r)
	}
	// Linking is idempotent and posts nothing more than the R1's own post.
	e.flush()
	if len(e.pub.posts) != 2 {
		t.Errorf("%d posts, want 2", len(e.pub.posts))
	}
}

// A corrupt file is retried, then quarantined with the parse error and its
// line; the files after it keep flowing. Failures of webhook files are
// reported once.
func TestCorruptFileQuarantined(t *testing.T) {
	const bad = "2026-01-15-231000-garbage_map-round-1.txt"
	e := newEnv(t, nil)
	garbage, err := os.ReadFile(filepath.Join("testdata", "2026-06-01-120300-garbage_map-round-1.txt"))
	if err != nil {
		t.Fatal(err)
	}
	e.write(bad, garbage)
	e.put(iceR1, iceR2)
	var results []ingest.Status
	for i := range e.cfg.MaxAttempts {
		via := source.ViaWebhook
		if i > 0 {
			e.clock.Advance(e.record(bad).RetryAt.Sub(e.clock.Now()))
			via = source.ViaPoll
		}
		results = append(results, e.process(bad, via).Status)
		if i == 1 {
			e.want(iceR1, source.ViaPoll, ingest.Imported)
		}
	}
	want := []ingest.Status{ingest.Failed, ingest.Failed, ingest.Failed, ingest.Failed, ingest.Quarantined}
	if !slices.Equal(results, want) {
		t.Fatalf("results %v, want %v", results, want)
	}
	rec := e.record(bad)
	if rec.State != tracker.StateQuarantined || rec.Attempts != 5 {
		t.Fatalf("record = %+v", rec)
	}
	if !strings.Contains(rec.LastError, "parse: parser: "+bad+":1") || !strings.Contains(rec.LastError, "invalid_header") {
		t.Errorf("last error %q, want the parse error with its line", rec.LastError)
	}
	q, err := e.st.Quarantined(e.ctx, 10)
	if err != nil || len(q) != 1 || q[0].Name != bad {
		t.Errorf("quarantine list = %+v, %v", q, err)
	}
	e.want(iceR2, source.ViaPoll, ingest.Imported)
	if got := e.rep.outcomes(); !slices.Equal(got, []failover.Outcome{failover.Failure}) {
		t.Errorf("reported %v, want one failure", got)
	}
	// An operator's retry (a forced claim) would take it again; a plain
	// event does not.
	e.want(bad, source.ViaPoll, ingest.Skipped)
	if _, err := e.tr.Claim(e.ctx, tracker.Request{Server: "main", Name: bad, Force: true}); err != nil {
		t.Errorf("forced claim of the quarantined file: %v", err)
	}
}

// A file over the size limit is refused without reading it whole and
// quarantined at once.
func TestOversizedFile(t *testing.T) {
	const big = "2026-01-15-231500-big_map-round-1.txt"
	e := newEnv(t, func(c *ingest.Config) { c.MaxFileSize = 64 << 10 })
	f, err := os.Create(filepath.Join(e.dir, big))
	if err != nil {
		t.Fatal(err)
	}
	// A sparse 1 GiB file: reading it whole would take seconds and 1 GiB.
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := e.want(big, source.ViaWebhook, ingest.Quarantined)
	if !errors.Is(r.Err, source.ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", r.Err)
	}
	rec := e.record(big)
	if rec.State != tracker.StateQuarantined || !strings.Contains(rec.LastError, "limit 65536") {
		t.Errorf("record = %+v", rec)
	}
	if got := e.rep.outcomes(); !slices.Equal(got, []failover.Outcome{failover.Failure}) {
		t.Errorf("reported %v, want a failure", got)
	}
	if _, err := os.Stat(filepath.Join(e.cfg.ArchiveDir, "main", big)); !os.IsNotExist(err) {
		t.Errorf("oversized file archived: %v", err)
	}
}

// A missing file is retried with backoff; within NotFoundGrace of being
// first seen it costs no attempt (the name can come before the file is
// visible), after it every try counts and the file is quarantined.
func TestMissingFileRetried(t *testing.T) {
	e := newEnv(t, nil)
	r := e.want(iceR1, source.ViaWebhook, ingest.Failed)
	if !errors.Is(r.Err, source.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", r.Err)
	}
	rec := e.record(iceR1)
	if rec.State != tracker.StatePending || rec.Attempts != 0 || !rec.RetryAt.Equal(epoch.Add(10*time.Second)) {
		t.Fatalf("record = %+v, want pending, no attempt, until +10s", rec)
	}
	e.put(iceR1)
	e.clock.Advance(10 * time.Second)
	e.want(iceR1, source.ViaPoll, ingest.Imported)
	if got := e.rep.outcomes(); !slices.Equal(got, []failover.Outcome{failover.Failure}) {
		t.Errorf("reported %v, want only the webhook's failure", got)
	}

	// Never there: free tries for NotFoundGrace, then MaxAttempts counted ones.
	e.process(iceR2, source.ViaPoll)
	tries := 1
	for e.state(iceR2) != tracker.StateQuarantined {
		e.clock.Advance(e.record(iceR2).RetryAt.Sub(e.clock.Now()))
		e.process(iceR2, source.ViaPoll)
		if tries++; tries > 100 {
			t.Fatalf("not quarantined after %d tries: %+v", tries, e.record(iceR2))
		}
	}
	rec = e.record(iceR2)
	if rec.Attempts != e.cfg.MaxAttempts || rec.FirstSeen.Add(e.cfg.NotFoundGrace).After(rec.Updated) || tries <= e.cfg.MaxAttempts {
		t.Errorf("after %d tries: %+v; want %d counted attempts, all after the grace", tries, rec, e.cfg.MaxAttempts)
	}
}

// A source outage many attempts long (SSH down for 40 minutes: the old
// rule quarantined after 5 tries, about 150 s) leaves a good file retrying
// without counting attempts; it is imported once the source answers, and
// the webhook's failure is reported once.
func TestSourceOutageNotCounted(t *testing.T) {
	outages := []struct {
		name string
		err  error
	}{
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}},
		{"deadline while connecting", fmt.Errorf("connect: %w", context.DeadlineExceeded)},
		{"still being written", fmt.Errorf("size 10: %w", source.ErrIncomplete)},
		{"client closed", errors.New("sftp: client closed")},
	}
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.put(iceR1)
			e.src.down(o.err)
			start := e.clock.Now()
			tries := 0
			for e.clock.Now().Sub(start) < 40*time.Minute {
				via := source.ViaPoll
				if tries == 0 {
					via = source.ViaWebhook
				}
				r := e.process(iceR1, via)
				tries++
				if r.Status != ingest.Failed && r.Status != ingest.Deferred {
					t.Fatalf("try %d at +%v: %s (%s, %v), want failed or deferred", tries, e.clock.Now().Sub(start), r.Status, r.Reason, r.Err)
				}
				rec := e.record(iceR1)
				if rec.State != tracker.StatePending || rec.Attempts != 0 || !rec.RetryAt.After(e.clock.Now()) {
					t.Fatalf("try %d: record %+v, want pending, no attempt, a retry time ahead", tries, rec)
				}
				if rec.RetryAt.Sub(e.clock.Now()) > e.cfg.RetryMax {
					t.Fatalf("try %d: retry in %v, over RetryMax", tries, rec.RetryAt.Sub(e.clock.Now()))
				}
				e.clock.Advance(rec.RetryAt.Sub(e.clock.Now()))
			}
			if tries < 3*e.cfg.MaxAttempts {
				t.Errorf("only %d tries in the outage", tries)
			}
			e.src.down(nil)
			e.want(iceR1, source.ViaPoll, ingest.Imported)
			// The first (webhook) try reports; retries report only a
			// success, and the final try here is a poll's.
			want := []failover.Outcome{failover.Failure}
			if errors.Is(o.err, source.ErrIncomplete) {
				want = []failover.Outcome{failover.Deferred}
			}
			if got := e.rep.outcomes(); !slices.Equal(got, want) {
				t.Errorf("reported %v, want %v", got, want)
			}
			t.Logf("%d tries in 40 min", tries)
		})
	}
}

// Files postponed by an outage are retried as soon as the source answers
// another fetch, not at their (backed-off) retry time.
func TestSourceRecoveryRetriesAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.put(iceR1, iceR2)
	e.src.down(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
	e.want(iceR1, source.ViaPoll, ingest.Failed)
	e.clock.Advance(10 * time.Minute) // a long outage; the file's own retry is far
	e.want(iceR1, source.ViaPoll, ingest.Failed)
	if d := e.record(iceR1).RetryAt.Sub(e.clock.Now()); d < time.Minute {
		t.Fatalf("retry in %v; the test needs a retry time well ahead", d)
	}
	e.src.down(nil)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if err := e.p.Submit(ctx, event(t, iceR2, source.ViaPoll)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for e.state(iceR1) != tracker.StateDone {
		if time.Now().After(deadline) {
			t.Fatalf("postponed file not retried after the source recovered: %+v", e.record(iceR1))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Files older than the lookback are not auto-processed.
func TestLookback(t *testing.T) {
	e := newEnv(t, nil)
	e.put(iceR1)
	e.clock.Advance(8 * 24 * time.Hour)
	r := e.want(iceR1, source.ViaPoll, ingest.Skipped)
	if !errors.Is(r.Err, tracker.ErrTooOld) {
		t.Errorf("err = %v, want ErrTooOld", r.Err)
	}
}

// Shutdown: queued events are parked as pending and resumed by the next run;
// Submit after shutdown returns ErrClosed.
func TestShutdownParksQueued(t *testing.T) {
	e := newEnv(t, func(c *ingest.Config) { c.Workers = 1 })
	files := genMatches(t, e.dir, 7, epoch.Add(-6*time.Hour), 10, 8, false)
	for _, f := range files {
		if err := e.p.Submit(e.ctx, event(t, f.name, source.ViaPoll)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(e.ctx)
	cancel() // stop at once: the worker may take one file, the rest is parked
	if err := e.p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.p.Submit(e.ctx, event(t, files[0].name, source.ViaPoll)); !errors.Is(err, ingest.ErrClosed) {
		t.Errorf("submit after shutdown: %v, want ErrClosed", err)
	}
	counts, err := e.st.Counts(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[tracker.StatePending]+counts[tracker.StateDone] != len(files) || counts[tracker.StateClaimed] != 0 {
		t.Fatalf("counts after shutdown %v, want all %d pending or done, none claimed", counts, len(files))
	}
	// A new pipeline (a restart) resumes them.
	e2 := *e
	p2, err := ingest.New(e.cfg, ingest.Deps{Tracker: e.tr, Store: e.st, Now: e.clock.Now,
		Fetchers: map[string]source.Fetcher{"main": ingest.DirFetcher{Dir: e.dir}}})
	if err != nil {
		t.Fatal(err)
	}
	e2.p = p2
	ctx2, cancel2 := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { p2.Run(ctx2); close(done) }()
	for e.count(`SELECT COUNT(*) FROM processed_files WHERE state = 'done'`) < len(files) {
		time.Sleep(time.Millisecond)
	}
	cancel2()
	<-done
	if n := e.count(`SELECT COUNT(*) FROM rounds WHERE r2_status = 'differential'`); n != 10 {
		t.Errorf("%d differential rounds, want 10", n)
	}
}

func TestNonce(t *testing.T) {
	a := ingest.Nonce("main", iceR1, ingest.PostRound)
	tests := []struct {
		server, file string
		kind         ingest.PostKind
	}{
		{"main", iceR1, ingest.PostAwards},
		{"other", iceR1, ingest.PostRound},
		{"main", iceR2, ingest.PostRound},
	}
	for _, tc := range tests {
		if b := ingest.Nonce(tc.server, tc.file, tc.kind); b == a || len(b) > ingest.MaxNonceLen {
			t.Errorf("Nonce(%q, %q, %q) = %q (vs %q)", tc.server, tc.file, tc.kind, b, a)
		}
	}
	if len(a) != 25 || a != ingest.Nonce("main", iceR1, ingest.PostRound) {
		t.Errorf("nonce %q: want 25 stable characters", a)
	}
}

// Importing a stats file retries at once the files deferred for its map.
func TestRoundKicksDeferred(t *testing.T) {
	e := newEnv(t, nil)
	e.put(iceR1, iceR1E)
	e.want(iceR1E, source.ViaWebhook, ingest.Deferred)
	e.want(iceR1, source.ViaWebhook, ingest.Imported)
	if m := e.p.Metrics(); m.Queued != 1 {
		t.Fatalf("queued %d after the round, want the kicked endstats", m.Queued)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.p.Run(ctx); close(done) }()
	for e.state(iceR1E) != tracker.StateDone {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	// Linked without the clock moving: the kick skipped the retry time.
	if es, err := e.st.Endstats(e.ctx, "main", iceR1E); err != nil || es.RoundFile != iceR1 {
		t.Fatalf("endstats = %+v, %v", es, err)
	}
	if got := e.rep.outcomes(); !slices.Equal(got, []failover.Outcome{failover.Deferred, failover.Success, failover.Success}) {
		t.Errorf("reported %v", got)
	}
}

// A damaged archived R1 is not trusted for the R2's differential: its
// digest differs from the import's, so the file is fetched again.
func TestDamagedArchiveRefetched(t *testing.T) {
	e := newEnv(t, nil)
	e.put(iceR1, iceR2)
	e.want(iceR1, source.ViaPoll, ingest.Imported)
	archived := filepath.Join(e.cfg.ArchiveDir, "main", iceR1)
	if err := os.WriteFile(archived, []byte("truncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.want(iceR2, source.ViaPoll, ingest.Imported)
	if r := e.round(iceR2); r.R2Status != parser.StatusDifferential {
		t.Errorf("r2 = %+v, want a differential", r)
	}
	want, _ := os.ReadFile(filepath.Join("testdata", iceR1))
	if got, _ := os.ReadFile(archived); string(got) != string(want) {
		t.Errorf("archive not repaired: %d bytes", len(got))
	}
}

type panicFetcher struct{}

func (panicFetcher) Fetch(context.Context, parser.FileName) ([]byte, error) { panic("fetcher bug") }

// A panic while processing a file is a failed attempt: the bot survives and
// the file is eventually quarantined instead of retried forever.
func TestPanicIsAFailure(t *testing.T) {
	e := newEnv(t, nil)
	p, err := ingest.New(e.cfg, ingest.Deps{Tracker: e.tr, Store: e.st, Now: e.clock.Now,
		Fetchers: map[string]source.Fetcher{"main": panicFetcher{}}})
	if err != nil {
		t.Fatal(err)
	}
	r := p.Process(e.ctx, event(t, iceR1, source.ViaPoll))
	if r.Status != ingest.Failed || !strings.Contains(r.Err.Error(), "fetcher bug") {
		t.Fatalf("result %+v", r)
	}
	if rec := e.record(iceR1); rec.State != tracker.StateFailed || rec.Attempts != 1 || !strings.Contains(rec.LastError, "panic") {
		t.Errorf("record %+v", rec)
	}
	// Unknown servers are refused before any claim.
	ev := event(t, iceR1, source.ViaPoll)
	ev.Server = "elsewhere"
	if err := p.Submit(e.ctx, ev); err == nil {
		t.Error("submit for a server without fetcher accepted")
	}
}

// More workers than database connections: transactions queue on SQLite's
// write lock; nothing fails, and without the race detector nothing waits for
// the busy timeout.
func TestManyWorkers(t *testing.T) {
	e := newEnv(t, func(c *ingest.Config) { c.Workers = 16 })
	files := genMatches(t, e.dir, 11, epoch.Add(-20*time.Hour), 20, 10, true)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.p.Run(ctx); close(done) }()
	for _, f := range files {
		if err := e.p.Submit(ctx, event(t, f.name, source.ViaPoll)); err != nil {
			t.Fatal(err)
		}
	}
	for e.count(`SELECT COUNT(*) FROM processed_files WHERE state = 'done'`) < len(files) {
		// Without the race detector no transaction waits out SQLite's busy
		// timeout. Under it (several times slower) a writer can lose the
		// lock race for that long: such an environment failure must cost
		// the file no attempt, and the file must still import once.
		m := e.p.Metrics()
		if m.Quarantined > 0 || m.Failed > m.EnvFailures || (!raceEnabled && m.EnvFailures > 0) {
			failed, _ := e.tr.List(e.ctx, tracker.StateFailed, 5)
			t.Fatalf("metrics %+v, failed %+v", m, failed)
		}
		// Deferred files (an endstats before its round, an R2 before its R1)
		// are retried by the kick of their round; move the clock for the rest.
		e.clock.Advance(time.Second)
		if _, err := e.p.RetryDue(e.ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if n := e.count(`SELECT COUNT(*) FROM processed_files WHERE attempts > 0`); n != 0 {
		t.Errorf("%d files with a counted attempt", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM rounds WHERE r2_status = 'differential'`); n != 20 {
		t.Errorf("%d differential rounds, want 20", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM endstats WHERE round_id IS NULL`); n != 0 {
		t.Errorf("%d endstats unlinked", n)
	}
}

// A file fetched while still being written fails to parse; the retry
// fetches it afresh instead of re-reading the archived partial copy.
func TestRetryFetchesAfresh(t *testing.T) {
	e := newEnv(t, nil)
	full, err := os.ReadFile(filepath.Join("testdata", iceR1))
	if err != nil {
		t.Fatal(err)
	}
	e.write(iceR1, full[:20]) // half a header
	e.want(iceR1, source.ViaPoll, ingest.Failed)
	e.write(iceR1, full)
	e.clock.Advance(e.record(iceR1).RetryAt.Sub(e.clock.Now()))
	e.want(iceR1, source.ViaPoll, ingest.Imported)
	if r := e.round(iceR1); r.RawPlayers != 7 || r.Size != int64(len(full)) {
		t.Errorf("round %+v", r)
	}
	if got, _ := os.ReadFile(filepath.Join(e.cfg.ArchiveDir, "main", iceR1)); string(got) != string(full) {
		t.Errorf("archive holds %d bytes, want the full %d", len(got), len(full))
	}
}

// A backfill takes files older than the lookback and does not wait for
// missing companions; Retry takes a quarantined file again.
func TestBackfillAndRetry(t *testing.T) {
	e := newEnv(t, nil)
	e.put(iceR2, iceR2E, iceR1)
	e.clock.Advance(30 * 24 * time.Hour)
	e.want(iceR2, source.ViaPoll, ingest.Skipped) // too old for the automatic paths
	e.want(iceR2, source.ViaBackfill, ingest.Imported)
	e.want(iceR2E, source.ViaBackfill, ingest.Imported)
	if r := e.round(iceR2); r.R2Status != parser.StatusOrphan {
		t.Errorf("r2 = %+v, want an orphan at once", r)
	}
	e.want(iceR1, source.ViaBackfill, ingest.Imported)
	if r := e.round(iceR2); r.R2Status != parser.StatusDifferential {
		t.Errorf("r2 after its R1 = %+v, want linked", r)
	}
	if es, _ := e.st.Endstats(e.ctx, "main", iceR2E); es.RoundFile != iceR2 {
		t.Errorf("endstats = %+v", es)
	}

	const bad = "2026-02-14-201500-garbage_map-round-1.txt"
	garbage, _ := os.ReadFile(filepath.Join("testdata", "2026-06-01-120300-garbage_map-round-1.txt"))
	e.write(bad, garbage)
	e.want(bad, source.ViaBackfill, ingest.Failed)
	for e.state(bad) != tracker.StateQuarantined {
		if r := e.p.Retry(e.ctx, "main", bad); r.Status != ingest.Failed && r.Status != ingest.Quarantined {
			t.Fatalf("retry: %+v", r)
		}
	}
	full, _ := os.ReadFile(filepath.Join("testdata", iceR1))
	e.write(bad, []byte(strings.Replace(string(full), "et_ice", "garbage_map", 1)))
	if r := e.p.Retry(e.ctx, "main", bad); r.Status != ingest.Imported {
		t.Fatalf("retry after the fix: %+v", r)
	}
	if r := e.p.Retry(e.ctx, "main", bad); r.Status != ingest.Skipped {
		t.Errorf("retry of a done file: %+v", r)
	}
}
