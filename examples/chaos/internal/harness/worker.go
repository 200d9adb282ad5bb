package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/source/poll"
	"github.com/roundfeed/roundfeed/source/sftp"
	"github.com/roundfeed/roundfeed/source/webhook"
	"github.com/roundfeed/roundfeed/store"
	"github.com/roundfeed/roundfeed/tracker"
)

// Server is the game server's name in every event and row.
const Server = "main"

// WorkerConfig is what the parent hands a worker process, as JSON in a
// file (ReadWorkerConfig). Everything but these addresses and paths is fixed
// by the harness (the accelerated timings below).
type WorkerConfig struct {
	// DB is the SQLite file shared by every worker of a run (and the
	// parent's busy connection); ArchiveDir the raw-bytes archive.
	DB, ArchiveDir string
	// SSH server (the parent's fault proxy in front of sftptest.Server).
	SSHHost string
	SSHPort int
	SSHUser string
	KeyPath string
	HostKey string
	// DiscordURL is the parent's stand-in for Discord's REST API.
	DiscordURL string
	// ControlChannel and WebhookID are what the trigger accepts.
	ControlChannel, WebhookID string
	// FileRate is the webhook trigger's file-name rate limit per second.
	FileRate int
	// MaxAttempts is the pipeline's MAX_ATTEMPTS (0: DefaultMaxAttempts).
	MaxAttempts int
	// Drain turns smart failover off (polling always on): the end-of-run
	// worker that must find every file.
	Drain bool
	// ID numbers the worker within a run (1, 2, ...); it names itself to
	// the Discord stand-in in WorkerHeader.
	ID int
	// Verbose logs at debug level to the worker's stderr (else warnings).
	Verbose bool
}

// ReadyLine and the worker's stdout protocol: it prints ReadyLine once its
// parts run; its stdin carries one JSON discordgo.Message per line, each
// handled as a gateway MessageCreate.
const ReadyLine = "ready"

// DefaultMaxAttempts is the harness's MAX_ATTEMPTS: the production default.
// Faults of the bot's environment (archive unwritable, database busy) and
// of the source do not count as attempts, so no good file is quarantined
// (TestFindingFullDiskQuarantinesGoodFiles).
const DefaultMaxAttempts = tracker.DefaultMaxAttempts

// Accelerated timings: the production defaults scaled so that a run takes
// seconds. SettleAge must stay above one second: SFTP v3 mtimes have
// one-second resolution.
func ingestConfig(archive string, maxAttempts int) ingest.Config {
	c := ingest.DefaultConfig()
	c.ArchiveDir = archive
	c.MaxAttempts = DefaultMaxAttempts
	if maxAttempts > 0 {
		c.MaxAttempts = maxAttempts
	}
	c.Lease = time.Second
	c.R1Wait = 1500 * time.Millisecond
	c.EndstatsWait = 2 * time.Second
	c.RetryBase, c.RetryMax = 50*time.Millisecond, 400*time.Millisecond
	c.DeferMin, c.DeferMax = 50*time.Millisecond, 300*time.Millisecond
	c.RetryEvery = 50 * time.Millisecond
	c.ShutdownGrace = 2 * time.Second
	return c
}

// outboxLease is how long a worker's Due reserves outbox rows (production
// 2 min): after a kill, the rows it had leased wait this long. It must
// exceed publishTimeout, the longest publish.
const (
	outboxLease    = time.Second
	publishTimeout = 800 * time.Millisecond
)

func senderConfig() ingest.SenderConfig {
	c := ingest.DefaultSenderConfig()
	c.MaxAttempts = 1000 // the outbox: Discord outages in a run must not give posts up
	c.Base, c.Max = 20*time.Millisecond, 200*time.Millisecond
	c.PollEvery = 50 * time.Millisecond
	return c
}

func scheduleConfig() failover.ScheduleConfig {
	c := failover.DefaultScheduleConfig()
	c.Zone = "UTC"
	c.DeadFrom, c.DeadUntil = 0, 0 // no dead hours: the harness runs any time
	c.ActiveInterval = 200 * time.Millisecond
	c.Grace, c.GraceInterval = 10*time.Second, 200*time.Millisecond
	c.IdleInterval = 300 * time.Millisecond
	c.ProbeInterval = 100 * time.Millisecond
	c.AntiEntropyInterval = time.Second
	return c
}

