package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/tracker"
)

// Reporter receives the push path's outcomes: the failover machine's guard
// (source/poll.Guard) implements it. Generation is read when a file's
// processing starts and handed back with its outcome, so the machine can
// drop outcomes that started before a transition. Both methods must be
// safe for concurrent use and must not block.
type Reporter interface {
	Generation(server string) uint64
	Report(server string, gen uint64, kind parser.Kind, o failover.Outcome, reason string)
}

// Deps are the parts a Pipeline works with.
type Deps struct {
	// Tracker decides who processes a file; Store must mark done through it.
	Tracker tracker.Tracker
	// Store receives imports.
	Store Store
	// Fetchers fetch bytes, by server name.
	Fetchers map[string]source.Fetcher
	// Reporter, if not nil, receives outcomes of webhook events.
	Reporter Reporter
	// Notify, if not nil, is called after each commit that queued posts
	// (Sender.Notify wakes the publisher). It must not block.
	Notify func()
	// Logger, nil for none.
	Logger *slog.Logger
	// Now is the clock, nil for time.Now. The tracker should use the same.
	Now func() time.Time
}

// Pipeline imports files named by events: claim, fetch (archive first),
// parse, pair or link, store with the done mark and the posts in one
// transaction, report. It is safe for concurrent use.
type Pipeline struct {
	cfg     Config
	d       Deps
	log     *slog.Logger
	now     func() time.Time
	archive *Archive

	queue    chan job
	stopping chan struct{}

	mu       sync.Mutex
	busy     map[fileKey]bool         // queued or running in this process
	deferred map[fileKey]deferInfo    // waiting for another file, for early retries
	waiting  map[fileKey]source.Event // postponed while their source failed, retried when it answers
	envWait  map[fileKey]envWaiter    // postponed while the archive or database failed
	closed   bool

	env envState

	m counters
}

type fileKey struct{ server, name string }

// envWaiter is a file postponed by an environment failure: retried at due
// by RetryDue (a claim that failed left no record in the tracker) and at
// once after the next import succeeds.
type envWaiter struct {
	ev  source.Event
	due time.Time
}

type deferInfo struct {
	ev  source.Event
	mp  string
	due time.Time
}

type job struct {
	ev      source.Event
	force   bool // claim even if not due (an early retry of a deferred file)
	retry   bool // a retry: failures and deferrals were reported the first time
	refetch bool // fetch from the source, not the archive (an operator's retry)
}

// ErrClosed is returned by Submit after shutdown began.
var ErrClosed = errors.New("ingest: pipeline closed")

