package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/examples/bot/internal/app"
	"github.com/roundfeed/roundfeed/examples/bot/internal/config"
	"github.com/roundfeed/roundfeed/examples/bot/internal/discord"
	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/source/local"
	"github.com/roundfeed/roundfeed/source/sftp"
)

// backfillResult is what -json prints.
type backfillResult struct {
	Listed   int `json:"listed"`
	Imported int `json:"imported"`
	Skipped  int `json:"skipped"`
	Failed   int `json:"failed"`
}

// remoteOnly adapts a Lister+Fetcher without a change probe to app.SFTP.
// Backfill never runs the poller, so Probe is never called; it answers
// "changed" so that a caller that did would list rather than miss a file.
type remoteOnly struct {
	source.Lister
	source.Fetcher
}

// Probe implements poll.Prober: always "changed" (never called by backfill).
func (remoteOnly) Probe(context.Context) (bool, error) { return true, nil }

// errHostKey is the exit status of a host-key mismatch: distinct, because an
// operator must look at it (a reinstalled server, or someone in the middle).
const errHostKey = 3

// discordHTTP, when set (by tests), replaces the Discord session's HTTP
// client, so that REST calls go to a stand-in.
var discordHTTP *http.Client

func cmdBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envFile := fs.String("env", ".env", "optional file of KEY=VALUE settings; the environment wins")
	configFile := fs.String("config", "", "TOML file of one or more game servers (default $"+config.EnvConfigFile+", else ./"+config.DefaultConfigFile+" if present)")
	server := fs.String("server", "", "the game server to backfill (required when the configuration file has several)")
	dir := fs.String("dir", "", "import from this local folder instead of REMOTE_STATS_DIR over SFTP")
	dbPath := fs.String("db", "", "SQLite file (default DB_PATH, else roundfeed.db)")
	post := fs.Bool("post", false, "also post every imported round to Discord (default: imported silently)")
	asJSON := fs.Bool("json", false, `print {"listed","imported","skipped","failed"} as one JSON object`)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	need := config.Need(0)
	if *dir == "" {
		need |= config.NeedSSH
	}
	cfg, icfg, verr := loadConfig(*envFile, *configFile, need)
	var sc config.ServerConfig
	switch {
	case errors.Is(verr, config.ErrFile):
	case *server != "":
		i := slices.IndexFunc(cfg.Servers, func(s config.ServerConfig) bool { return s.Name == *server })
		if i < 0 {
			verr = errors.Join(verr, fmt.Errorf("-server: unknown server %q (have %s)", *server, serverNames(cfg)))
		} else {
			sc = cfg.Servers[i]
		}
	case len(cfg.Servers) > 1:
		verr = errors.Join(verr, fmt.Errorf("-server: required: the configuration has %d servers (%s)", len(cfg.Servers), serverNames(cfg)))
	case len(cfg.Servers) == 1:
		sc = cfg.Servers[0]
	}
	if *post {
		if cfg.Token == "" {
			verr = errors.Join(verr, fmt.Errorf("%s: required with -post", config.EnvToken))
		}
		if cfg.StatsChannelID == "" {
			verr = errors.Join(verr, fmt.Errorf("%s: required with -post", config.EnvStats))
		}
	}
	if err := verr; err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if *dbPath != "" {
		cfg.DBPath, cfg.DBURL = *dbPath, "" // an explicit SQLite file
	}
	// Whatever their age: no lookback on listing or claiming; and no waiting
	// (files come in order, a partner that is missing now stays missing).
	icfg.Lookback, icfg.R1Wait, icfg.EndstatsWait = 0, 0, 0
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))

	var remote app.SFTP
	if *dir != "" {
		lcfg := local.DefaultConfig(*dir)
		lcfg.Lookback = 0
		w, err := local.NewWatcher(lcfg)
		if err != nil {
			return err
		}
		remote = remoteOnly{Lister: w, Fetcher: w}
	} else {
		scfg := sc.SSH
		scfg.Lookback = 0
		client, err := sftp.NewClient(scfg)
		if err != nil {
			return err
		}
		defer client.Close()
		remote = client
	}

	var pub ingest.Publisher = &ingest.ConsolePublisher{W: io.Discard}
	if *post {
		token := cfg.Token.Reveal()
		if !strings.HasPrefix(token, "Bot ") {
			token = "Bot " + token
		}
		sess, err := discordgo.New(token)
		if err != nil {
			return errors.New("discord: cannot create session (check DISCORD_TOKEN)")
		}
		if discordHTTP != nil {
			sess.Client = discordHTTP
		}
		pub = &discord.OutboxPublisher{Publisher: discord.NewPublisher(sess), ChannelID: cfg.StatsChannelID}
	}
	// No trigger: backfill reads no Discord message.
	a, err := app.New(app.Options{
		Server: sc.Name, DBPath: cfg.DBPath, DBURL: cfg.DBURL.Reveal(), Location: sc.Location,
		Failover: sc.Failover, Schedule: sc.Schedule, Ingest: icfg,
		Sender: ingest.DefaultSenderConfig(), Remote: remote, Publisher: pub, Logger: log,
	})
	if err != nil {
		return err
	}
	defer a.Close()

	entries, err := remote.List(ctx)
	if err != nil {
		if errors.Is(err, sftp.ErrHostKeyMismatch) || errors.Is(err, sftp.ErrUnknownHost) {
			return exitError{code: errHostKey, msg: "bot backfill: SSH host key check failed, not connecting: " + err.Error() +
				"\n(the server's key is not the one in SSH_KNOWN_HOSTS / SSH_HOST_KEY: check its fingerprint before changing the setting)"}
		}
		return fmt.Errorf("list: %w", err)
	}
	res := backfillResult{Listed: len(entries)}
	bar := newProgress(stderr, len(entries), !*asJSON)
	imported := map[string]bool{}
	res.Imported, res.Skipped, res.Failed = a.Backfill(ctx, entries, func(done int, e source.Entry, r ingest.Result) {
		if r.Status == ingest.Imported {
			imported[e.Name.Raw] = true
		}
		bar.update(done)
	})
	bar.finish()

	if *post {
		if _, err := a.Sender().Flush(ctx); err != nil {
			return fmt.Errorf("post: %w", err)
		}
	} else if err := shelvePosts(ctx, a, imported); err != nil {
		return err
	}
	if *asJSON {
		b, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(b))
	} else {
		fmt.Fprintf(stdout, "backfill: %d listed, %d imported, %d skipped (already done or in progress), %d failed\n",
			res.Listed, res.Imported, res.Skipped, res.Failed)
	}
	if ctx.Err() != nil {
		return exitError{code: 130, msg: "bot backfill: interrupted; run it again to resume"}
	}
	if res.Failed > 0 {
		return exitError{code: 1, msg: "bot backfill: some files failed; `bot status` lists the quarantined ones, run backfill again to retry the others"}
	}
	return nil
}

