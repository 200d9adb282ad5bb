// Package app wires roundfeed's library into the reference bot: SQLite store
// and tracker, failover machine behind a poll.Guard, webhook trigger, ingest
// pipeline, outbox sender, SFTP poller, metrics and the health report. The
// real bot (run) and the demo build the same App and differ only in what they
// plug in: a Discord session or an in-process stand-in, a real or a scaled
// clock, a remote or a loopback SFTP server.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/examples/bot/internal/discord"
	"github.com/roundfeed/roundfeed/examples/bot/internal/health"
	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/source/poll"
	"github.com/roundfeed/roundfeed/source/webhook"
	"github.com/roundfeed/roundfeed/store"
	"github.com/roundfeed/roundfeed/tracker"
)

// Clock is the time source of every part: Now, After (webhook trigger) and
// NewTimer (poller). The real bot uses SystemClock; the demo a scaled clock.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
	NewTimer(d time.Duration) (<-chan time.Time, func() bool)
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After is time.After.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// NewTimer returns a real timer's channel and stop function.
func (SystemClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// SFTP is what the app needs of the SFTP client (source/sftp.Client
// implements it): listing, fetching, the change probe and its counters.
type SFTP interface {
	source.Lister
	source.Fetcher
	poll.Prober
}

// Options are the parts and settings an App is built from.
type Options struct {
	// Server names the game server ("main").
	Server string
	// DBPath is the SQLite file. The failover snapshot is kept beside it
	// (DBPath + ".failover.json") so a restart keeps the statistics.
	DBPath string
	// Location is the game server's zone (file names are local time).
	Location *time.Location

	Failover failover.Config
	Schedule failover.ScheduleConfig
	Webhook  webhook.Config
	Ingest   ingest.Config
	Sender   ingest.SenderConfig
	// MissedGrace and TickInterval configure the poller (0: its defaults).
	MissedGrace, TickInterval time.Duration

	// Remote is the game server's stats folder over SFTP.
	Remote SFTP
	// SFTPCounters returns SSH handshakes and SFTP requests so far; nil
	// leaves them out of /metrics.
	SFTPCounters func() (handshakes, requests uint64)
	// Publisher posts rounds and awards (the Discord publisher, or a console).
	Publisher ingest.Publisher
	// Alert posts an embed to the admin channel; nil only logs.
	Alert func(ctx context.Context, e *discordgo.MessageEmbed) error
	// Players returns how many players are in voice; nil means 0.
	Players func() int

	Clock  Clock
	Logger *slog.Logger
}

// App is the running bot's core. Its methods are safe for concurrent use.
type App struct {
	opts     Options
	log      *slog.Logger
	clock    Clock
	db       *store.Store
	tracker  tracker.Tracker
	guard    *poll.Guard
	trigger  *webhook.Trigger
	pipeline *ingest.Pipeline
	sender   *ingest.Sender
	poller   *poll.Poller
	metrics  *health.Metrics
	last     health.Tracker
	snapPath string

	ctxMu sync.Mutex
	ctx   context.Context // the Run context, for handlers that start work

	obsMu    sync.Mutex
	imported map[string]int // file -> commits, for the demo's duplicate count

	// results carries failover results from the Guard's callback (which
	// runs in the goroutine that called Record or Tick) to one goroutine
	// that stores them and posts alerts, so a slow database or Discord
	// never holds up the pipeline or the poller.
	resultsMu   sync.Mutex // guards sending on results against Close
	results     chan failover.Result
	resultsDone chan struct{}
	closed      bool
	closeOnce   sync.Once
}

// New opens the database (creating and migrating it) and builds every part.
// Nothing runs until Run.
func New(opts Options) (*App, error) {
	if opts.Server == "" {
		opts.Server = "main"
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Remote == nil || opts.Publisher == nil {
		return nil, errors.New("app: Remote and Publisher are required")
	}
	a := &App{opts: opts, log: opts.Logger, clock: opts.Clock, imported: map[string]int{}, ctx: context.Background(),
		results: make(chan failover.Result, 256), resultsDone: make(chan struct{})}
	now := opts.Clock.Now

	sqldb, err := store.Open(opts.DBPath)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if err := store.Migrate(context.Background(), sqldb); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	sqlTracker, err := tracker.NewSQL(sqldb, opts.Ingest.TrackerConfig(now), tracker.SQLite)
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	a.tracker = &observedTracker{Tracker: sqlTracker, app: a}
	st, err := store.New(sqldb, a.tracker)
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	a.db = st

	m, err := failover.NewMachine(opts.Failover, opts.Clock)
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	if opts.DBPath != "" && opts.DBPath != ":memory:" {
		a.snapPath = opts.DBPath + ".failover.json"
		if b, err := os.ReadFile(a.snapPath); err == nil {
			if err := m.Restore(b); err != nil {
				a.log.Warn("failover snapshot ignored", "path", a.snapPath, "err", err)
			}
		}
	}
	a.guard = poll.NewGuard(m, a.onResult)

	if opts.Webhook.ControlChannelID != "" { // backfill and status run without Discord
		a.trigger, err = webhook.NewTrigger(opts.Webhook, opts.Clock, a.log)
		if err != nil {
			sqldb.Close()
			return nil, fmt.Errorf("app: %w", err)
		}
	}

	a.metrics = health.NewMetrics(health.Sources{
		SSHHandshakes: a.sftpCounter(0),
		SFTPRequests:  a.sftpCounter(1),
		OutboxBacklog: func() float64 { b, _ := a.db.OutboxBacklog(context.Background()); return float64(b.Pending) },
		Quarantine: func() float64 {
			c, _ := a.db.Counts(context.Background())
			return float64(c[tracker.StateQuarantined])
		},
		ModeSeconds: func() (float64, float64) {
			s := a.guard.Status()
			return s.TimeOff.Seconds(), s.TimeOn.Seconds()
		},
		PollingOn: func() bool { return a.guard.Mode() == failover.PollingOn },
	})

	pub := &countingPublisher{inner: opts.Publisher, metrics: a.metrics}
	a.sender, err = ingest.NewSender(opts.Sender, st, pub, a.log.With("component", "sender"), now)
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	a.pipeline, err = ingest.New(opts.Ingest, ingest.Deps{
		Tracker:  a.tracker,
		Store:    &observedStore{Store: st, app: a},
		Fetchers: map[string]source.Fetcher{opts.Server: opts.Remote},
		Reporter: reporter{a.guard},
		Notify:   a.sender.Notify,
		Logger:   a.log.With("component", "ingest"),
		Now:      now,
	})
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	sched, err := failover.NewSchedule(opts.Schedule)
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	a.poller, err = poll.New(poll.Config{
		Server: opts.Server, Schedule: sched, Guard: a.guard, Lister: opts.Remote,
		Prober: opts.Remote,
		Emit:   a.emitPolled, Players: opts.Players, Clock: opts.Clock,
		MissedGrace: opts.MissedGrace, TickInterval: opts.TickInterval,
		Logger: a.log.With("component", "poll"),
	})
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	go a.storeResults()
	if a.trigger != nil && len(opts.Webhook.Whitelist) == 0 {
		a.log.Warn("webhook whitelist empty: every trigger is refused, polling does all the work", "env", webhook.EnvWhitelist)
	}
	return a, nil
}

func (a *App) sftpCounter(i int) func() float64 {
	if a.opts.SFTPCounters == nil {
		return nil
	}
	return func() float64 {
		h, r := a.opts.SFTPCounters()
		return float64([]uint64{h, r}[i])
	}
}

// Metrics returns the metric set (for /metrics).
func (a *App) Metrics() *health.Metrics { return a.metrics }

// Store returns the store.
func (a *App) Store() *store.Store { return a.db }

// Tracker returns the tracker (the SQL tracker on the store's database).
func (a *App) Tracker() tracker.Tracker { return a.tracker }

// Guard returns the failover machine's guard.
func (a *App) Guard() *poll.Guard { return a.guard }

// Pipeline returns the ingest pipeline.
func (a *App) Pipeline() *ingest.Pipeline { return a.pipeline }

// Sender returns the outbox sender.
func (a *App) Sender() *ingest.Sender { return a.sender }

// Trigger returns the webhook trigger (nil without a control channel).
func (a *App) Trigger() *webhook.Trigger { return a.trigger }

// Run runs the pipeline, the outbox sender and the poller until ctx ends,
// then waits for them to stop, saves the failover snapshot and closes the
// database. It returns nil after a clean stop.
func (a *App) Run(ctx context.Context) error {
	a.ctxMu.Lock()
	a.ctx = ctx
	a.ctxMu.Unlock()
	a.log.Info("bot starting", "server", a.opts.Server, "mode", a.guard.Mode().String(), "smart_failover", a.opts.Failover.Enabled)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.pipeline.Run(ctx); err != nil {
			a.log.Error("pipeline stopped", "err", err)
		}
	})
	wg.Go(func() { a.sender.Run(ctx, 5*time.Second) })
	wg.Go(func() {
		if err := a.poller.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("poller stopped", "err", err)
		}
	})
	<-ctx.Done()
	wg.Wait()
	err := a.Close()
	a.log.Info("bot stopped")
	return err
}