// New returns a pipeline. Call Run to start its workers, or Process to
// import files synchronously.
func New(cfg Config, d Deps) (*Pipeline, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if d.Tracker == nil {
		errs = append(errs, errors.New("ingest: no tracker"))
	}
	if d.Store == nil {
		errs = append(errs, errors.New("ingest: no store"))
	}
	if len(d.Fetchers) == 0 {
		errs = append(errs, errors.New("ingest: no fetcher"))
	}
	for srv := range d.Fetchers {
		if !validServer(srv) {
			errs = append(errs, fmt.Errorf("ingest: server name %q: use letters, digits, '_' and '-'", srv))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	p := &Pipeline{
		cfg:      cfg,
		d:        d,
		log:      d.Logger,
		now:      d.Now,
		archive:  &Archive{Dir: cfg.ArchiveDir, MaxSize: cfg.MaxFileSize, Sync: cfg.ArchiveFsync},
		queue:    make(chan job, cfg.QueueSize),
		stopping: make(chan struct{}),
		busy:     make(map[fileKey]bool),
		deferred: make(map[fileKey]deferInfo),
		waiting:  make(map[fileKey]source.Event),
		envWait:  make(map[fileKey]envWaiter),
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

// Archive returns the pipeline's archive (to re-parse stored files).
func (p *Pipeline) Archive() *Archive { return p.archive }

// Status is what became of one event.
type Status uint8

// Statuses.
const (
	// Imported: stored, marked done, posts queued.
	Imported Status = iota + 1
	// Skipped: nothing to do here: done already, claimed by another worker,
	// older than the lookback, waiting for its retry time, quarantined, or
	// already queued in this process.
	Skipped
	// Deferred: waiting for another file (an R1, an endstats' round) or for
	// the file to be complete; retried later.
	Deferred
	// Failed: fetch, parse or store failed; retried later with backoff.
	Failed
	// Quarantined: failed for the last time, or permanently (too large).
	Quarantined
	// Released: shutdown interrupted the file; its claim was given back.
	Released
)

var statusNames = [...]string{"", "imported", "skipped", "deferred", "failed", "quarantined", "released"}

// String returns the status name.
func (s Status) String() string {
	if int(s) < len(statusNames) && s > 0 {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Result is the outcome of processing one event.
type Result struct {
	Status Status
	// Reason says why, for every status but Imported.
	Reason string
	// Err is the underlying error of Skipped (the tracker's *ClaimError),
	// Failed and Quarantined.
	Err error
}

// Metrics are counters since start, for /metrics and status output.
type Metrics struct {
	Imported, Skipped, Deferred, Failed, Quarantined, Released uint64
	// Queued is the number of events waiting for a worker.
	Queued int
	// EnvFailures counts failures of the bot's own environment (archive
	// folder not writable, disk full, database busy, locked or closed):
	// retried without counting an attempt, so a growing count is the
	// signal to alert on.
	EnvFailures uint64
	// EnvOutage names the parts failing now ("archive", "database",
	// comma-separated), "" when none.
	EnvOutage string
}

type counters struct {
	byStatus    [7]atomic.Uint64
	envFailures atomic.Uint64
}

// Metrics returns the counters.
func (p *Pipeline) Metrics() Metrics {
	c := &p.m.byStatus
	return Metrics{
		Imported: c[Imported].Load(), Skipped: c[Skipped].Load(), Deferred: c[Deferred].Load(),
		Failed: c[Failed].Load(), Quarantined: c[Quarantined].Load(), Released: c[Released].Load(),
		Queued: len(p.queue), EnvFailures: p.m.envFailures.Load(), EnvOutage: p.env.outage(),
	}
}

// Submit queues an event for the workers started by Run. It returns at once
// when the file is already queued or being processed here (one file is
// never worked on twice at once), blocks while the queue is full, and
// returns ErrClosed once shutdown began or ctx's error when ctx ends first.
func (p *Pipeline) Submit(ctx context.Context, ev source.Event) error {
	return p.submit(ctx, job{ev: ev}, true)
}

func (p *Pipeline) submit(ctx context.Context, j job, wait bool) error {
	k := fileKey{j.ev.Server, j.ev.Name.Raw}
	if j.ev.Name.IsZero() || j.ev.Server == "" {
		return fmt.Errorf("ingest: submit: event without server or name")
	}
	if p.d.Fetchers[j.ev.Server] == nil {
		return fmt.Errorf("ingest: submit: no fetcher for server %q", j.ev.Server)
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	if p.busy[k] {
		p.mu.Unlock()
		p.m.byStatus[Skipped].Add(1)
		return nil
	}
	p.busy[k] = true
	p.mu.Unlock()
	if !wait {
		select {
		case p.queue <- j:
			return nil
		default:
			p.unbusy(k)
			return nil // the periodic retry finds it again
		}
	}
	select {
	case p.queue <- j:
		return nil
	case <-ctx.Done():
		p.unbusy(k)
		return fmt.Errorf("ingest: submit: %w", ctx.Err())
	case <-p.stopping:
		p.unbusy(k)
		return ErrClosed
	}
}

func (p *Pipeline) unbusy(k fileKey) {
	p.mu.Lock()
	delete(p.busy, k)
	p.mu.Unlock()
}

// Retry processes a file again at once, whatever its state but done: the
// "retry" command for a quarantined file. It takes the file with a forced
// claim (a quarantined file's attempts start again from zero) and fetches it
// afresh from its source, since the archived copy may be what failed.
// Failures are not reported to the Reporter again; the success of a file
// first seen by the webhook is.
func (p *Pipeline) Retry(ctx context.Context, server, name string) Result {
	n, err := parser.ValidateName(name)
	if err != nil {
		return Result{Status: Failed, Reason: "bad name", Err: err}
	}
	via := source.ViaBackfill
	if rec, err := p.d.Tracker.Get(ctx, server, name); err == nil {
		via = source.Via(rec.Via)
	}
	return p.processJob(ctx, job{ev: source.Event{Server: server, Name: n, Via: via, At: p.now()}, force: true, retry: true, refetch: true})
}

// Process imports the file an event names, synchronously, and returns what
// became of it. It is what the workers run; call it directly for a backfill
// or in tests. A file already being processed in this process is Skipped.
// ctx bounds the fetch only: once the bytes are in, the import completes
// (or its claim is released) even if ctx ends.
func (p *Pipeline) Process(ctx context.Context, ev source.Event) Result {
	return p.processJob(ctx, job{ev: ev})
}

func (p *Pipeline) processJob(ctx context.Context, j job) Result {
	k := fileKey{j.ev.Server, j.ev.Name.Raw}
	p.mu.Lock()
	if p.busy[k] {
		p.mu.Unlock()
		p.m.byStatus[Skipped].Add(1)
		return Result{Status: Skipped, Reason: "in progress"}
	}
	p.busy[k] = true
	p.mu.Unlock()
	defer p.unbusy(k)
	return p.runJob(ctx, j)
}

// runJob runs a job whose key the caller marked busy.
func (p *Pipeline) runJob(ctx context.Context, j job) (res Result) {
	defer func() { p.m.byStatus[res.Status].Add(1) }()
	p.mu.Lock()
	delete(p.deferred, fileKey{j.ev.Server, j.ev.Name.Raw})
	delete(p.waiting, fileKey{j.ev.Server, j.ev.Name.Raw})
	delete(p.envWait, fileKey{j.ev.Server, j.ev.Name.Raw})
	p.mu.Unlock()
	if p.d.Fetchers[j.ev.Server] == nil {
		return Result{Status: Failed, Reason: "unknown server", Err: fmt.Errorf("ingest: no fetcher for server %q", j.ev.Server)}
	}
	return p.run(ctx, j)
}

func (p *Pipeline) run(ctx context.Context, j job) (res Result) {
	var claim *tracker.Claim // set while a claim is held, for the panic handler
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		// A bug must not take the bot down, nor loop forever on one file:
		// the panic counts as a failed attempt.
		p.log.Error("ingest: panic", "server", j.ev.Server, "file", j.ev.Name.Raw, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		err := fmt.Errorf("ingest: panic: %v", v)
		res = Result{Status: Failed, Reason: "panic", Err: err}
		if claim != nil {
			res = p.fail(context.WithoutCancel(ctx), p.log, *claim, "panic", err, func(failover.Outcome, string) {})
		}
	}()
	ev := j.ev
	name := ev.Name
	log := p.log.With("server", ev.Server, "file", name.Raw, "via", string(ev.Via))
	webhook := ev.Via == source.ViaWebhook && p.d.Reporter != nil
	var gen uint64
	if webhook {
		gen = p.d.Reporter.Generation(ev.Server)
	}
	report := func(o failover.Outcome, reason string) {
		if !webhook || (j.retry && o != failover.Success) {
			return
		}
		p.d.Reporter.Report(ev.Server, gen, name.Kind, o, reason)
	}
	// Bookkeeping must finish even when shutdown cancels ctx: a cancelled
	// commit or release would leave a claim to expire for nothing.
	db := context.WithoutCancel(ctx)

	// A backfill is an operator's explicit request: it ignores the lookback
	// and takes quarantined or waiting files too (never a done one).
	force := j.force || ev.Via == source.ViaBackfill
	c, err := p.d.Tracker.Claim(db, tracker.Request{Server: ev.Server, Name: name.Raw, Via: string(ev.Via), FileTime: name.Time, Force: force})
	if err != nil {
		var ce *tracker.ClaimError
		if errors.As(err, &ce) {
			return Result{Status: Skipped, Reason: ce.Err.Error(), Err: err}
		}
		if kind, why, ok := envFault(err); ok && ctx.Err() == nil {
			// Nothing is recorded (the database refused the claim):
			// remember the event to try again.
			p.noteEnv(log, kind, why, err)
			p.remember(ev, p.now().Add(p.envBackoff(p.now().Sub(ev.At))))
			return Result{Status: Failed, Reason: "claim: " + why + " (not counted)", Err: err}
		}
		log.Error("ingest: claim", "err", err)
		return Result{Status: Failed, Reason: "claim", Err: err}
	}
	claim = &c

	var data []byte
	if c.Attempts == 0 && !j.refetch {
		data, err = p.load(ctx, ev.Server, name)
	} else {
		// An earlier attempt failed: the archived copy may be what failed
		// (fetched while still being written), so fetch afresh.
		data, err = p.refetch(ctx, ev.Server, name)
	}
	if err != nil {
		switch {
		case ctx.Err() != nil:
			p.release(db, log, c, time.Time{})
			return Result{Status: Released, Reason: "shutdown", Err: err}
		case errors.Is(err, source.ErrTooLarge):
			if qerr := p.d.Tracker.Quarantine(db, c, "fetch: "+err.Error()); qerr != nil {
				log.Error("ingest: quarantine", "err", qerr)
			}
			log.Warn("ingest: quarantined", "reason", "too large", "err", err)
			report(failover.Failure, "file too large")
			return Result{Status: Quarantined, Reason: "too large", Err: err}
		case errors.Is(err, source.ErrIncomplete):
			p.release(db, log, c, p.now().Add(p.cfg.DeferMin))
			report(failover.Deferred, "file still being written")
			return Result{Status: Deferred, Reason: "incomplete", Err: err}
		case p.notFileFault(err, c):
			// The push path delivered the name; the fetch path failed. The
			// machine still hears a Failure (DESIGN: fetch failure ->
			// Failure), which turns polling on: harmless, and the safe side.
			report(failover.Failure, "fetch failed")
			return p.postpone(db, log, c, ev, "fetch", err)
		}
		if kind, why, ok := envFault(err); ok {
			return p.postponeEnv(db, log, c, ev, kind, why, err)
		}
		return p.fail(db, log, c, "fetch", err, report)
	}
	imp := &Import{Event: ev, Claim: c, Digest: tracker.Digest{SHA256: digest(data), Size: int64(len(data))}, At: p.now()}

	switch name.Kind {
	case parser.KindStats:
		st, err := parser.ParseStats(name.Raw, data, p.cfg.Parser)
		if err != nil {
			return p.fail(db, log, c, "parse", err, report)
		}
		imp.Stats = st
	case parser.KindEndstats:
		es, err := parser.ParseEndstats(name.Raw, data, p.cfg.Parser)
		if err != nil {
			return p.fail(db, log, c, "parse", err, report)
		}
		imp.Endstats = es
	default:
		return p.fail(db, log, c, "parse", fmt.Errorf("unknown file kind %v", name.Kind), report)
	}

	// Decide (pair, link) and commit; when another worker committed a file
	// the decision depends on in between, decide again.
	for try := 1; ; try++ {
		d, err := p.decide(ctx, db, imp)
		if err != nil && ctx.Err() != nil {
			p.release(db, log, c, time.Time{})
			return Result{Status: Released, Reason: "shutdown", Err: err}
		}
		if err != nil && p.notFileFault(err, c) {
			// A stored companion (an R1, an orphan R2) had to be fetched
			// again and its source failed.
			report(failover.Failure, "pair failed")
			return p.postpone(db, log, c, ev, "pair", err)
		}
		if kind, why, ok := envFault(err); ok {
			return p.postponeEnv(db, log, c, ev, kind, why, err)
		}
		if err != nil {
			return p.fail(db, log, c, "pair", err, report)
		}
		if d.wait > 0 {
			if !p.deferFile(db, log, c, ev, d.wait, d.why) {
				return Result{Status: Skipped, Reason: "lease lost"}
			}
			report(failover.Deferred, d.why)
			return Result{Status: Deferred, Reason: d.why}
		}
		err = p.d.Store.Commit(db, imp)
		if errors.Is(err, ErrConflict) && try < 5 {
			log.Info("ingest: pairing changed during commit; deciding again", "try", try)
			continue
		}
		if kind, why, ok := envFault(err); ok {
			return p.postponeEnv(db, log, c, ev, kind, why, err)
		}
		switch {
		case err == nil:
			p.env.ok(p.log, p.now(), envDatabase)
		case errors.Is(err, tracker.ErrLeaseLost):
			// Our lease expired and another worker took the file: its
			// commit is the one that counts.
			log.Warn("ingest: lease lost before commit", "err", err)
			return Result{Status: Skipped, Reason: "lease lost", Err: err}
		case errors.Is(err, ErrDuplicate):
			// Stored, but the tracker did not know: heal the tracker.
			log.Warn("ingest: already stored; marking done", "err", err)
			if merr := p.d.Tracker.MarkDone(db, nil, c, imp.Digest); merr != nil {
				log.Error("ingest: mark done", "err", merr)
			}
			return Result{Status: Skipped, Reason: "already stored", Err: err}
		default:
			return p.fail(db, log, c, "store", err, report)
		}
		claim = nil // settled
		break
	}
	if imp.R2 != nil && imp.R2.Status == parser.StatusOrphan {
		log.Warn("ingest: round 2 without round 1: stored as orphan", "warning", imp.R2.Warning)
	}
	if imp.Endstats != nil && imp.Round == nil {
		log.Warn("ingest: endstats without its round: stored unlinked", "waited", p.cfg.EndstatsWait)
	}
	log.Info("ingest: imported", "kind", name.Kind.String(), "bytes", len(data), "r2", r2Status(imp.R2),
		"linked", imp.Round != nil, "orphans_linked", len(imp.Links))
	report(failover.Success, "")
	if p.d.Notify != nil && len(imp.Posts) > 0 {
		p.d.Notify()
	}
	if name.Kind == parser.KindStats {
		p.kick(ctx, ev)
	}
	p.envRecovered(ctx)
	return Result{Status: Imported}
}

// decision says whether to wait for another file (wait > 0: how long at
// most since the file was first seen, and why).
type decision struct {
	wait time.Duration
	why  string
}

// decide fills imp's pairing, links, basis and posts from the store's
// current state.
func (p *Pipeline) decide(ctx, db context.Context, imp *Import) (decision, error) {
	imp.R2, imp.R1, imp.Round, imp.LinkDelta, imp.Links, imp.Basis = nil, nil, nil, 0, nil, nil
	server, name, firstSeen := imp.Event.Server, imp.Event.Name, imp.Claim.FirstSeen
	// A backfill walks a folder in order: what is not stored when a file
	// comes will not arrive by waiting (a later round 1 still links an
	// orphan round 2).
	if imp.Event.Via == source.ViaBackfill {
		firstSeen = time.Time{}
	}
	if es := imp.Endstats; es != nil {
		imp.Window = endstatsWindow
		cands, err := p.d.Store.RoundCandidates(db, server, name, endstatsWindow)
		if err != nil {
			return decision{}, err
		}
		imp.Basis = ids(cands)
		link, ok := parser.LinkEndstats(name, candNames(cands), p.cfg.Parser)
		roundFile := ""
		switch {
		case ok:
			imp.Round = findCand(cands, link.StatsFile.Raw)
			imp.LinkDelta = link.DeltaSeconds
			roundFile = link.StatsFile.Raw
		case p.now().Sub(firstSeen) < p.cfg.EndstatsWait:
			return decision{wait: p.cfg.EndstatsWait, why: "endstats before its round"}, nil
		}
		imp.Posts = []Post{AwardsPost(server, es, roundFile)}
		return decision{}, nil
	}
	st := imp.Stats
	imp.Window = p.pairWindow()
	if st.File.IsRound2ByName {
		cands, err := p.d.Store.R1Candidates(db, server, name, imp.Window)
		if err != nil {
			return decision{}, err
		}
		imp.Basis = ids(cands)
		r2, r1, wait, err := p.pairR2(ctx, server, st, cands, firstSeen)
		if err != nil {
			return decision{}, err
		}
		if wait {
			return decision{wait: p.cfg.R1Wait, why: "round 1 not stored yet"}, nil
		}
		imp.R2, imp.R1 = r2, r1
	} else {
		orphans, err := p.d.Store.OrphanR2s(db, server, name, imp.Window)
		if err != nil {
			return decision{}, err
		}
		imp.Basis = ids(orphans)
		for _, o := range orphans {
			l, ok, err := p.linkOrphan(ctx, db, server, st, o)
			if err != nil {
				return decision{}, err
			}
			if ok {
				imp.Links = append(imp.Links, l)
			}
		}
	}
	imp.Posts = []Post{RoundPost(server, st, imp.R2)}
	return decision{}, nil
}

func ids(cs []Candidate) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.RoundID
	}
	return out
}

// endstatsWindow is the link rule's window (endstats-format.md section 5).
const endstatsWindow = 30 * time.Second

func r2Status(r *parser.R2) string {
	if r == nil {
		return ""
	}
	return r.Status
}

func candNames(cs []Candidate) []parser.FileName {
	out := make([]parser.FileName, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

func findCand(cs []Candidate, raw string) *Candidate {
	for i := range cs {
		if cs[i].Name.Raw == raw {
			c := cs[i]
			return &c
		}
	}
	return nil
}

// load returns a file's bytes: the archived copy if there is one, else the
// fetcher's (then archived).
func (p *Pipeline) load(ctx context.Context, server string, name parser.FileName) ([]byte, error) {
	data, err := p.archive.Read(server, name)
	if err != nil && !errors.Is(err, source.ErrNotFound) && !errors.Is(err, source.ErrTooLarge) {
		return nil, &archiveError{err: err, read: true}
	}
	if err == nil || !errors.Is(err, source.ErrNotFound) {
		return data, err
	}
	data, err = p.fetch(ctx, server, name)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > p.cfg.MaxFileSize {
		return nil, fmt.Errorf("ingest: %s: %d bytes, limit %d: %w", name.Raw, len(data), p.cfg.MaxFileSize, source.ErrTooLarge)
	}
	if err := p.archiveWrite(server, name, data); err != nil {
		return nil, err
	}
	return data, nil
}

// refetch fetches a file from its source and archives it, falling back to
// the archived copy when the source fails.
func (p *Pipeline) refetch(ctx context.Context, server string, name parser.FileName) ([]byte, error) {
	data, err := p.fetch(ctx, server, name)
	if err == nil && int64(len(data)) > p.cfg.MaxFileSize {
		err = fmt.Errorf("ingest: %s: %d bytes, limit %d: %w", name.Raw, len(data), p.cfg.MaxFileSize, source.ErrTooLarge)
	}
	if err == nil {
		return data, p.archiveWrite(server, name, data)
	}
	if ctx.Err() != nil || errors.Is(err, source.ErrTooLarge) {
		return nil, err
	}
	if old, aerr := p.archive.Read(server, name); aerr == nil {
		return old, nil
	}
	return nil, err
}

// loadStored returns the bytes of a stored file, checked against the digest
// recorded at its import: an archived copy that differs (lost or damaged
// outside roundfeed) is replaced by a fresh fetch.
func (p *Pipeline) loadStored(ctx context.Context, server string, c Candidate) ([]byte, error) {
	data, err := p.load(ctx, server, c.Name)
	if err != nil || c.SHA256 == "" || digest(data) == c.SHA256 {
		return data, err
	}
	p.log.Warn("ingest: archived copy differs from the imported file; fetching again", "server", server, "file", c.Name.Raw)
	if data, err = p.fetch(ctx, server, c.Name); err != nil {
		return nil, err
	}
	if digest(data) != c.SHA256 {
		return nil, fmt.Errorf("ingest: %s changed on the server since its import", c.Name.Raw)
	}
	return data, p.archiveWrite(server, c.Name, data)
}

// archiveWrite archives a fetched file; its errors are the environment's
// (archiveError), and a success ends an archive outage.
func (p *Pipeline) archiveWrite(server string, name parser.FileName, data []byte) error {
	if err := p.archive.Write(server, name, data); err != nil {
		return &archiveError{err: err}
	}
	p.env.ok(p.log, p.now(), envArchive)
	return nil
}

// sourceError marks an error of the source (the Fetcher), as opposed to the
// archive, the parser or the store: see notFileFault.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// fetch asks server's Fetcher for a file. Its errors are wrapped in
// sourceError; a success retries at once the files postponed because this
// source failed.
func (p *Pipeline) fetch(ctx context.Context, server string, name parser.FileName) ([]byte, error) {
	f := p.d.Fetchers[server]
	if f == nil {
		return nil, fmt.Errorf("ingest: no fetcher for server %q", server)
	}
	data, err := f.Fetch(ctx, name)
	if err != nil {
		return nil, &sourceError{err}
	}
	p.recovered(ctx, server)
	return data, nil
}

// notFileFault reports whether err says nothing about the file itself, so
// that the attempt must not count toward MaxAttempts: the source failed
// (connection down, dial or handshake error, a deadline while connecting,
// a file still being written), or the file was not found on its source
// within NotFoundGrace of being first seen (a name announced before the
// file is visible). Parse errors, ErrTooLarge, archive and store errors,
// and a file still missing after the grace count as attempts.
func (p *Pipeline) notFileFault(err error, c tracker.Claim) bool {
	var se *sourceError
	switch {
	case !errors.As(err, &se), errors.Is(err, source.ErrTooLarge):
		return false
	case errors.Is(err, source.ErrNotFound):
		return c.FirstSeen.IsZero() || p.now().Sub(c.FirstSeen) < p.cfg.NotFoundGrace
	}
	return true
}

// postpone gives the claim back without counting an attempt, after a
// failure that is the source's, not the file's (notFileFault). The next try
// comes after half the file's age so far, within RetryBase..RetryMax (a
// backoff that needs no counter and survives restarts), or at once when the
// source next answers a fetch. The budget is time, not attempts: the file
// is retried until it leaves the lookback window, never quarantined for it.
func (p *Pipeline) postpone(ctx context.Context, log *slog.Logger, c tracker.Claim, ev source.Event, stage string, err error) Result {
	now := p.now()
	next := now.Add(min(max(now.Sub(c.FirstSeen)/2, p.cfg.RetryBase), p.cfg.RetryMax))
	reason := stage + " (source unavailable, not counted): " + err.Error()
	var perr error
	if pp, ok := p.d.Tracker.(tracker.Postponer); ok {
		perr = pp.Postpone(ctx, c, reason, next)
	} else {
		perr = p.d.Tracker.Release(ctx, c, next)
	}
	if perr != nil {
		log.Error("ingest: postpone", "err", perr, "reason", reason)
		return Result{Status: Failed, Reason: stage + ": source unavailable", Err: err}
	}
	p.mu.Lock()
	p.waiting[fileKey{ev.Server, ev.Name.Raw}] = ev
	p.mu.Unlock()
	log.Warn("ingest: source unavailable; retrying without counting an attempt", "stage", stage, "retry_at", next, "err", err)
	return Result{Status: Failed, Reason: stage + ": source unavailable", Err: err}
}

// envBackoff is the wait before retrying a file postponed by an
// environment failure: half its age so far, within RetryBase..RetryMax.
func (p *Pipeline) envBackoff(age time.Duration) time.Duration {
	return min(max(age/2, p.cfg.RetryBase), p.cfg.RetryMax)
}

// noteEnv counts an environment failure and logs the start of an outage.
func (p *Pipeline) noteEnv(log *slog.Logger, kind envKind, why string, err error) {
	p.m.envFailures.Add(1)
	p.env.fail(p.log, p.now(), kind, why, err)
	log.Warn("ingest: environment failure; retrying without counting an attempt", "part", string(kind), "reason", why, "err", err)
}

// remember keeps an event postponed by an environment failure, for
// RetryDue (at due) and envRecovered.
func (p *Pipeline) remember(ev source.Event, due time.Time) {
	p.mu.Lock()
	p.envWait[fileKey{ev.Server, ev.Name.Raw}] = envWaiter{ev: ev, due: due}
	p.mu.Unlock()
}

// postponeEnv gives the claim back without counting an attempt after a
// failure of the bot's environment (envFault): the archive cannot be
// written, the database is busy, locked or closed. The reason ("archive
// unwritable (not counted): ...") is kept for status; the retry comes with
// the same backoff as a source outage (half the file's age, within
// RetryBase..RetryMax), or at once after the next successful import. The
// webhook outcome is not reported: the push path did its part, and polling
// would not help. Nothing here kicks other files, so a failure that
// repeats forever costs one try per file per RetryMax at most.
func (p *Pipeline) postponeEnv(ctx context.Context, log *slog.Logger, c tracker.Claim, ev source.Event, kind envKind, why string, err error) Result {
	p.noteEnv(log, kind, why, err)
	now := p.now()
	next := now.Add(p.envBackoff(now.Sub(c.FirstSeen)))
	reason := why + " (not counted): " + err.Error()
	var perr error
	if pp, ok := p.d.Tracker.(tracker.Postponer); ok {
		perr = pp.Postpone(ctx, c, reason, next)
	} else {
		perr = p.d.Tracker.Release(ctx, c, next)
	}
	if perr != nil {
		// The database refused this too: the claim's lease expires and
		// RetryDue takes the file again (an expired lease costs no attempt).
		log.Warn("ingest: postpone", "err", perr, "reason", reason)
	}
	p.remember(ev, next)
	return Result{Status: Failed, Reason: why + " (not counted)", Err: err}
}

// envRecovered retries at once, after a successful import, the files
// postponed by an environment failure.
func (p *Pipeline) envRecovered(ctx context.Context) {
	p.mu.Lock()
	var kick []source.Event
	for k, w := range p.envWait {
		kick = append(kick, w.ev)
		delete(p.envWait, k)
	}
	p.mu.Unlock()
	for _, ev := range kick {
		_ = p.submit(ctx, job{ev: ev, force: true, retry: true}, false)
	}
}

// recovered retries at once the files of server postponed while its source
// failed, now that it answered.
func (p *Pipeline) recovered(ctx context.Context, server string) {
	p.mu.Lock()
	var kick []source.Event
	for k, ev := range p.waiting {
		if k.server == server {
			kick = append(kick, ev)
			delete(p.waiting, k)
		}
	}
	p.mu.Unlock()
	for _, ev := range kick {
		_ = p.submit(ctx, job{ev: ev, force: true, retry: true}, false)
	}
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (p *Pipeline) release(ctx context.Context, log *slog.Logger, c tracker.Claim, at time.Time) {
	if err := p.d.Tracker.Release(ctx, c, at); err != nil {
		log.Error("ingest: release", "err", err)
	}
}

// backoff is the wait after failure number n (1-based).
func (p *Pipeline) backoff(n int) time.Duration {
	d := p.cfg.RetryBase
	for i := 1; i < n && d < p.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, p.cfg.RetryMax)
}

func (p *Pipeline) fail(ctx context.Context, log *slog.Logger, c tracker.Claim, stage string, err error, report func(failover.Outcome, string)) Result {
	reason := stage + ": " + err.Error()
	retry := p.now().Add(p.backoff(c.Attempts + 1))
	st, ferr := p.d.Tracker.Fail(ctx, c, reason, retry)
	report(failover.Failure, stage+" failed")
	if ferr != nil {
		log.Error("ingest: record failure", "err", ferr, "reason", reason)
		return Result{Status: Failed, Reason: stage, Err: err}
	}
	if st == tracker.StateQuarantined {
		log.Warn("ingest: quarantined", "attempts", c.Attempts+1, "reason", reason)
		return Result{Status: Quarantined, Reason: stage, Err: err}
	}
	log.Warn("ingest: failed", "attempt", c.Attempts+1, "retry_at", retry, "reason", reason)
	return Result{Status: Failed, Reason: stage, Err: err}
}

// deferFile releases a claim until the next try: half the file's age so far,
// within DeferMin..DeferMax, and not past its deadline (first seen + wait),
// so the try after the deadline resolves it. It remembers the file so a
// stats import of the same map can retry it at once.
func (p *Pipeline) deferFile(ctx context.Context, log *slog.Logger, c tracker.Claim, ev source.Event, wait time.Duration, why string) bool {
	now := p.now()
	age := now.Sub(c.FirstSeen)
	next := now.Add(min(max(age/2, p.cfg.DeferMin), p.cfg.DeferMax))
	if deadline := c.FirstSeen.Add(wait); next.After(deadline) && deadline.After(now) {
		next = deadline
	}
	if err := p.d.Tracker.Release(ctx, c, next); err != nil {
		log.Error("ingest: defer", "err", err)
		return false
	}
	p.mu.Lock()
	p.deferred[fileKey{ev.Server, ev.Name.Raw}] = deferInfo{ev: ev, mp: ev.Name.Map, due: next}
	p.mu.Unlock()
	log.Info("ingest: deferred", "why", why, "retry_at", next)
	return true
}

// pairR2 pairs a round-2 file with one of the stored R1 candidates. wait
// reports that none fits and the file is young enough to wait for its R1.
func (p *Pipeline) pairR2(ctx context.Context, server string, st *parser.Stats, cands []Candidate, firstSeen time.Time) (r2 *parser.R2, r1 *Candidate, wait bool, err error) {
	if p.cfg.Parser.Mode == parser.Native && st.Aborted {
		return parser.Orphan(st, "saved on the shutdown path (negative playtime); not paired"), nil, false, nil
	}
	r1name, ok := parser.PairR1(st.File.Parsed, candNames(p.usable(cands, st)), p.cfg.Parser)
	if !ok {
		if p.now().Sub(firstSeen) < p.cfg.R1Wait {
			return nil, nil, true, nil
		}
		return parser.Orphan(st, ""), nil, false, nil
	}
	r1 = findCand(cands, r1name.Raw)
	data, err := p.loadStored(ctx, server, *r1)
	if err != nil {
		return nil, nil, false, fmt.Errorf("round 1 %s: %w", r1name.Raw, err)
	}
	r1st, perr := parser.ParseStats(r1name.Raw, data, p.cfg.Parser)
	return pairTwo(r1name.Raw, r1st, perr, st, p.cfg.Parser), r1, false, nil
}

// pairTwo computes an R2 result against its chosen R1 through
// parser.PairAll, which applies the mode's checks and the pair confidence.
func pairTwo(r1name string, r1 *parser.Stats, r1err error, r2 *parser.Stats, opt parser.Options) *parser.R2 {
	res := parser.PairAll([]parser.StatsFile{{Name: r1name, Stats: r1, Err: r1err}, {Name: r2.File.Name, Stats: r2}}, opt)[1]
	if res == nil {
		return parser.Orphan(r2, "")
	}
	return res
}

// linkOrphan decides whether the stored orphan o pairs with the round-1 file
// r1 being imported (r1 is the one PairR1 would choose among the stored
// candidates and r1), and computes the differential.
func (p *Pipeline) linkOrphan(ctx, db context.Context, server string, r1 *parser.Stats, o Candidate) (Link, bool, error) {
	data, err := p.loadStored(ctx, server, o)
	if err != nil {
		return Link{}, false, fmt.Errorf("orphan %s: %w", o.Name.Raw, err)
	}
	r2, err := parser.ParseStats(o.Name.Raw, data, p.cfg.Parser)
	if err != nil {
		return Link{}, false, nil
	}
	cands, err := p.d.Store.R1Candidates(db, server, o.Name, p.pairWindow())
	if err != nil {
		return Link{}, false, err
	}
	self := Candidate{Name: r1.File.Parsed, HeaderMap: r1.Header.Map, HeaderRound: r1.Header.Round, Aborted: r1.Aborted}
	chosen, ok := parser.PairR1(o.Name, candNames(p.usable(append(cands, self), r2)), p.cfg.Parser)
	if !ok || chosen.Raw != r1.File.Name {
		return Link{}, false, nil
	}
	res := pairTwo(r1.File.Name, r1, nil, r2, p.cfg.Parser)
	if res.Status != parser.StatusDifferential {
		return Link{}, false, nil
	}
	return Link{R2: o, Result: res}, true, nil
}

func (p *Pipeline) pairWindow() time.Duration {
	if p.cfg.Parser.PairWindow > 0 {
		return p.cfg.Parser.PairWindow
	}
	return parser.DefaultPairWindow
}

// usable filters R1 candidates by native mode's rules (S10, S15): not
// saved on the shutdown path, not paired with another R2, header map and
// round consistent. Compat keeps all.
func (p *Pipeline) usable(cands []Candidate, r2 *parser.Stats) []Candidate {
	if p.cfg.Parser.Mode != parser.Native {
		return cands
	}
	var out []Candidate
	for _, c := range cands {
		if c.Aborted || (c.PairedWith != "" && c.PairedWith != r2.File.Name) || c.HeaderMap != r2.Header.Map || c.HeaderRound != 1 {
			continue
		}
		out = append(out, c)
	}
	return out
}

// kick retries at once the files deferred for the map of a stats file
// that just committed.
func (p *Pipeline) kick(ctx context.Context, ev source.Event) {
	p.mu.Lock()
	var kick []source.Event
	for k, d := range p.deferred {
		if k.server == ev.Server && d.mp == ev.Name.Map {
			kick = append(kick, d.ev)
		}
	}
	p.mu.Unlock()
	for _, e := range kick {
		_ = p.submit(ctx, job{ev: e, force: true, retry: true}, false)
	}
}
