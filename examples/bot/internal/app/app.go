// Package app wires roundfeed's library into the reference bot: SQLite store
// and tracker, failover machine behind a poll.Guard, webhook trigger, ingest
// pipeline, outbox sender, SFTP poller, metrics and the health report.
//
// One App serves one or more game servers. The database, tracker (keyed by
// server and file name), pipeline, outbox sender and metrics are shared;
// each server has its own SFTP remote, failover machine, schedule, poller and
// webhook trigger, so a dead notifier on one server turns polling on for
// that server only. The
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

// Server is one game server's parts and settings.
type Server struct {
	// Name names the server on events, in the database and in metrics
	// ("main" when it is the only one and empty).
	Name string
	// Location is the server's zone (file names are local time).
	Location *time.Location

	Failover failover.Config
	Schedule failover.ScheduleConfig
	// Webhook is the server's trigger: its control channel and the webhook
	// IDs of its notifier. Its Server field is set to Name. An empty
	// ControlChannelID builds no trigger (backfill, status).
	Webhook webhook.Config
	// MissedGrace and TickInterval configure the poller (0: its defaults).
	MissedGrace, TickInterval time.Duration

	// Remote is the server's stats folder over SFTP.
	Remote SFTP
	// SFTPCounters returns SSH handshakes and SFTP requests so far; nil
	// leaves them out of /metrics.
	SFTPCounters func() (handshakes, requests uint64)
	// Players returns how many players are in voice for this server; nil
	// means 0.
	Players func() int
}

