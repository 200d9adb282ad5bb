package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
)

// Counters are a Watcher's running totals, for metrics.
type Counters struct {
	// Reported counts files passed to emit.
	Reported uint64
	// SkippedNames counts names refused by parser.ValidateName (per scan or
	// create event, so one stray file counts once per scan).
	SkippedNames uint64
	// Scans counts directory scans (start, overflow, periodic).
	Scans uint64
	// Overflows counts fsnotify queue overflows, each followed by a scan.
	Overflows uint64
}

// Watcher reports complete stats files of one folder. It implements
// source.Lister and source.Fetcher over the same folder. Its methods are safe
// for concurrent use; Run must be called at most once at a time.
type Watcher struct {
	cfg   Config
	dir   string
	clock Clock
	log   *slog.Logger

	runMu sync.Mutex // held by Run

	reported, skipped, scans, overflows atomic.Uint64

	// Test seams, set only by this package's tests: step is called by Run
	// once started ("ready") and after it handles an event
	// ("event:NAME:OP"), a settle timer ("settle") or a periodic scan
	// ("rescan"), so a test can advance a virtual clock in
	// step with Run; drop makes Run ignore an event, as if the kernel had
	// lost it.
	step func(what string)
	drop func(fsnotify.Event) bool
}

var (
	_ source.Lister  = (*Watcher)(nil)
	_ source.Fetcher = (*Watcher)(nil)
)

// NewWatcher checks cfg and returns a Watcher. It does not touch the folder;
// Run, List and Fetch report a missing folder.
func NewWatcher(cfg Config) (*Watcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := &Watcher{cfg: cfg, dir: filepath.Clean(cfg.Dir), clock: cfg.Clock, log: cfg.Logger}
	if w.clock == nil {
		w.clock = systemClock{}
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	return w, nil
}

// Counters returns the running totals. Safe for concurrent use.
func (w *Watcher) Counters() Counters {
	return Counters{
		Reported:     w.reported.Load(),
		SkippedNames: w.skipped.Load(),
		Scans:        w.scans.Load(),
		Overflows:    w.overflows.Load(),
	}
}

// Run watches the folder until ctx ends and calls emit once for each complete
// file (again if the file is replaced or rewritten later). The memory of what
// was emitted lives only as long as Run: a new Run's first scan emits every
// file of the lookback window again, and the consumer (tracker, spool)
// drops the repeats. emit is called from
// Run's goroutine, one call at a time, and should return quickly; Run waits
// for it. Run returns ctx.Err() when ctx ends, or an error when the folder
// cannot be watched or scanned at start.
func (w *Watcher) Run(ctx context.Context, emit func(source.Entry)) error {
	if !w.runMu.TryLock() {
		return errors.New("local: Run is already running")
	}
	defer w.runMu.Unlock()

	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("local: watch %s: %w", w.dir, err)
	}
	defer fw.Close()
	// Watch first, scan second: a file created during the scan is then seen
	// by the scan, by an event, or by both (the settler drops the repeat).
	if err := fw.Add(w.dir); err != nil {
		return fmt.Errorf("local: watch %s: %w", w.dir, err)
	}
	s := newSettler(w.cfg.Settle)
	if err := w.scan(s, emit, "start"); err != nil {
		return err
	}
	w.log.Info("local: watching", "dir", w.dir, "settle", w.cfg.Settle, "rescan", w.cfg.Rescan)
	w.stepped("ready")

	var rescanC <-chan time.Time
	if w.cfg.Rescan > 0 {
		rescanC = w.clock.After(w.cfg.Rescan)
	}
	var settleC <-chan time.Time
	for {
		if settleC == nil {
			// Deadlines only move later for a file, and new files settle
			// after the armed deadline, so one timer armed for the earliest
			// deadline is enough.
			if t, ok := s.next(); ok {
				settleC = w.clock.After(max(0, t.Sub(w.clock.Now())))
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-fw.Events:
			if !ok {
				return errors.New("local: watcher closed")
			}
			if w.drop == nil || !w.drop(ev) {
				w.handle(s, ev)
			}
			if w.step != nil {
				w.step("event:" + filepath.Base(ev.Name) + ":" + ev.Op.String())
			}
		case err, ok := <-fw.Errors:
			if !ok {
				return errors.New("local: watcher closed")
			}
			w.watchError(s, emit, err)
		case <-settleC:
			settleC = nil
			w.settleDue(s, emit)
			w.stepped("settle")
		case <-rescanC:
			rescanC = w.clock.After(w.cfg.Rescan)
			if err := w.scan(s, emit, "periodic"); err != nil {
				w.log.Warn("local: scan failed", "dir", w.dir, "err", err)
			}
			w.stepped("rescan")
		}
	}
}

func (w *Watcher) stepped(what string) {
	if w.step != nil {
		w.step(what)
	}
}

// watchError handles an error from fsnotify: an overflow means events were
// lost, so the folder is scanned again; anything else is logged.
func (w *Watcher) watchError(s *settler, emit func(source.Entry), err error) {
	if !errors.Is(err, fsnotify.ErrEventOverflow) {
		w.log.Warn("local: watcher error", "dir", w.dir, "err", err)
		return
	}
	w.overflows.Add(1)
	w.log.Warn("local: event queue overflow, rescanning", "dir", w.dir)
	if err := w.scan(s, emit, "overflow"); err != nil {
		w.log.Warn("local: scan failed", "dir", w.dir, "err", err)
	}
}

// handle applies one fsnotify event to the settler.
func (w *Watcher) handle(s *settler, ev fsnotify.Event) {
	if filepath.Dir(ev.Name) != w.dir {
		return
	}
	name := filepath.Base(ev.Name)
	switch {
	case ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename):
		s.forget(name)
	case ev.Has(fsnotify.Create) || ev.Has(fsnotify.Write):
		if _, err := parser.ValidateName(name); err != nil {
			if ev.Has(fsnotify.Create) {
				w.skipped.Add(1)
				w.log.Debug("local: skipped name", "reason", err)
			}
			return
		}
		st, ok := w.stat(name)
		if !ok {
			s.forget(name)
			return
		}
		s.touch(name, st, w.clock.Now())
	}
}

