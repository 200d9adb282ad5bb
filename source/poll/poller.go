package poll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
)

// Prober is a cheap check of whether the stats folder changed, made on an
// already open connection (one SFTP stat of the folder: no handshake, no
// listing).
//
// Probe reports changed=true when a file may have been created since the
// previous call that returned without error; the first call reports true. A
// false positive costs one listing; a false negative loses a file until the
// anti-entropy listing, so with one-second mtimes an implementation reports
// a change when the folder's mtime is at or after its previous probe minus
// one second. An error means nothing is known; the caller tries again at the
// next probe. The poller calls Probe from one goroutine.
type Prober interface {
	Probe(ctx context.Context) (changed bool, err error)
}

// Config sets up a Poller. Schedule, Guard, Lister and Emit are required;
// zero durations take the defaults documented on each field.
type Config struct {
	// Server names the game server in emitted events ("main" when empty).
	Server string
	// Schedule says when polls, probes and full listings are due.
	Schedule *failover.Schedule
	// Guard is the shared failover machine.
	Guard *Guard
	// Lister lists the server's stats folder.
	Lister source.Lister
	// Prober is the change probe; nil means no probes (the schedule's full
	// listings and, while polling is on, the polls still run).
	Prober Prober
	// Emit receives one event per listed file not emitted before. It must not
	// block for long: the poller waits for it.
	Emit func(source.Event)
	// Players returns how many players are in voice; nil means 0.
	Players func() int
	// Clock is the time source; nil means SystemClock.
	Clock Clock
	// MissedGrace is how long push has, after a listing found a file, to
	// report it before the poller records a push Failure "missed". It counts
	// from the listing, not from the file's mtime: the game server's clock
	// may differ from the bot's, and a probe that beats the webhook by a
	// second must not look like a miss. Default 30 s.
	MissedGrace time.Duration
	// TickInterval is the longest time between two Ticks of the machine, so
	// the heartbeat and the prolonged-polling alert keep their resolution
	// while nothing is due. Default 60 s.
	TickInterval time.Duration
	// RetryDelay is the wait before a failed listing is tried again.
	// Default 30 s.
	RetryDelay time.Duration
	// Logger receives one line per listing failure and per missed file; nil
	// discards.
	Logger *slog.Logger
}

// Defaults for zero Config durations.
const (
	DefaultMissedGrace  = 30 * time.Second
	DefaultTickInterval = time.Minute
	DefaultRetryDelay   = 30 * time.Second
)

// Validate reports every problem of c at once, or nil.
func (c Config) Validate() error {
	var errs []error
	if c.Schedule == nil {
		errs = append(errs, errors.New("poll: config: Schedule is nil"))
	}
	if c.Guard == nil {
		errs = append(errs, errors.New("poll: config: Guard is nil"))
	}
	if c.Lister == nil {
		errs = append(errs, errors.New("poll: config: Lister is nil"))
	}
	if c.Emit == nil {
		errs = append(errs, errors.New("poll: config: Emit is nil"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"MissedGrace", c.MissedGrace}, {"TickInterval", c.TickInterval}, {"RetryDelay", c.RetryDelay}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("poll: config: %s %v: must not be negative (0: default)", d.name, d.v))
		}
	}
	return errors.Join(errs...)
}

// Poller runs one server's polling schedule. Create it with New and start
// Run in a goroutine; call Seen for every file push reports.
type Poller struct {
	cfg  Config
	clk  Clock
	log  *slog.Logger
	wake <-chan struct{}

	mu       sync.Mutex
	seen     map[string]time.Time // names push reported, and when
	lastFile time.Time
	stats    Stats

	// Owned by the Run goroutine.
	retryAt   time.Time
	retryVia  source.Via
	baselined bool
	// probeFailing is set from the first failed probe to the next good one.
	probeFailing bool
	known        map[string]struct{}    // names in the last listing or emitted
	pending      map[string]pendingMiss // listed, not yet reported by push
}

// Stats counts what a Poller did, for a status command or metrics.
type Stats struct {
	// LastPoll, LastProbe and LastFullList are when each last ran (a poll is
	// also a full listing), zero if never.
	LastPoll, LastProbe, LastFullList time.Time
	// Listings and Probes count attempts; ListErrors and ProbeErrors the
	// failed ones.
	Listings, ListErrors, Probes, ProbeErrors uint64
	// Emitted counts events; Missed the files push did not report in time.
	Emitted, Missed uint64
	// Pending is how many listed files are waiting for push within the grace.
	Pending int
}