// Options are the parts and settings an App is built from. Either Servers
// lists the game servers, or it is empty and the single-server fields
// (Server, Location, Failover, Schedule, Webhook, MissedGrace,
// TickInterval, Remote, SFTPCounters, Players) describe the one server.
type Options struct {
	// Servers are the game servers; names must be unique.
	Servers []Server

	// Server names the game server ("main").
	Server string
	// DBPath is the SQLite file. The failover snapshot of each server is
	// kept beside it (DBPath + ".failover.json" for "main", DBPath +
	// ".failover.NAME.json" for the others) so a restart keeps the
	// statistics.
	DBPath string
	// DBURL, when set (postgres://...), puts the database on PostgreSQL
	// instead of the SQLite file; the snapshots stay beside DBPath. It holds
	// a password: it is never logged (store.OpenURL's errors redact it).
	DBURL string
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

// servers returns the game servers of o: Servers, or the one server of the
// single-server fields.
func (o Options) servers() []Server {
	if len(o.Servers) > 0 {
		return o.Servers
	}
	return []Server{{Name: o.Server, Location: o.Location, Failover: o.Failover, Schedule: o.Schedule,
		Webhook: o.Webhook, MissedGrace: o.MissedGrace, TickInterval: o.TickInterval,
		Remote: o.Remote, SFTPCounters: o.SFTPCounters, Players: o.Players}}
}

// server is one game server's running parts.
type server struct {
	Server
	guard    *poll.Guard
	trigger  *webhook.Trigger
	poller   *poll.Poller
	snapPath string
	last     health.Tracker
	hooks    map[string]bool // whitelisted webhook IDs
}

// result is a failover result of one server, queued for storeResults.
type result struct {
	srv *server
	r   failover.Result
}

// App is the running bot's core. Its methods are safe for concurrent use.
type App struct {
	opts     Options
	log      *slog.Logger
	clock    Clock
	db       *store.Store
	tracker  tracker.Tracker
	servers  []*server
	byName   map[string]*server
	pipeline *ingest.Pipeline
	sender   *ingest.Sender
	metrics  *health.Metrics
	last     health.Tracker

	ctxMu sync.Mutex
	ctx   context.Context // the Run context, for handlers that start work

	obsMu    sync.Mutex
	imported map[string]int // "server/file" -> commits, for the demo's duplicate count

	// results carries failover results from the Guard's callback (which
	// runs in the goroutine that called Record or Tick) to one goroutine
	// that stores them and posts alerts, so a slow database or Discord
	// never holds up the pipeline or the poller.
	resultsMu   sync.Mutex // guards sending on results against Close
	results     chan result
	resultsDone chan struct{}
	closed      bool
	closeOnce   sync.Once
}

// New opens the database (creating and migrating it) and builds every part.
// Nothing runs until Run.
func New(opts Options) (*App, error) {
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	srvs := opts.servers()
	if opts.Publisher == nil {
		return nil, errors.New("app: Publisher is required")
	}
	a := &App{opts: opts, log: opts.Logger, clock: opts.Clock, imported: map[string]int{}, ctx: context.Background(),
		results: make(chan result, 256), resultsDone: make(chan struct{}), byName: map[string]*server{}}
	for i, so := range srvs {
		if so.Name == "" {
			if len(srvs) > 1 {
				return nil, fmt.Errorf("app: server %d has no name", i+1)
			}
			so.Name = "main"
		}
		if so.Remote == nil {
			return nil, fmt.Errorf("app: server %s: Remote is required", so.Name)
		}
		if so.Location == nil {
			so.Location = time.UTC
		}
		if a.byName[so.Name] != nil {
			return nil, fmt.Errorf("app: server %s: name used twice", so.Name)
		}
		so.Webhook.Server = so.Name
		s := &server{Server: so, hooks: map[string]bool{}}
		for _, id := range so.Webhook.Whitelist {
			s.hooks[id] = true
		}
		a.servers = append(a.servers, s)
		a.byName[so.Name] = s
	}
	// A webhook ID may trigger one server only: the message names a file,
	// not a server, so the ID is what says whose folder to read.
	owner := map[string]string{}
	for _, s := range a.servers {
		for id := range s.hooks {
			if o, dup := owner[id]; dup {
				return nil, fmt.Errorf("app: webhook ID %s whitelisted by servers %s and %s", id, o, s.Name)
			}
			owner[id] = s.Name
		}
	}
	now := opts.Clock.Now

	// PostgreSQL when DBURL is set, else the SQLite file; migrated either way.
	sqldb, dialect, err := store.OpenURL(context.Background(), opts.DBURL, opts.DBPath)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	fail := func(err error) (*App, error) {
		sqldb.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	sqlTracker, err := tracker.NewSQL(sqldb, opts.Ingest.TrackerConfig(now), dialect)
	if err != nil {
		return fail(err)
	}
	a.tracker = &observedTracker{Tracker: sqlTracker, app: a}
	st, err := store.New(sqldb, a.tracker)
	if err != nil {
		return fail(err)
	}
	a.db = st

	src := health.Sources{
		OutboxBacklog: func() float64 { b, _ := a.db.OutboxBacklog(context.Background()); return float64(b.Pending) },
		Quarantine: func() float64 {
			c, _ := a.db.Counts(context.Background())
			return float64(c[tracker.StateQuarantined])
		},
	}
	fetchers := map[string]source.Fetcher{}
	for _, s := range a.servers {
		m, err := failover.NewMachine(s.Failover, opts.Clock)
		if err != nil {
			return fail(fmt.Errorf("server %s: %w", s.Name, err))
		}
		if opts.DBPath != "" && opts.DBPath != ":memory:" {
			s.snapPath = SnapshotPath(opts.DBPath, s.Name)
			if b, err := os.ReadFile(s.snapPath); err == nil {
				if err := m.Restore(b); err != nil {
					a.log.Warn("failover snapshot ignored", "server", s.Name, "path", s.snapPath, "err", err)
				}
			}
		}
		s.guard = poll.NewGuard(m, func(r failover.Result) { a.onResult(s, r) })
		if s.Webhook.ControlChannelID != "" { // backfill and status run without Discord
			s.trigger, err = webhook.NewTrigger(s.Webhook, opts.Clock, a.log.With("server", s.Name))
			if err != nil {
				return fail(fmt.Errorf("server %s: %w", s.Name, err))
			}
		}
		src.Servers = append(src.Servers, s.healthSources())
		fetchers[s.Name] = s.Remote
	}
	a.metrics = health.NewMetrics(src)

	pub := &countingPublisher{inner: opts.Publisher, metrics: a.metrics}
	a.sender, err = ingest.NewSender(opts.Sender, st, pub, a.log.With("component", "sender"), now)
	if err != nil {
		return fail(err)
	}
	a.pipeline, err = ingest.New(opts.Ingest, ingest.Deps{
		Tracker:  a.tracker,
		Store:    &observedStore{Store: st, app: a},
		Fetchers: fetchers,
		Reporter: reporter{a},
		Notify:   a.sender.Notify,
		Logger:   a.log.With("component", "ingest"),
		Now:      now,
	})
	if err != nil {
		return fail(err)
	}
	for _, s := range a.servers {
		sched, err := failover.NewSchedule(s.Schedule)
		if err != nil {
			return fail(fmt.Errorf("server %s: %w", s.Name, err))
		}
		s.poller, err = poll.New(poll.Config{
			Server: s.Name, Schedule: sched, Guard: s.guard, Lister: s.Remote,
			Prober: s.Remote,
			Emit:   a.emitPolled, Players: s.Players, Clock: opts.Clock,
			MissedGrace: s.MissedGrace, TickInterval: s.TickInterval,
			Logger: a.log.With("component", "poll", "server", s.Name),
		})
		if err != nil {
			return fail(fmt.Errorf("server %s: %w", s.Name, err))
		}
		if s.trigger != nil && len(s.Webhook.Whitelist) == 0 {
			a.log.Warn("webhook whitelist empty: every trigger is refused, polling does all the work", "server", s.Name, "env", webhook.EnvWhitelist)
		}
	}
	go a.storeResults()
	return a, nil
}

// SnapshotPath is where the failover snapshot of server is kept beside the
// database at dbPath: dbPath + ".failover.json" for "main" (the file of
// single-server bots), dbPath + ".failover.NAME.json" for the others.
func SnapshotPath(dbPath, server string) string {
	if server == "" || server == "main" {
		return dbPath + ".failover.json"
	}
	return dbPath + ".failover." + server + ".json"
}

// healthSources returns the server's per-server metric sources.
func (s *server) healthSources() health.ServerSources {
	hs := health.ServerSources{
		Server: s.Name,
		ModeSeconds: func() (float64, float64) {
			st := s.guard.Status()
			return st.TimeOff.Seconds(), st.TimeOn.Seconds()
		},
		PollingOn: func() bool { return s.guard.Mode() == failover.PollingOn },
	}
	if s.SFTPCounters != nil {
		hs.SSHHandshakes = func() float64 { h, _ := s.SFTPCounters(); return float64(h) }
		hs.SFTPRequests = func() float64 { _, r := s.SFTPCounters(); return float64(r) }
	}
	return hs
}

// Metrics returns the metric set (for /metrics).
func (a *App) Metrics() *health.Metrics { return a.metrics }

// Store returns the store.
func (a *App) Store() *store.Store { return a.db }

// Tracker returns the tracker (the SQL tracker on the store's database).
func (a *App) Tracker() tracker.Tracker { return a.tracker }

// Guard returns the first server's failover guard (the only one of a
// single-server bot).
func (a *App) Guard() *poll.Guard { return a.servers[0].guard }

// GuardOf returns the named server's failover guard, or nil.
func (a *App) GuardOf(name string) *poll.Guard {
	if s := a.byName[name]; s != nil {
		return s.guard
	}
	return nil
}

// Servers returns the game servers' names, in configuration order.
func (a *App) Servers() []string {
	out := make([]string, len(a.servers))
	for i, s := range a.servers {
		out[i] = s.Name
	}
	return out
}

// Pipeline returns the ingest pipeline.
func (a *App) Pipeline() *ingest.Pipeline { return a.pipeline }

// Sender returns the outbox sender.
func (a *App) Sender() *ingest.Sender { return a.sender }

// Trigger returns the first server's webhook trigger (nil without a
// control channel).
func (a *App) Trigger() *webhook.Trigger { return a.servers[0].trigger }

// Run runs the pipeline, the outbox sender and the poller until ctx ends,
// then waits for them to stop, saves the failover snapshot and closes the
// database. It returns nil after a clean stop.
func (a *App) Run(ctx context.Context) error {
	a.ctxMu.Lock()
	a.ctx = ctx
	a.ctxMu.Unlock()
	for _, s := range a.servers {
		a.log.Info("bot starting", "server", s.Name, "mode", s.guard.Mode().String(), "smart_failover", s.Failover.Enabled)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.pipeline.Run(ctx); err != nil {
			a.log.Error("pipeline stopped", "err", err)
		}
	})
	wg.Go(func() { a.sender.Run(ctx, 5*time.Second) })
	for _, s := range a.servers {
		wg.Go(func() {
			if err := s.poller.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error("poller stopped", "server", s.Name, "err", err)
			}
		})
	}
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
		for _, s := range a.servers {
			a.saveSnapshot(s)
		}
		err = a.db.DB().Close()
	})
	return err
}