// serverNames lists the configured servers for a message.
func serverNames(cfg config.Config) string {
	names := make([]string, len(cfg.Servers))
	for i, s := range cfg.Servers {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// shelvePosts keeps the posts of this backfill's imports off Discord: they
// are given up (kept, visible in status, postable later) rather than left
// for the bot to flood the channel with history. Posts of other files are
// not touched.
func shelvePosts(ctx context.Context, a *app.App, files map[string]bool) error {
	if len(files) == 0 {
		return nil
	}
	items, err := a.Store().Due(ctx, time.Now().Add(100*365*24*time.Hour), 1<<20)
	if err != nil {
		return err
	}
	for _, it := range items {
		if files[it.File] {
			if _, err := a.Store().Failed(ctx, it.ID, "backfill without -post: not posted", time.Time{}, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// progress draws a one-line progress bar when w is a terminal.
type progress struct {
	w     io.Writer
	total int
	on    bool
	last  time.Time
}

func newProgress(w io.Writer, total int, want bool) *progress {
	on := false
	if f, ok := w.(*os.File); ok && want {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			on = true
		}
	}
	return &progress{w: w, total: total, on: on}
}

func (p *progress) update(done int) {
	if !p.on || (time.Since(p.last) < 100*time.Millisecond && done < p.total) {
		return
	}
	p.last = time.Now()
	const width = 40
	n := 0
	if p.total > 0 {
		n = done * width / p.total
	}
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d", strings.Repeat("#", n), strings.Repeat(".", width-n), done, p.total)
}

func (p *progress) finish() {
	if p.on {
		fmt.Fprintln(p.w)
	}
}