// settleDue checks every file whose settle time has passed.
func (w *Watcher) settleDue(s *settler, emit func(source.Entry)) {
	now := w.clock.Now()
	names := s.due(now)
	sort.Strings(names)
	for _, name := range names {
		st, ok := w.stat(name)
		if !ok {
			s.forget(name)
			continue
		}
		if s.check(name, st, now) {
			w.emit(name, st, emit, "settled")
		}
	}
}

func (w *Watcher) emit(name string, st fileState, emit func(source.Entry), why string) {
	fn, err := parser.ValidateName(name)
	if err != nil { // checked before; kept so a FileName is never forged
		return
	}
	w.reported.Add(1)
	w.log.Debug("local: file complete", "file", name, "size", st.size, "why", why)
	emit(source.Entry{Name: fn, Size: st.size, ModTime: st.mtime})
}

// stat returns the state of a regular file in the folder.
func (w *Watcher) stat(name string) (fileState, bool) {
	fi, err := os.Lstat(filepath.Join(w.dir, name))
	if err != nil || !fi.Mode().IsRegular() {
		return fileState{}, false
	}
	return fileState{size: fi.Size(), mtime: fi.ModTime()}, true
}

// scan reports every complete file not yet reported and starts the settle
// wait for recent ones.
func (w *Watcher) scan(s *settler, emit func(source.Entry), why string) error {
	w.scans.Add(1)
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return fmt.Errorf("local: scan %s: %w", w.dir, err)
	}
	now := w.clock.Now()
	keep := make(map[string]bool, len(entries))
	found := 0
	for _, de := range entries {
		name := de.Name()
		if !de.Type().IsRegular() {
			continue
		}
		if _, err := parser.ValidateName(name); err != nil {
			w.skipped.Add(1)
			continue
		}
		st, ok := w.stat(name)
		if !ok || !w.inLookback(st.mtime, now) {
			continue
		}
		keep[name] = true
		found++
		switch {
		case s.wasReported(name, st), s.isPending(name):
		case now.Sub(st.mtime) >= w.cfg.Settle:
			s.markReported(name, st)
			w.emit(name, st, emit, why)
		default:
			s.touch(name, st, now)
		}
	}
	s.prune(keep)
	w.log.Debug("local: scanned", "dir", w.dir, "why", why, "files", found)
	return nil
}

func (w *Watcher) inLookback(mtime, now time.Time) bool {
	return w.cfg.Lookback == 0 || !mtime.Before(now.Add(-w.cfg.Lookback))
}

// List returns the valid stats files of the folder modified within the
// lookback window, sorted by name. Other names are skipped and counted.
func (w *Watcher) List(ctx context.Context) ([]source.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return nil, fmt.Errorf("local: list %s: %w", w.dir, err)
	}
	now := w.clock.Now()
	var out []source.Entry
	for _, de := range entries {
		if !de.Type().IsRegular() {
			continue
		}
		fn, err := parser.ValidateName(de.Name())
		if err != nil {
			w.skipped.Add(1)
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue // removed since ReadDir
		}
		if !w.inLookback(fi.ModTime(), now) {
			continue
		}
		out = append(out, source.Entry{Name: fn, Size: fi.Size(), ModTime: fi.ModTime()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name.Raw < out[j].Name.Raw })
	return out, nil
}

// Fetch returns the bytes of one file of the folder. It returns
// source.ErrTooLarge (wrapped) without reading a file over MaxFileSize,
// source.ErrNotFound for a missing file, and source.ErrIncomplete for a file
// modified within the settle time or changed while being read.
func (w *Watcher) Fetch(ctx context.Context, name parser.FileName) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A FileName can be built by hand; check again so no path escapes Dir.
	if _, err := parser.ValidateName(name.Raw); err != nil {
		return nil, fmt.Errorf("local: fetch: %w", err)
	}
	path := filepath.Join(w.dir, name.Raw)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("local: fetch %s: %w", name.Raw, source.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("local: fetch %s: %w", name.Raw, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("local: fetch %s: %w", name.Raw, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("local: fetch %s: not a regular file: %w", name.Raw, source.ErrNotFound)
	}
	if fi.Size() > w.cfg.MaxFileSize {
		return nil, fmt.Errorf("local: fetch %s: %d bytes over %d: %w", name.Raw, fi.Size(), w.cfg.MaxFileSize, source.ErrTooLarge)
	}
	if w.clock.Now().Sub(fi.ModTime()) < w.cfg.Settle {
		return nil, fmt.Errorf("local: fetch %s: modified %v ago: %w", name.Raw, w.clock.Now().Sub(fi.ModTime()).Round(time.Millisecond), source.ErrIncomplete)
	}
	buf := make([]byte, fi.Size()+1) // one more byte shows growth during the read
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("local: fetch %s: %w", name.Raw, err)
	}
	if int64(n) != fi.Size() {
		return nil, fmt.Errorf("local: fetch %s: size changed during read: %w", name.Raw, source.ErrIncomplete)
	}
	return buf[:n], nil
}