func (a *App) runCtx() context.Context {
	a.ctxMu.Lock()
	defer a.ctxMu.Unlock()
	return a.ctx
}

func (a *App) saveSnapshot(s *server) {
	if s.snapPath == "" {
		return
	}
	b, err := s.guard.Snapshot()
	if err == nil {
		tmp := s.snapPath + ".tmp"
		if err = os.WriteFile(tmp, b, 0o600); err == nil {
			err = os.Rename(tmp, s.snapPath)
		}
	}
	if err != nil {
		a.log.Warn("failover snapshot not saved", "server", s.Name, "err", err)
	}
}

// HandleMessage runs a gateway message through the webhook trigger of the
// server whose whitelist holds the message's webhook ID (a message from no
// whitelisted webhook goes to the first server watching its channel, whose
// trigger counts why it is ignored): accepted file names go to the pipeline
// (and are marked seen for that server's missed-file check); rate-limited
// triggers are reported as that server's push failures so that its polling
// fetches them; a STATS_READY trigger is resolved by listing its folder.
// It returns the trigger's decision.
func (a *App) HandleMessage(m *discordgo.MessageCreate) webhook.Decision {
	s := a.route(m)
	if s == nil {
		return webhook.Decision{Ignored: "no_trigger"}
	}
	d := s.trigger.Handle(m)
	a.handleDecision(s, d)
	return d
}