func sftpConfig(w WorkerConfig, log *slog.Logger) sftp.Config {
	c := sftp.DefaultConfig()
	c.Host, c.Port, c.User = w.SSHHost, w.SSHPort, w.SSHUser
	c.KeyPath, c.HostKey = w.KeyPath, w.HostKey
	c.RemoteDir = "/"
	c.DialTimeout = 2 * time.Second
	c.KeepaliveInterval, c.KeepaliveTimeout = 200*time.Millisecond, 300*time.Millisecond
	c.ReconnectMin, c.ReconnectMax = 20*time.Millisecond, 200*time.Millisecond
	c.SettleAge, c.SettleGap = 1200*time.Millisecond, 100*time.Millisecond
	c.Logger = log
	return c
}

// RunWorker is the worker process: the real pipeline on the shared SQLite
// file, the real SFTP client and poller against the parent's server, the
// real webhook trigger fed from in, and an outbox sender posting to the
// parent's Discord stand-in. It writes ReadyLine to out once running and
// returns when ctx ends (the parent's SIGTERM) or in fails to decode.
// A SIGKILL from the parent is the crash under test.
func RunWorker(ctx context.Context, w WorkerConfig, in io.Reader, out io.Writer, logw io.Writer) error {
	level := slog.LevelWarn
	if w.Verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: level}))
	if w.Drain {
		log = log.With("worker", "drain")
	}
	db, err := store.Open(w.DB)
	if err != nil {
		return fmt.Errorf("chaos: worker: %w", err)
	}
	defer db.Close()
	icfg := ingestConfig(w.ArchiveDir, w.MaxAttempts)
	tr, err := tracker.NewSQL(db, icfg.TrackerConfig(time.Now), tracker.SQLite)
	if err != nil {
		return fmt.Errorf("chaos: worker: %w", err)
	}
	st, err := store.NewWith(db, tr, store.Options{OutboxLease: outboxLease})
	if err != nil {
		return fmt.Errorf("chaos: worker: %w", err)
	}
	snd, err := ingest.NewSender(senderConfig(), st, &httpPublisher{url: w.DiscordURL, worker: w.ID, client: &http.Client{Timeout: publishTimeout}},
		log.With("component", "sender"), time.Now)
	if err != nil {
		return fmt.Errorf("chaos: worker: %w", err)
	}
	client, err := sftp.NewClient(sftpConfig(w, log.With("component", "sftp")))
	if err != nil {
		return fmt.Errorf("chaos: worker: %w", err)
	}
	defer client.Close()

	fcfg := failover.DefaultConfig()
	fcfg.Enabled = !w.Drain
	m, err := failover.NewMachine(fcfg, poll.SystemClock())
	if err != nil {
		return fmt.Errorf("chaos: worker: %w", err)
	}
	guard := poll.NewGuard(m, func(r failover.Result) {
		for _, t := range r.Transitions {
			log.Info("failover transition", "from", t.From.String(), "to", t.To.String(), "reason", t.Reason)
		}
	})
	p, err := ingest.New(icfg, ingest.Deps{
		Tracker: tr, Store: st,
		Fetchers: map[string]source.Fetcher{Server: client},
		Reporter: reporter{guard}, Notify: snd.Notify,
		Logger: log.With("component", "ingest"), Now: time.Now,
	})
	if err != nil {
		return fmt.Errorf("chaos: worker: %w", err)
	}
	sched, err := failover.NewSchedule(scheduleConfig())
	if err != nil {
		return fmt.Errorf("chaos: worker: %w", err)
	}
	submit := func(ev source.Event) {
		if err := p.Submit(ctx, ev); err != nil && ctx.Err() == nil {
			log.Warn("submit failed", "file", ev.Name.Raw, "err", err)
		}
	}
	poller, err := poll.New(poll.Config{
		Server: Server, Schedule: sched, Guard: guard, Lister: client, Prober: client,
		Emit: submit, Clock: poll.SystemClock(),
		MissedGrace: 300 * time.Millisecond, TickInterval: 100 * time.Millisecond, RetryDelay: 100 * time.Millisecond,
		Logger: log.With("component", "poll"),
	})
	if err != nil {
		return fmt.Errorf("chaos: worker: %w", err)
	}
	wcfg := webhook.DefaultConfig()
	wcfg.Server = Server
	wcfg.ControlChannelID = w.ControlChannel
	wcfg.Whitelist = []string{w.WebhookID}
	wcfg.Username = WebhookUsername
	wcfg.FileRate, wcfg.FileRateWindow = max(w.FileRate, 1), time.Second
	trig, err := webhook.NewTrigger(wcfg, nil, log)
	if err != nil {
		return fmt.Errorf("chaos: worker: %w", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := p.Run(ctx); err != nil {
			log.Error("pipeline stopped", "err", err)
		}
	})
	wg.Go(func() { snd.Run(ctx, 2*time.Second) })
	wg.Go(func() {
		if err := poller.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("poller stopped", "err", err)
		}
	})
	if _, err := fmt.Fprintln(out, ReadyLine); err != nil {
		cancel()
		wg.Wait()
		return fmt.Errorf("chaos: worker: ready: %w", err)
	}
	go func() {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var m discordgo.MessageCreate
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				log.Error("bad message line", "err", err)
				continue
			}
			d := trig.Handle(&m)
			for _, ev := range d.Events {
				poller.Seen(ev.Name.Raw)
				submit(ev)
			}
			for _, ev := range d.RateLimited {
				// Not Seen: polling, turned on by this failure, fetches it.
				guard.Record(guard.Generation(), kindOf(ev.Name.Kind), failover.Failure, "rate_limited")
			}
		}
	}()
	<-ctx.Done()
	wg.Wait()
	return nil
}