// Close stores the failover events still queued, saves the failover
// snapshot and closes the database. Run calls it on the way out; call it
// yourself only when Run was not started (backfill). It is idempotent.
func (a *App) Close() error {
	var err error
	a.closeOnce.Do(func() {
		a.resultsMu.Lock()
		a.closed = true
		close(a.results)
		a.resultsMu.Unlock()
		<-a.resultsDone
		a.saveSnapshot()
		err = a.db.DB().Close()
	})
	return err
}

func (a *App) runCtx() context.Context {
	a.ctxMu.Lock()
	defer a.ctxMu.Unlock()
	return a.ctx
}

func (a *App) saveSnapshot() {
	if a.snapPath == "" {
		return
	}
	b, err := a.guard.Snapshot()
	if err == nil {
		tmp := a.snapPath + ".tmp"
		if err = os.WriteFile(tmp, b, 0o600); err == nil {
			err = os.Rename(tmp, a.snapPath)
		}
	}
	if err != nil {
		a.log.Warn("failover snapshot not saved", "err", err)
	}
}

// HandleMessage runs a gateway message through the webhook trigger: accepted
// file names go to the pipeline (and are marked seen for the poller's
// missed-file check); rate-limited triggers are reported as push failures so
// that polling fetches them; a STATS_READY trigger is resolved by listing.
// It returns the trigger's decision.
func (a *App) HandleMessage(m *discordgo.MessageCreate) webhook.Decision {
	if a.trigger == nil {
		return webhook.Decision{Ignored: "no_trigger"}
	}
	d := a.trigger.Handle(m)
	a.handleDecision(d)
	return d
}

