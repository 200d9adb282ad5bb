package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/examples/bot/internal/app"
	"github.com/roundfeed/roundfeed/examples/bot/internal/discord"
	"github.com/roundfeed/roundfeed/examples/bot/internal/gamesim"
	"github.com/roundfeed/roundfeed/examples/notifier/notify"
	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/source/poll"
	"github.com/roundfeed/roundfeed/source/sftp"
	"github.com/roundfeed/roundfeed/source/sftp/sftptest"
	"github.com/roundfeed/roundfeed/source/webhook"
	"github.com/roundfeed/roundfeed/source/webhook/send"
	"github.com/roundfeed/roundfeed/tracker"
)

// Options configure a demo run.
type Options struct {
	// For is how long the game night runs, in real time (default 2 min).
	For time.Duration
	// Speed is how much faster than real time the demo's clock runs
	// (default 60: a real second is a game minute).
	Speed float64
	// DBPath is the SQLite file; empty means a file in a temporary folder.
	DBPath string
	// Console receives the posts as text embeds and the status line; nil
	// discards.
	Console io.Writer
	// Logger receives the components' logs; nil discards.
	Logger *slog.Logger
	// Seed makes the simulated rounds reproducible (default 1).
	Seed uint64
	// StatusEvery is how often the status line is checked, in real time
	// (default 0.5 s); it is printed when it changed, else every 20 checks.
	StatusEvery time.Duration
}

// Summary is what the demo reports at the end.
type Summary struct {
	// Files is how many files the simulated server wrote.
	Files int `json:"files"`
	// Processed is how many of them were imported.
	Processed int `json:"processed"`
	// Lost is how many were neither imported nor quarantined at the end.
	Lost int `json:"lost"`
	// Duplicates counts extra imports of a file and extra Discord messages
	// for one post.
	Duplicates int `json:"duplicates"`
	// Failovers and Recoveries are the machine's counts (webhook -> polling,
	// and back after a failover).
	Failovers  int `json:"failovers"`
	Recoveries int `json:"recoveries"`
	// Quarantined is how many files were quarantined (the corrupt one).
	Quarantined int `json:"quarantined"`
	// Posts is how many Discord messages were created for rounds and awards.
	Posts int `json:"posts"`
	// Rounds is how many rounds were played.
	Rounds int `json:"rounds"`
	// LostFiles names the lost files, if any.
	LostFiles []string `json:"lost_files,omitempty"`
	// GameMinutes is the simulated time the night lasted.
	GameMinutes int `json:"game_minutes"`
	// SSHHandshakes and SFTPRequests are the backup path's cost.
	SSHHandshakes uint64 `json:"ssh_handshakes"`
	SFTPRequests  uint64 `json:"sftp_requests"`
}

// OK reports whether nothing was lost or duplicated.
func (s Summary) OK() bool { return s.Lost == 0 && s.Duplicates == 0 }

// The demo's Discord IDs.
const (
	guildID   = "1000000000000000001"
	controlID = "1000000000000000002"
	statsID   = "1000000000000000003"
	adminID   = "1000000000000000004"
	hookID    = "1000000000000000005"
	hookToken = "demo-webhook-token"
	server    = "main"
	players   = 8
)

// script is the fault script, in fractions of the night.
var script = struct{ notifierDown, corrupt, notifierUp float64 }{0.30, 0.42, 0.60}

type run struct {
	opts    Options
	out     io.Writer
	outMu   sync.Mutex
	clock   *ScaledClock
	loc     *time.Location
	log     *slog.Logger
	written []string // file names, in order
	rounds  int
	wMu     sync.Mutex
	posts   map[string]int // footer (file) + title kind -> messages created
	pMu     sync.Mutex

	gameOver atomic.Bool

	notifierMu     sync.Mutex
	notifierCancel context.CancelFunc
	notifierDone   chan struct{}
	notifierCfg    notify.Config
}