// route picks the server whose trigger handles m, or nil.
func (a *App) route(m *discordgo.MessageCreate) *server {
	if m == nil || m.Message == nil {
		return nil
	}
	var first *server
	for _, s := range a.servers {
		if s.trigger == nil || s.Webhook.ControlChannelID != m.ChannelID {
			continue
		}
		if m.WebhookID != "" && s.hooks[m.WebhookID] {
			return s
		}
		if first == nil {
			first = s
		}
	}
	return first
}

// ControlChannels returns the control channels of every server with a
// trigger, without repeats.
func (a *App) ControlChannels() []string {
	var out []string
	for _, s := range a.servers {
		if s.trigger != nil && !slices.Contains(out, s.Webhook.ControlChannelID) {
			out = append(out, s.Webhook.ControlChannelID)
		}
	}
	return out
}

// CatchUp reads the control channel's history since the last message seen
// by each server's trigger (after a gateway reconnect that could not
// resume) and handles each message as HandleMessage would. A trigger only
// accepts its own server's webhooks, so servers sharing a channel each read
// it. It returns how many messages it read.
func (a *App) CatchUp(ctx context.Context, hist webhook.History) (int, error) {
	n := 0
	var errs []error
	for _, s := range a.servers {
		if s.trigger == nil {
			continue
		}
		ds, err := s.trigger.CatchUp(ctx, hist)
		for _, d := range ds {
			a.handleDecision(s, d)
		}
		n += len(ds)
		if err != nil {
			errs = append(errs, fmt.Errorf("server %s: %w", s.Name, err))
		}
	}
	return n, errors.Join(errs...)
}

func (a *App) handleDecision(s *server, d webhook.Decision) {
	ctx := a.runCtx()
	for _, ev := range d.Events {
		a.submitPushed(ctx, s, ev)
	}
	for _, ev := range d.RateLimited {
		// Not marked Seen: polling, turned on by this failure, must fetch it.
		s.guard.Record(s.guard.Generation(), kindOf(ev.Name.Kind), failover.Failure, "rate_limited")
		a.log.Warn("webhook rate limited", "server", s.Name, "file", ev.Name.Raw)
	}
	if d.LimitedReady != nil {
		s.guard.Record(s.guard.Generation(), failover.KindStats, failover.Failure, "rate_limited")
	}
	if d.Ready != nil {
		r := *d.Ready
		go func() {
			gen := s.guard.Generation()
			ev, err := s.trigger.Resolve(ctx, r, s.Remote, s.Location)
			if err != nil {
				if ctx.Err() == nil {
					s.guard.Record(gen, failover.KindStats, failover.Failure, "unresolved")
					a.log.Warn("STATS_READY not resolved", "server", s.Name, "map", r.Map, "round", r.Round, "err", err)
				}
				return
			}
			a.submitPushed(ctx, s, ev)
		}()
	}
}