// CatchUp reads the control channel's history since the last message seen
// (after a gateway reconnect that could not resume) and handles each
// message as HandleMessage would. It returns how many messages it read.
func (a *App) CatchUp(ctx context.Context, hist webhook.History) (int, error) {
	if a.trigger == nil {
		return 0, nil
	}
	ds, err := a.trigger.CatchUp(ctx, hist)
	for _, d := range ds {
		a.handleDecision(d)
	}
	return len(ds), err
}

func (a *App) handleDecision(d webhook.Decision) {
	ctx := a.runCtx()
	for _, ev := range d.Events {
		a.submitPushed(ctx, ev)
	}
	for _, ev := range d.RateLimited {
		// Not marked Seen: polling, turned on by this failure, must fetch it.
		a.guard.Record(a.guard.Generation(), kindOf(ev.Name.Kind), failover.Failure, "rate_limited")
		a.log.Warn("webhook rate limited", "file", ev.Name.Raw)
	}
	if d.LimitedReady != nil {
		a.guard.Record(a.guard.Generation(), failover.KindStats, failover.Failure, "rate_limited")
	}
	if d.Ready != nil {
		r := *d.Ready
		go func() {
			gen := a.guard.Generation()
			ev, err := a.trigger.Resolve(ctx, r, a.opts.Remote, a.opts.Location)
			if err != nil {
				if ctx.Err() == nil {
					a.guard.Record(gen, failover.KindStats, failover.Failure, "unresolved")
					a.log.Warn("STATS_READY not resolved", "map", r.Map, "round", r.Round, "err", err)
				}
				return
			}
			a.submitPushed(ctx, ev)
		}()
	}
}

func (a *App) submitPushed(ctx context.Context, ev source.Event) {
	a.poller.Seen(ev.Name.Raw)
	if err := a.pipeline.Submit(ctx, ev); err != nil && ctx.Err() == nil {
		a.log.Warn("submit failed", "file", ev.Name.Raw, "err", err)
	}
}

func (a *App) emitPolled(ev source.Event) {
	ctx := a.runCtx()
	if err := a.pipeline.Submit(ctx, ev); err != nil && ctx.Err() == nil {
		a.log.Warn("submit failed", "file", ev.Name.Raw, "via", string(ev.Via), "err", err)
	}
}