// Run plays a game night and returns its summary. The error is for set-up
// failures; a summary with Lost or Duplicates is returned without error.
func Run(ctx context.Context, opts Options) (Summary, error) {
	if opts.For <= 0 {
		opts.For = 2 * time.Minute
	}
	if opts.Speed <= 0 {
		opts.Speed = 60
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.StatusEvery <= 0 {
		opts.StatusEvery = 500 * time.Millisecond
	}
	r := &run{opts: opts, out: opts.Console, log: opts.Logger, posts: map[string]int{}}
	if r.out == nil {
		r.out = io.Discard
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		loc = time.UTC
	}
	r.loc = loc
	return r.run(ctx)
}

func (r *run) printf(format string, a ...any) {
	r.outMu.Lock()
	defer r.outMu.Unlock()
	fmt.Fprintf(r.out, format, a...)
}

func (r *run) run(ctx context.Context) (Summary, error) {
	tmp, err := os.MkdirTemp("", "roundfeed-demo-")
	if err != nil {
		return Summary{}, fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(tmp)
	statsDir := filepath.Join(tmp, "gamestats")
	dbPath := r.opts.DBPath
	if dbPath == "" {
		dbPath = filepath.Join(tmp, "roundfeed.db")
	}
	r.clock = NewScaledClock(time.Now(), r.opts.Speed)

	sim, err := gamesim.New(gamesim.Config{Dir: statsDir, Seed: r.opts.Seed, ServerName: "^7roundfeed ^1demo",
		Maps: gamesim.DefaultConfig("").Maps, Players: 6})
	if err != nil {
		return Summary{}, fmt.Errorf("demo: %w", err)
	}

	// The game server's SSH: loopback, generated host key, pinned through
	// a known_hosts file as in production.
	srv, err := sftptest.NewServer(sftptest.Options{Dir: statsDir, Logger: r.log.With("component", "sshd")})
	if err != nil {
		return Summary{}, fmt.Errorf("demo: %w", err)
	}
	defer srv.Close()
	host, portStr, _ := net.SplitHostPort(srv.Addr())
	port, _ := strconv.Atoi(portStr)
	scfg := sftp.DefaultConfig()
	scfg.Host, scfg.Port, scfg.User = host, port, "et"
	scfg.Signer = srv.ClientSigner()
	scfg.KnownHostsPath = srv.KnownHostsPath()
	scfg.RemoteDir = "/"
	scfg.Clock = r.clock
	// Keepalives bound real sockets: keep them on real-time scales.
	scfg.KeepaliveInterval = time.Duration(r.opts.Speed) * 30 * time.Second
	scfg.KeepaliveTimeout = time.Duration(r.opts.Speed) * 15 * time.Second
	scfg.Logger = r.log.With("component", "sftp")
	client, err := sftp.NewClient(scfg)
	if err != nil {
		return Summary{}, fmt.Errorf("demo: %w", err)
	}
	defer client.Close()

	// Discord, in-process.
	fake := NewFakeDiscord(guildID, controlID)
	defer fake.Close()
	sess, err := discordgo.New("Bot demo-token")
	if err != nil {
		return Summary{}, fmt.Errorf("demo: %w", err)
	}
	sess.Client = &http.Client{Transport: fake.Transport(), Timeout: 10 * time.Second}
	pub := discord.NewPublisher(sess)

	// The bot.
	wcfg := webhook.DefaultConfig()
	wcfg.Server, wcfg.ControlChannelID, wcfg.Whitelist, wcfg.Username = server, controlID, []string{hookID}, send.DefaultUsername
	sched := failover.DefaultScheduleConfig()
	sched.Zone = r.loc.String()
	sched.DeadFrom, sched.DeadUntil = 0, 0 // the demo plays whatever the hour
	// A poll every 60 game seconds is 0.2 real seconds at 300x: quicker
	// than the notifier's real round trip, so polling would win every race
	// and push would never earn its successes. Keep at least one real
	// second between polls, as in real life push is faster than polling.
	realSecond := time.Duration(r.opts.Speed) * time.Second
	sched.ActiveInterval = max(sched.ActiveInterval, realSecond)
	sched.GraceInterval = max(sched.GraceInterval, realSecond)
	icfg := ingest.DefaultConfig()
	icfg.ArchiveDir = filepath.Join(tmp, "archive")
	icfg.Lease = 30 * time.Minute // game time; real-time hiccups must not expire it
	icfg.MaxAttempts = 3
	icfg.RetryEvery = 100 * time.Millisecond // real time: the retry scan
	icfg.ShutdownGrace = 5 * time.Second
	snd := ingest.DefaultSenderConfig()
	snd.PollEvery = 100 * time.Millisecond
	a, err := app.New(app.Options{
		Server: server, DBPath: dbPath, Location: r.loc,
		Failover: failover.DefaultConfig(), Schedule: sched, Webhook: wcfg, Ingest: icfg, Sender: snd,
		Remote: client,
		SFTPCounters: func() (uint64, uint64) {
			c := client.Counters()
			return c.Handshakes, c.Requests
		},
		Publisher: &discord.OutboxPublisher{Publisher: pub, ChannelID: statsID},
		Alert: func(ctx context.Context, e *discordgo.MessageEmbed) error {
			_, err := pub.Send(ctx, discord.Post{ChannelID: adminID, Embeds: []*discordgo.MessageEmbed{e}})
			return err
		},
		// Push has MissedGrace to report a file a listing found. At 300x,
		// 30 game seconds are 0.1 real seconds: less than a webhook's real
		// round trip. Give it at least one real second.
		MissedGrace: max(poll.DefaultMissedGrace, realSecond),
		Players:     r.players,
		Clock:       r.clock,
		Logger:      r.log,
	})
	if err != nil {
		return Summary{}, fmt.Errorf("demo: %w", err)
	}
	fake.OnMessage = func(m *discordgo.MessageCreate) { a.HandleMessage(m) }
	fake.OnPost = r.onPost

	appCtx, stopApp := context.WithCancel(context.WithoutCancel(ctx))
	appDone := make(chan error, 1)
	go func() { appDone <- a.Run(appCtx) }()
	var stopOnce sync.Once
	stop := func() {
		stopOnce.Do(func() {
			r.stopNotifier()
			stopApp()
			if err := <-appDone; err != nil {
				r.log.Warn("app stop", "err", err)
			}
		})
	}
	defer stop()

	// The notifier on the game server.
	ncfg := notify.DefaultConfig()
	ncfg.StatsDir = statsDir
	ncfg.SpoolDir = filepath.Join(tmp, "spool")
	ncfg.Send = send.DefaultConfig(fake.WebhookURL(hookID, hookToken))
	ncfg.Clock = r.clock
	ncfg.Logger = r.log.With("component", "notifier")
	r.notifierCfg = ncfg
	r.startNotifier(ctx)

	night := time.Duration(float64(r.opts.For) * r.opts.Speed)
	start := r.clock.Now()
	r.printf("roundfeed demo: %s of game time at %gx (%s real), SFTP on %s, host key %s pinned\n",
		night, r.opts.Speed, r.opts.For, srv.Addr(), srv.HostKey().Type())

	gameCtx, stopGame := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { r.game(gameCtx, sim, start.Add(night)) })
	wg.Go(func() { r.faults(gameCtx, sim, start, night) })
	wg.Go(func() { r.statusLine(gameCtx, a) })
	select {
	case <-ctx.Done():
	case <-time.After(r.opts.For):
	}
	stopGame()
	wg.Wait()
	r.gameOver.Store(true) // players leave voice: no heartbeat failover while draining

	// Drain: the notifier is back, every written file must end up imported
	// or quarantined and every post sent.
	r.startNotifier(ctx)
	r.drain(ctx, a)
	sum := r.summary(a, client, r.clock.Now().Sub(start))
	stop()
	return sum, ctx.Err()
}

// players is the number in voice: a full server during the game, nobody after.
func (r *run) players() int {
	if r.gameOver.Load() {
		return 0
	}
	return players
}

func (r *run) startNotifier(ctx context.Context) {
	r.notifierMu.Lock()
	defer r.notifierMu.Unlock()
	if r.notifierCancel != nil {
		return
	}
	nctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	r.notifierCancel, r.notifierDone = cancel, done
	go func() {
		defer close(done)
		if err := notify.Run(nctx, r.notifierCfg); err != nil && nctx.Err() == nil {
			r.log.Error("notifier", "err", err)
		}
	}()
}

func (r *run) stopNotifier() {
	r.notifierMu.Lock()
	cancel, done := r.notifierCancel, r.notifierDone
	r.notifierCancel, r.notifierDone = nil, nil
	r.notifierMu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (r *run) notifierUp() bool {
	r.notifierMu.Lock()
	defer r.notifierMu.Unlock()
	return r.notifierCancel != nil
}

// game writes a round every 6 to 9 minutes of game time until end.
func (r *run) game(ctx context.Context, sim *gamesim.Sim, end time.Time) {
	gap := func(i int) time.Duration { return time.Duration(6*60+(i*97)%180) * time.Second }
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-r.clock.After(gap(i)):
		}
		now := r.clock.Now()
		if !now.Before(end) {
			return
		}
		rd, err := sim.WriteRound(now.In(r.loc))
		if err != nil {
			r.log.Error("game server", "err", err)
			continue
		}
		r.wMu.Lock()
		r.written = append(r.written, rd.Endstats, rd.Stats)
		r.rounds++
		r.wMu.Unlock()
		r.printf("[%s] game server: %s round %d ended (%s), wrote %s and its endstats\n",
			now.In(r.loc).Format("15:04"), rd.Map, rd.Round, rd.Duration, rd.Stats)
	}
}

