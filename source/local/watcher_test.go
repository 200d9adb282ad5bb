package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/roundfeed/roundfeed/internal/testutil"
	"github.com/roundfeed/roundfeed/source"
)

const (
	nameA = "2026-01-15-222119-te_escape2-round-1.txt"
	nameB = "2026-01-15-223502-te_escape2-round-2.txt"
	nameC = "2026-01-15-223502-te_escape2-round-2-endstats.txt"
)

// harness runs a Watcher on a temp folder with a virtual clock and lets the
// test step in time with Run through the step seam.
type harness struct {
	t     *testing.T
	dir   string
	clk   *testutil.Clock
	w     *Watcher
	got   chan source.Entry
	steps chan string
	done  chan error
}

func startWatcher(t *testing.T, dir string, mod func(*Config, *Watcher)) *harness {
	t.Helper()
	h := &harness{
		t:     t,
		dir:   dir,
		clk:   testutil.NewClock(time.Now()),
		got:   make(chan source.Entry, 100),
		steps: make(chan string, 4096),
		done:  make(chan error, 1),
	}
	cfg := DefaultConfig(dir)
	cfg.Rescan = 0
	cfg.Clock = h.clk
	var hook func(*Watcher)
	if mod != nil {
		hook = func(w *Watcher) { mod(&w.cfg, w) }
	}
	w, err := NewWatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.step = func(s string) { h.steps <- s }
	if hook != nil {
		hook(w)
	}
	h.w = w
	ctx, cancel := context.WithCancel(context.Background())
	go func() { h.done <- w.Run(ctx, func(e source.Entry) { h.got <- e }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-h.done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
	h.waitStep("ready")
	return h
}

// waitStep waits until Run reports a step with the given prefix and
// containing every one of subs.
func (h *harness) waitStep(prefix string, subs ...string) {
	h.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case s := <-h.steps:
			if !strings.HasPrefix(s, prefix) {
				continue
			}
			ok := true
			for _, sub := range subs {
				ok = ok && strings.Contains(s, sub)
			}
			if ok {
				return
			}
		case err := <-h.done:
			h.t.Fatalf("Run ended early: %v", err)
		case <-deadline:
			h.t.Fatalf("no step %q %v from Run", prefix, subs)
		}
	}
}

func (h *harness) expect(name string, size int64) {
	h.t.Helper()
	select {
	case e := <-h.got:
		if e.Name.Raw != name || e.Size != size {
			h.t.Fatalf("emitted %s (%d bytes), want %s (%d bytes)", e.Name.Raw, e.Size, name, size)
		}
	default:
		h.t.Fatalf("nothing emitted, want %s", name)
	}
}

func (h *harness) expectNone() {
	h.t.Helper()
	select {
	case e := <-h.got:
		h.t.Fatalf("emitted %s, want nothing yet", e.Name.Raw)
	default:
	}
}