func (a *App) submitPushed(ctx context.Context, s *server, ev source.Event) {
	s.poller.Seen(ev.Name.Raw)
	if err := a.pipeline.Submit(ctx, ev); err != nil && ctx.Err() == nil {
		a.log.Warn("submit failed", "server", ev.Server, "file", ev.Name.Raw, "err", err)
	}
}

func (a *App) emitPolled(ev source.Event) {
	ctx := a.runCtx()
	if err := a.pipeline.Submit(ctx, ev); err != nil && ctx.Err() == nil {
		a.log.Warn("submit failed", "server", ev.Server, "file", ev.Name.Raw, "via", string(ev.Via), "err", err)
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
// The files are the first server's; BackfillServer names another.
func (a *App) Backfill(ctx context.Context, entries []source.Entry, progress func(done int, e source.Entry, res ingest.Result)) (imported, skipped, failed int) {
	return a.BackfillServer(ctx, a.servers[0].Name, entries, progress)
}

// BackfillServer is Backfill for the named server's files; an unknown
// server fails every entry.
func (a *App) BackfillServer(ctx context.Context, server string, entries []source.Entry, progress func(done int, e source.Entry, res ingest.Result)) (imported, skipped, failed int) {
	if a.byName[server] == nil {
		return 0, 0, len(entries)
	}
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
		res := a.pipeline.Process(ctx, source.Event{Server: server, Name: e.Name, Via: source.ViaBackfill, At: a.clock.Now()})
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
func (a *App) onResult(s *server, r failover.Result) {
	for _, t := range r.Transitions {
		to := health.ModeWebhook
		if t.To == failover.PollingOn {
			to = health.ModePolling
		}
		a.metrics.Transitions.WithLabelValues(s.Name, to, reasonLabel(t.Reason)).Inc()
		a.log.Info("failover transition", "server", s.Name, "from", t.From.String(), "to", t.To.String(), "reason", t.Reason)
	}
	for _, al := range r.Alerts {
		a.log.Warn("failover alert", "server", s.Name, "kind", al.Kind.String(), "reason", al.Reason)
	}
	a.resultsMu.Lock()
	defer a.resultsMu.Unlock()
	if a.closed { // a late Discord message after shutdown
		return
	}
	select {
	case a.results <- result{s, r}:
	default:
		a.log.Warn("failover event queue full: event not stored", "server", s.Name, "transitions", len(r.Transitions), "alerts", len(r.Alerts))
	}
}

// storeResults stores each failover result, saves the snapshot and posts
// the transitions and the prolonged-polling alert to the admin channel.
func (a *App) storeResults() {
	defer close(a.resultsDone)
	for res := range a.results {
		s, r := res.srv, res.r
		// Stored even during shutdown; alerts are not worth delaying it.
		ctx := a.runCtx()
		if err := a.db.RecordFailover(context.WithoutCancel(ctx), s.Name, r); err != nil {
			a.log.Warn("failover event not stored", "server", s.Name, "err", err)
		}
		a.saveSnapshot(s)
		for _, t := range r.Transitions {
			e := discord.TransitionEmbed(t.To == failover.PollingOn, t.Reason, t.At)
			a.alert(ctx, a.forServer(s, e))
		}
		for _, al := range r.Alerts {
			if al.Kind == failover.AlertProlongedPolling {
				a.alert(ctx, a.forServer(s, discord.AlertEmbed("SSH polling has been active for a long time",
					"The webhook path is not recovering: check the notifier on the game server. "+al.Reason, al.At)))
			}
		}
	}
}

// forServer names the server in an alert's title when the bot serves more
// than one.
func (a *App) forServer(s *server, e *discordgo.MessageEmbed) *discordgo.MessageEmbed {
	if len(a.servers) > 1 {
		e.Title = s.Name + ": " + e.Title
	}
	return e
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

// reporter adapts the servers' Guards to ingest.Reporter: each outcome goes
// to its own server's machine.
type reporter struct{ a *App }

// Generation implements ingest.Reporter (0 for an unknown server).
func (r reporter) Generation(server string) uint64 {
	if s := r.a.byName[server]; s != nil {
		return s.guard.Generation()
	}
	return 0
}

// Report implements ingest.Reporter: the outcome goes to the server's
// machine; an unknown server's outcome is dropped.
func (r reporter) Report(server string, gen uint64, k parser.Kind, o failover.Outcome, reason string) {
	if s := r.a.byName[server]; s != nil {
		s.guard.Record(gen, kindOf(k), o, reason)
	}
}