// faults runs the fault script: the notifier dies, a corrupt file appears,
// the notifier comes back.
func (r *run) faults(ctx context.Context, sim *gamesim.Sim, start time.Time, night time.Duration) {
	at := func(f float64) time.Time { return start.Add(time.Duration(f * float64(night))) }
	wait := func(t time.Time) bool {
		select {
		case <-ctx.Done():
			return false
		case <-r.clock.After(t.Sub(r.clock.Now())):
			return true
		}
	}
	if !wait(at(script.notifierDown)) {
		return
	}
	r.stopNotifier()
	r.printf("[%s] FAULT: the notifier on the game server died (SSH polling must take over)\n", r.clock.Now().In(r.loc).Format("15:04"))
	if !wait(at(script.corrupt)) {
		return
	}
	name, err := sim.WriteCorrupt(r.clock.Now().In(r.loc))
	if err == nil {
		r.wMu.Lock()
		r.written = append(r.written, name)
		r.wMu.Unlock()
		r.printf("[%s] FAULT: a corrupt stats file appeared: %s\n", r.clock.Now().In(r.loc).Format("15:04"), name)
	}
	if !wait(at(script.notifierUp)) {
		return
	}
	r.startNotifier(ctx)
	r.printf("[%s] the notifier is back (polling must stop once the webhook proves healthy)\n", r.clock.Now().In(r.loc).Format("15:04"))
}