// Backfill imports the listed files synchronously with Via backfill, stats
// files first and endstats after, each in name order, so that a round 2
// meets its round 1 and an endstats file its round. Build the App with
// Ingest.Lookback 0 to take files of any age, and R1Wait and EndstatsWait 0
// so nothing waits. entries is reordered in place; progress is called after
// each file with the count done and the entry's result. A file already
// done is skipped; anything not imported (failed, deferred, interrupted)
// is counted as failed and is retried by running the backfill again.
func (a *App) Backfill(ctx context.Context, entries []source.Entry, progress func(done int, e source.Entry, res ingest.Result)) (imported, skipped, failed int) {
	slices.SortStableFunc(entries, func(x, y source.Entry) int {
		if x.Name.Kind != y.Name.Kind {
			return cmp.Compare(x.Name.Kind, y.Name.Kind)
		}
		return cmp.Compare(x.Name.Raw, y.Name.Raw)
	})
	for i, e := range entries {
		if ctx.Err() != nil {
			break
		}
		res := a.pipeline.Process(ctx, source.Event{Server: a.opts.Server, Name: e.Name, Via: source.ViaBackfill, At: a.clock.Now()})
		switch res.Status {
		case ingest.Imported:
			imported++
		case ingest.Skipped:
			skipped++
		default:
			failed++
		}
		if progress != nil {
			progress(i+1, e, res)
		}
	}
	return
}

// onResult is the Guard's callback: it logs and counts every transition and
// alert, and queues the result for storeResults. It runs outside the
// Guard's lock, one at a time, in the goroutine that called Record or Tick.
func (a *App) onResult(r failover.Result) {
	for _, t := range r.Transitions {
		to := health.ModeWebhook
		if t.To == failover.PollingOn {
			to = health.ModePolling
		}
		a.metrics.Transitions.WithLabelValues(to, reasonLabel(t.Reason)).Inc()
		a.log.Info("failover transition", "from", t.From.String(), "to", t.To.String(), "reason", t.Reason)
	}
	for _, al := range r.Alerts {
		a.log.Warn("failover alert", "kind", al.Kind.String(), "reason", al.Reason)
	}
	a.resultsMu.Lock()
	defer a.resultsMu.Unlock()
	if a.closed { // a late Discord message after shutdown
		return
	}
	select {
	case a.results <- r:
	default:
		a.log.Warn("failover event queue full: event not stored", "transitions", len(r.Transitions), "alerts", len(r.Alerts))
	}
}

// storeResults stores each failover result, saves the snapshot and posts
// the transitions and the prolonged-polling alert to the admin channel.
func (a *App) storeResults() {
	defer close(a.resultsDone)
	for r := range a.results {
		// Stored even during shutdown; alerts are not worth delaying it.
		ctx := a.runCtx()
		if err := a.db.RecordFailover(context.WithoutCancel(ctx), a.opts.Server, r); err != nil {
			a.log.Warn("failover event not stored", "err", err)
		}
		a.saveSnapshot()
		for _, t := range r.Transitions {
			a.alert(ctx, discord.TransitionEmbed(t.To == failover.PollingOn, t.Reason, t.At))
		}
		for _, al := range r.Alerts {
			if al.Kind == failover.AlertProlongedPolling {
				a.alert(ctx, discord.AlertEmbed("SSH polling has been active for a long time",
					"The webhook path is not recovering: check the notifier on the game server. "+al.Reason, al.At))
			}
		}
	}
}

func (a *App) alert(ctx context.Context, e *discordgo.MessageEmbed) {
	if a.opts.Alert == nil {
		return
	}
	if err := a.opts.Alert(ctx, e); err != nil {
		a.log.Warn("admin alert not posted", "title", e.Title, "err", err)
	}
}

// reasonLabel keeps the transitions metric's label set small: the reason's
// first word ("push", "heartbeat", ...) and, for failures, their cause.
func reasonLabel(reason string) string {
	for _, known := range []string{"missed", "rate_limited", "corrupt", "parse", "fetch", "not_found", "unresolved", "heartbeat", "healthy", "disabled"} {
		if containsWord(reason, known) {
			return known
		}
	}
	return "other"
}

func containsWord(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i:i+len(w)] == w {
			return true
		}
	}
	return false
}

func kindOf(k parser.Kind) failover.Kind {
	if k == parser.KindEndstats {
		return failover.KindEndstats
	}
	return failover.KindStats
}

// reporter adapts the Guard to ingest.Reporter (one server per App).
type reporter struct{ g *poll.Guard }

// Generation implements ingest.Reporter for the App's one server.
func (r reporter) Generation(string) uint64 { return r.g.Generation() }

// Report implements ingest.Reporter: the outcome goes to the machine.
func (r reporter) Report(_ string, gen uint64, k parser.Kind, o failover.Outcome, reason string) {
	r.g.Record(gen, kindOf(k), o, reason)
}