// WebhookUsername is the author name of the notifier's webhook messages.
const WebhookUsername = "roundfeed-notifier"

func kindOf(k parser.Kind) failover.Kind {
	if k == parser.KindEndstats {
		return failover.KindEndstats
	}
	return failover.KindStats
}

// reporter adapts the Guard to ingest.Reporter (one server).
type reporter struct{ g *poll.Guard }

func (r reporter) Generation(string) uint64 { return r.g.Generation() }

func (r reporter) Report(_ string, gen uint64, k parser.Kind, o failover.Outcome, reason string) {
	r.g.Record(gen, kindOf(k), o, reason)
}

// PostRequest is the body the worker's publisher sends to the Discord
// stand-in: the nonce travels with enforce_nonce semantics.
type PostRequest struct {
	Nonce        string      `json:"nonce"`
	EnforceNonce bool        `json:"enforce_nonce"`
	Post         ingest.Post `json:"post"`
}

// PostReply is the stand-in's answer to a successful post.
type PostReply struct {
	ID string `json:"id"`
}

// httpPublisher is an ingest.Publisher posting to the parent's Discord
// stand-in over HTTP, so that what was posted survives the worker's
// SIGKILL.
type httpPublisher struct {
	url    string
	worker int
	client *http.Client
}

// WorkerHeader carries the posting worker's ID to the Discord stand-in.
const WorkerHeader = "X-Chaos-Worker"

func (h *httpPublisher) Publish(ctx context.Context, nonce string, p ingest.Post) (string, error) {
	body, err := json.Marshal(PostRequest{Nonce: nonce, EnforceNonce: true, Post: p})
	if err != nil {
		return "", fmt.Errorf("chaos: publish: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("chaos: publish: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(WorkerHeader, strconv.Itoa(h.worker))
	resp, err := h.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("chaos: publish: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("chaos: publish: status %d", resp.StatusCode)
	}
	var r PostReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return "", fmt.Errorf("chaos: publish: reply: %w", err)
	}
	return r.ID, nil
}

// WorkerMain runs a worker from the config file at path until SIGTERM or
// SIGINT, on the process's stdin, stdout and stderr. It returns the exit
// code.
func WorkerMain(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaos: worker: %v\n", err)
		return 2
	}
	var w WorkerConfig
	if err := json.Unmarshal(b, &w); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: worker: %s: %v\n", path, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := RunWorker(ctx, w, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