// statusLine prints which path is active and the counts whenever they
// change, and at least every twenty status periods.
func (r *run) statusLine(ctx context.Context, a *app.App) {
	t := time.NewTicker(r.opts.StatusEvery)
	defer t.Stop()
	last, quiet := "", 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := a.Guard().Status()
		mode := discord.ModeWebhook
		if st.Mode == failover.PollingOn {
			mode = discord.ModePolling
		}
		counts, _ := a.Store().Counts(context.Background())
		r.wMu.Lock()
		n := len(r.written)
		r.wMu.Unlock()
		notifier := "up"
		if !r.notifierUp() {
			notifier = "DOWN"
		}
		line := fmt.Sprintf("path: %s | written %d, imported %d, quarantined %d | failovers %d, recoveries %d | notifier %s",
			mode, n, counts[tracker.StateDone], counts[tracker.StateQuarantined], st.Failovers, st.Recoveries, notifier)
		if quiet++; line == last && quiet < 20 {
			continue
		}
		last, quiet = line, 0
		r.printf("-- [%s] %s\n", r.clock.Now().In(r.loc).Format("15:04"), line)
	}
}

func (r *run) onPost(channelID string, embeds []*discordgo.MessageEmbed, content string) {
	for _, e := range embeds {
		if channelID == statsID && e.Footer != nil {
			kind := "round"
			if strings.HasPrefix(e.Title, "Awards") {
				kind = "awards"
			}
			r.pMu.Lock()
			r.posts[kind+" "+e.Footer.Text]++
			r.pMu.Unlock()
		}
		prefix := "#stats"
		if channelID == adminID {
			prefix = "#admin"
		}
		text := discord.EmbedText(e)
		r.printf("%s %s", prefix, indent(text))
	}
	if content != "" {
		r.printf("%s\n", content)
	}
}