// Stats returns the poller's counters. It is safe for concurrent use.
func (p *Poller) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// count applies f to the stats under the lock.
func (p *Poller) count(f func(*Stats)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&p.stats)
}

type pendingMiss struct {
	kind failover.Kind
	due  time.Time
}

// seenRetention bounds the memory of names push reported.
const seenRetention = 48 * time.Hour

// New returns a Poller for cfg, or Validate's error.
func New(cfg Config) (*Poller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Server == "" {
		cfg.Server = "main"
	}
	if cfg.MissedGrace == 0 {
		cfg.MissedGrace = DefaultMissedGrace
	}
	if cfg.TickInterval == 0 {
		cfg.TickInterval = DefaultTickInterval
	}
	if cfg.RetryDelay == 0 {
		cfg.RetryDelay = DefaultRetryDelay
	}
	clk := cfg.Clock
	if clk == nil {
		clk = SystemClock()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poller{
		cfg:     cfg,
		clk:     clk,
		log:     log.With("server", cfg.Server),
		wake:    cfg.Guard.subscribe(),
		seen:    map[string]time.Time{},
		known:   map[string]struct{}{},
		pending: map[string]pendingMiss{},
	}, nil
}

// Seen tells the poller that push reported the file name (call it for every
// webhook event of this server). It is safe for concurrent use.
func (p *Poller) Seen(name string) {
	now := p.clk.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen[name] = now
	p.lastFile = later(p.lastFile, now)
}

func (p *Poller) wasSeen(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.seen[name]
	return ok
}

func (p *Poller) noteFile(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastFile = later(p.lastFile, t)
}

// Run polls until ctx ends, then returns ctx's error. Listing and probe
// errors are logged and retried; they do not stop Run. Run must be called
// once.
func (p *Poller) Run(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		next := p.step(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		d := next.Sub(p.clk.Now())
		if d <= 0 {
			continue
		}
		c, stop := p.clk.NewTimer(d)
		select {
		case <-ctx.Done():
			stop()
			return ctx.Err()
		case <-p.wake:
			stop()
		case <-c:
		}
	}
}

// step ticks the machine, does what is due, and returns when to step again
// (now, if it did something: the plan changes).
func (p *Poller) step(ctx context.Context) time.Time {
	now := p.clk.Now()
	players := 0
	if p.cfg.Players != nil {
		players = p.cfg.Players()
	}
	p.cfg.Guard.Tick(players)
	p.checkPending(now)
	mode, off := p.cfg.Guard.state()
	p.mu.Lock()
	lastFile, st := p.lastFile, p.stats
	for name, t := range p.seen {
		if now.Sub(t) > seenRetention {
			delete(p.seen, name)
		}
	}
	p.mu.Unlock()
	plan := p.cfg.Schedule.Plan(failover.PlanInput{
		Now: now, Players: players, LastFile: lastFile,
		LastPoll: st.LastPoll, LastProbe: st.LastProbe, LastFullList: st.LastFullList,
		Mode: mode, OffInterval: off,
	})
	if p.cfg.Prober == nil {
		plan.NextProbe = time.Time{}
	}
	if plan.Phase == failover.PhaseDead {
		p.retryAt = time.Time{} // the listing at the end of the dead hours replaces the retry
	}
	due := func(t time.Time) bool { return !t.IsZero() && !t.After(now) }
	switch {
	case due(plan.NextPoll):
		p.list(ctx, now, source.ViaPoll)
		return now
	case due(plan.NextFullList):
		p.list(ctx, now, source.ViaProbe)
		return now
	case due(plan.NextProbe):
		p.probe(ctx, now)
		return now
	case due(p.retryAt):
		p.list(ctx, now, p.retryVia)
		return now
	}
	next := now.Add(p.cfg.TickInterval)
	for _, t := range []time.Time{plan.Next(), p.retryAt} {
		if !t.IsZero() && t.Before(next) {
			next = t
		}
	}
	for _, pm := range p.pending {
		if pm.due.Before(next) {
			next = pm.due
		}
	}
	return next
}

// probe runs the change probe and lists when it reports a change. A failure
// is logged once when probes start failing and once when they recover.
func (p *Poller) probe(ctx context.Context, now time.Time) {
	var failing bool
	p.count(func(s *Stats) { s.LastProbe = now; s.Probes++; failing = p.probeFailing })
	changed, err := p.cfg.Prober.Probe(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		p.count(func(s *Stats) { s.ProbeErrors++ })
		if !failing {
			p.log.Warn("poll: probe failed", "err", err)
		}
		p.probeFailing = true
		return
	}
	if failing {
		p.log.Info("poll: probe recovered")
		p.probeFailing = false
	}
	if changed {
		p.list(ctx, now, source.ViaProbe)
		return
	}
	p.quiet()
}

// quiet tells the machine the folder holds nothing push has not reported
// (failover.Machine.Quiet), when that is known: a listing has run, the last
// one did not fail (a probe reports a change once; if its listing failed,
// "unchanged" since says nothing), and no listed file is still waiting for
// push within the missed grace.
func (p *Poller) quiet() {
	if p.baselined && p.retryAt.IsZero() && len(p.pending) == 0 {
		p.cfg.Guard.Quiet()
	}
}

// list runs one listing, emits new files and notes the ones push must
// report. A failed listing is retried after RetryDelay; it is logged once
// when listings start failing and once when they recover.
func (p *Poller) list(ctx context.Context, now time.Time, via source.Via) {
	p.count(func(s *Stats) {
		s.LastFullList, s.Listings = now, s.Listings+1
		if via == source.ViaPoll { // a retried poll is the poll
			s.LastPoll = now
		}
	})
	entries, err := p.cfg.Lister.List(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		p.count(func(s *Stats) { s.ListErrors++ })
		if p.retryAt.IsZero() {
			p.log.Warn("poll: listing failed", "via", via, "retry_in", p.cfg.RetryDelay, "err", err)
		}
		p.retryAt, p.retryVia = now.Add(p.cfg.RetryDelay), via
		return
	}
	if !p.retryAt.IsZero() {
		p.log.Info("poll: listing recovered", "via", via)
	}
	p.retryAt = time.Time{}
	present := make(map[string]struct{}, len(entries))
	for _, e := range entries {
		name := e.Name.Raw
		present[name] = struct{}{}
		if _, ok := p.known[name]; ok {
			continue
		}
		p.known[name] = struct{}{}
		at := now
		if !e.ModTime.IsZero() && e.ModTime.Before(now) {
			at = e.ModTime
		}
		p.noteFile(at)
		if p.wasSeen(name) {
			continue // push reported it; its own event is in the pipeline
		}
		p.cfg.Emit(source.Event{Server: p.cfg.Server, Name: e.Name, Via: via, At: now})
		p.count(func(s *Stats) { s.Emitted++ })
		if !p.baselined {
			continue // files from before the start: nobody knows whether push saw them
		}
		if k, ok := kindOf(e.Name); ok {
			p.pending[name] = pendingMiss{kind: k, due: now.Add(p.cfg.MissedGrace)}
		}
	}
	for name := range p.known {
		if _, ok := present[name]; !ok {
			delete(p.known, name) // removed from the server
		}
	}
	p.baselined = true
	p.checkPending(now)
	p.quiet()
}

// checkPending records a push failure "missed" for each listed file push has
// not reported within the grace.
func (p *Poller) checkPending(now time.Time) {
	for name, pm := range p.pending {
		if p.wasSeen(name) {
			delete(p.pending, name)
			continue
		}
		if now.Before(pm.due) {
			continue
		}
		delete(p.pending, name)
		p.count(func(s *Stats) { s.Missed++ })
		// Generation 0: a miss is a fact about push whenever it is found.
		p.cfg.Guard.Record(0, pm.kind, failover.Failure, "missed")
		p.log.Warn("poll: push missed a file", "file", name, "kind", pm.kind, "grace", p.cfg.MissedGrace)
	}
	p.count(func(s *Stats) { s.Pending = len(p.pending) })
}

func kindOf(n parser.FileName) (failover.Kind, bool) {
	switch n.Kind {
	case parser.KindStats:
		return failover.KindStats, true
	case parser.KindEndstats:
		return failover.KindEndstats, true
	}
	return 0, false
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