func writeFile(t *testing.T, path, data string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWatcherStartScan(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now()
	writeFile(t, filepath.Join(dir, nameA), "old complete", now.Add(-time.Hour))
	writeFile(t, filepath.Join(dir, "2025-01-01-000000-goldrush-round-1.txt"), "too old", now.Add(-8*24*time.Hour))
	writeFile(t, filepath.Join(dir, "notes.txt"), "not a stats file", now.Add(-time.Hour))
	writeFile(t, filepath.Join(dir, "2026-01-15-222119-te_escape2-round-1_ws.txt"), "sidecar", now.Add(-time.Hour))
	if err := os.Mkdir(filepath.Join(dir, "2026-01-15-222119-dir-round-1.txt"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, nameB), "just written", time.Time{})

	h := startWatcher(t, dir, nil)
	h.expect(nameA, int64(len("old complete")))
	h.expectNone() // nameB is recent: it waits for the settle time
	h.clk.Advance(2 * time.Second)
	h.waitStep("settle")
	h.expect(nameB, int64(len("just written")))
	h.expectNone()
	if c := h.w.Counters(); c.SkippedNames != 2 || c.Reported != 2 || c.Scans != 1 {
		t.Fatalf("counters %+v, want 2 skipped, 2 reported, 1 scan", c)
	}
}

func TestWatcherWaitsForWrites(t *testing.T) {
	t.Parallel()
	h := startWatcher(t, t.TempDir(), nil)
	f, err := os.Create(filepath.Join(h.dir, nameA))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h.waitStep("event:"+nameA, "CREATE")
	if _, err := f.WriteString("part one\n"); err != nil {
		t.Fatal(err)
	}
	h.waitStep("event:"+nameA, "WRITE")
	h.clk.Advance(time.Second)
	if _, err := f.WriteString("part two\n"); err != nil {
		t.Fatal(err)
	}
	h.waitStep("event:"+nameA, "WRITE")
	h.clk.Advance(time.Second) // 2 s after the create, 1 s after the last write
	h.waitStep("settle")
	h.expectNone()
	h.clk.Advance(time.Second) // 2 s after the last write
	h.waitStep("settle")
	h.expect(nameA, int64(len("part one\npart two\n")))
}

func TestWatcherRenamedIn(t *testing.T) {
	t.Parallel()
	h := startWatcher(t, t.TempDir(), nil)
	tmp := filepath.Join(t.TempDir(), "partial")
	writeFile(t, tmp, "whole file", time.Time{})
	if err := os.Rename(tmp, filepath.Join(h.dir, nameC)); err != nil {
		t.Fatal(err)
	}
	h.waitStep("event:"+nameC, "CREATE")
	h.clk.Advance(2 * time.Second)
	h.waitStep("settle")
	h.expect(nameC, int64(len("whole file")))
}

func TestWatcherRemovedWhilePending(t *testing.T) {
	t.Parallel()
	h := startWatcher(t, t.TempDir(), nil)
	path := filepath.Join(h.dir, nameA)
	writeFile(t, path, "short-lived", time.Time{})
	h.waitStep("event:"+nameA, "WRITE")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	h.waitStep("event:"+nameA, "REMOVE")
	h.clk.Advance(2 * time.Second)
	h.waitStep("settle")
	h.expectNone()
}

func TestWatcherBadNameSkipped(t *testing.T) {
	t.Parallel()
	h := startWatcher(t, t.TempDir(), nil)
	writeFile(t, filepath.Join(h.dir, "stats.tmp"), "x", time.Time{})
	h.waitStep("event:stats.tmp", "CREATE")
	h.clk.Advance(2 * time.Second)
	h.expectNone()
	if c := h.w.Counters(); c.SkippedNames != 1 {
		t.Fatalf("skipped %d, want 1", c.SkippedNames)
	}
}

func TestWatcherRescanFindsLostFile(t *testing.T) {
	t.Parallel()
	h := startWatcher(t, t.TempDir(), func(c *Config, w *Watcher) {
		c.Rescan = time.Minute
		w.drop = func(ev fsnotify.Event) bool { return filepath.Base(ev.Name) == nameB }
	})
	writeFile(t, filepath.Join(h.dir, nameB), "event lost", time.Time{})
	h.waitStep("event:"+nameB, "CREATE")
	h.clk.Advance(2 * time.Second)
	h.expectNone()
	h.clk.Advance(time.Minute)
	h.waitStep("rescan")
	h.expect(nameB, int64(len("event lost")))
	// A second periodic scan does not report it again.
	h.clk.Advance(time.Minute)
	h.waitStep("rescan")
	h.expectNone()
	if c := h.w.Counters(); c.Scans != 3 {
		t.Fatalf("scans %d, want 3 (start and two periodic)", c.Scans)
	}
}

func TestWatcherOverflowRescans(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, nameA), "missed during overflow", time.Now().Add(-time.Minute))
	w, err := NewWatcher(Config{Dir: dir, Settle: 2 * time.Second, MaxFileSize: 100, Clock: testutil.NewClock(time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	s := newSettler(w.cfg.Settle)
	var got []string
	emit := func(e source.Entry) { got = append(got, e.Name.Raw) }
	w.watchError(s, emit, errors.New("some other error"))
	if len(got) != 0 || w.Counters().Scans != 0 {
		t.Fatalf("a non-overflow error scanned: %v", got)
	}
	w.watchError(s, emit, fsnotify.ErrEventOverflow)
	if len(got) != 1 || got[0] != nameA {
		t.Fatalf("overflow scan reported %v, want [%s]", got, nameA)
	}
	if c := w.Counters(); c.Overflows != 1 || c.Scans != 1 {
		t.Fatalf("counters %+v", c)
	}
}

// TestWatcherSystemClock runs the real clock end to end, with a short settle
// time: here fsnotify and time.After themselves are under test.
func TestWatcherSystemClock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := DefaultConfig(dir)
	cfg.Settle = 50 * time.Millisecond
	w, err := NewWatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	w.step = func(s string) {
		if s == "ready" {
			close(ready)
		}
	}
	got := make(chan source.Entry, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, func(e source.Entry) { got <- e }) }()
	<-ready
	if err := w.Run(ctx, func(source.Entry) {}); err == nil {
		t.Fatal("a second concurrent Run was allowed")
	}
	writeFile(t, filepath.Join(dir, nameA), "real time", time.Time{})
	select {
	case e := <-got:
		if e.Name.Raw != nameA {
			t.Fatalf("emitted %s", e.Name.Raw)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("file never reported")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
}

func TestWatcherMissingDir(t *testing.T) {
	t.Parallel()
	w, err := NewWatcher(DefaultConfig(filepath.Join(t.TempDir(), "absent")))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Run(context.Background(), func(source.Entry) {}); err == nil {
		t.Fatal("Run on a missing folder succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	if err := DefaultConfig("/x").Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	err := Config{Rescan: -1, Lookback: -1}.Validate()
	for _, want := range []string{"Dir", "Settle", "Rescan", "Lookback", "MaxFileSize"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %v does not name %s", err, want)
		}
	}
}