func indent(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return strings.Join(lines, "\n       ") + "\n"
}

// drain waits until every written file is done or quarantined and the
// outbox is empty, or until a bound (a quarter of the run, at least 15 s).
func (r *run) drain(ctx context.Context, a *app.App) {
	limit := max(r.opts.For/4, 15*time.Second)
	deadline := time.Now().Add(limit)
	r.printf("-- draining: waiting for every file to be imported or quarantined and every post sent\n")
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if r.settled(a) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.printf("-- drain bound (%s) reached\n", limit)
}

func (r *run) settled(a *app.App) bool {
	r.wMu.Lock()
	names := slices.Clone(r.written)
	r.wMu.Unlock()
	bctx := context.Background()
	for _, n := range names {
		rec, err := a.Tracker().Get(bctx, server, n)
		if err != nil || (rec.State != tracker.StateDone && rec.State != tracker.StateQuarantined) {
			return false
		}
	}
	b, err := a.Store().OutboxBacklog(bctx)
	return err == nil && b.Pending == 0
}

func (r *run) summary(a *app.App, client *sftp.Client, game time.Duration) Summary {
	st := a.Guard().Status()
	s := Summary{Failovers: st.Failovers, Recoveries: st.Recoveries, GameMinutes: int(game / time.Minute)}
	r.wMu.Lock()
	names := slices.Clone(r.written)
	s.Rounds = r.rounds
	r.wMu.Unlock()
	s.Files = len(names)
	for _, n := range names {
		rec, _ := a.Tracker().Get(context.Background(), server, n)
		switch rec.State {
		case tracker.StateDone:
			s.Processed++
		case tracker.StateQuarantined:
			s.Quarantined++
		default:
			s.Lost++
			s.LostFiles = append(s.LostFiles, n+" ("+string(rec.State)+")")
		}
	}
	for _, c := range a.ImportCounts() {
		if c > 1 {
			s.Duplicates += c - 1
		}
	}
	r.pMu.Lock()
	for _, c := range r.posts {
		s.Posts += c
		if c > 1 {
			s.Duplicates += c - 1
		}
	}
	r.pMu.Unlock()
	c := client.Counters()
	s.SSHHandshakes, s.SFTPRequests = c.Handshakes, c.Requests
	return s
}

// ErrLostOrDuplicated is returned by callers that turn a bad summary into an error.
var ErrLostOrDuplicated = errors.New("demo: files lost or duplicated")
