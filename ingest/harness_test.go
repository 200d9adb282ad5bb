package ingest_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/store"
	"github.com/roundfeed/roundfeed/tracker"
	"github.com/roundfeed/roundfeed/tracker/trackertest"
)

// report is one outcome a Reporter received.
type report struct {
	server string
	gen    uint64
	kind   parser.Kind
	o      failover.Outcome
	reason string
}

// recReporter records outcomes.
type recReporter struct {
	mu  sync.Mutex
	gen uint64
	got []report
}

func (r *recReporter) Generation(string) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gen
}

func (r *recReporter) Report(server string, gen uint64, kind parser.Kind, o failover.Outcome, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, report{server, gen, kind, o, reason})
}

func (r *recReporter) outcomes() []failover.Outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []failover.Outcome
	for _, g := range r.got {
		out = append(out, g.o)
	}
	return out
}

// testPublisher records posts; fail makes the next n publishes fail.
type testPublisher struct {
	mu    sync.Mutex
	sent  map[string]int // nonce -> sends
	posts []ingest.Post
	fail  int
	err   error
}

func (p *testPublisher) Publish(_ context.Context, nonce string, post ingest.Post) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail > 0 {
		p.fail--
		return "", p.err
	}
	if p.sent == nil {
		p.sent = map[string]int{}
	}
	p.sent[nonce]++
	p.posts = append(p.posts, post)
	return "msg-" + nonce, nil
}

func (p *testPublisher) sends() (total int, distinct int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.sent {
		total += n
	}
	return total, len(p.sent)
}

// env is a pipeline on a real SQLite file, a folder of files and a
// virtual clock.
type env struct {
	t     *testing.T
	ctx   context.Context
	dir   string // the "game server" folder
	db    *sql.DB
	tr    *tracker.SQL
	st    *store.Store
	clock *trackertest.Clock
	rep   *recReporter
	pub   *testPublisher
	snd   *ingest.Sender
	p     *ingest.Pipeline
	cfg   ingest.Config
	src   *outageFetcher // the folder's fetcher, with a switchable outage
}

// outageFetcher is a source.Fetcher over a folder that fails every fetch
// with err while err is set (a source outage), counting the fetches.
type outageFetcher struct {
	inner   source.Fetcher
	mu      sync.Mutex
	err     error
	fetches int
}

func (f *outageFetcher) Fetch(ctx context.Context, name parser.FileName) ([]byte, error) {
	f.mu.Lock()
	err := f.err
	f.fetches++
	f.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("sftp: fetch %s: %w", name.Raw, err)
	}
	return f.inner.Fetch(ctx, name)
}

// down starts (err != nil) or ends (nil) an outage.
func (f *outageFetcher) down(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

var epoch = time.Date(2026, 1, 15, 23, 30, 0, 0, time.UTC)

func newEnv(t *testing.T, mod func(*ingest.Config)) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), dir: t.TempDir(), clock: trackertest.NewClock(epoch), rep: &recReporter{}, pub: &testPublisher{}}
	tmp := t.TempDir()
	db, err := store.Open(filepath.Join(tmp, "roundfeed.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	e.cfg = ingest.DefaultConfig()
	e.cfg.ArchiveDir = filepath.Join(tmp, "archive")
	if mod != nil {
		mod(&e.cfg)
	}
	e.tr, err = tracker.NewSQL(db, e.cfg.TrackerConfig(e.clock.Now), tracker.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	e.st, err = store.New(db, e.tr)
	if err != nil {
		t.Fatal(err)
	}
	e.src = &outageFetcher{inner: ingest.DirFetcher{Dir: e.dir, MaxSize: e.cfg.MaxFileSize}}
	e.snd, err = ingest.NewSender(ingest.DefaultSenderConfig(), e.st, e.pub, nil, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	e.p, err = ingest.New(e.cfg, ingest.Deps{
		Tracker:  e.tr,
		Store:    e.st,
		Fetchers: map[string]source.Fetcher{"main": e.src},
		Reporter: e.rep,
		Notify:   e.snd.Notify,
		Now:      e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// put copies testdata files into the server folder.
func (e *env) put(names ...string) {
	e.t.Helper()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			e.t.Fatal(err)
		}
		e.write(n, b)
	}
}

func (e *env) write(name string, data []byte) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, name), data, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func event(t testing.TB, name string, via source.Via) source.Event {
	t.Helper()
	n, err := parser.ValidateName(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return source.Event{Server: "main", Name: n, Via: via, At: epoch}
}

func (e *env) process(name string, via source.Via) ingest.Result {
	e.t.Helper()
	return e.p.Process(e.ctx, event(e.t, name, via))
}

func (e *env) want(name string, via source.Via, want ingest.Status) ingest.Result {
	e.t.Helper()
	r := e.process(name, via)
	if r.Status != want {
		e.t.Fatalf("%s: %s (%s, %v), want %s", name, r.Status, r.Reason, r.Err, want)
	}
	return r
}

func (e *env) round(name string) store.Round {
	e.t.Helper()
	r, err := e.st.Round(e.ctx, "main", name)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) record(name string) tracker.Record {
	e.t.Helper()
	r, err := e.tr.Get(e.ctx, "main", name)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// state is the tracker state of name, or "" while the tracker has no row for
// it yet (an event can still be on its way to a worker): for wait loops.
func (e *env) state(name string) tracker.State {
	e.t.Helper()
	r, err := e.tr.Get(e.ctx, "main", name)
	if errors.Is(err, tracker.ErrNotFound) {
		return ""
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return r.State
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRow(query, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (e *env) flush() int {
	e.t.Helper()
	n, err := e.snd.Flush(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func names(fs []genFile) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.name)
	}
	return out
}
