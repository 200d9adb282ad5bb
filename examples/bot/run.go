package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/examples/bot/internal/app"
	"github.com/roundfeed/roundfeed/examples/bot/internal/config"
	"github.com/roundfeed/roundfeed/examples/bot/internal/discord"
	"github.com/roundfeed/roundfeed/examples/bot/internal/health"
	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/source/sftp"
)

// loadConfig reads the configuration file (configFile, else
// ROUNDFEED_CONFIG, else ./roundfeed.toml when it exists) or, without one,
// the environment and the .env file, and returns the configuration, the
// ingest settings (always from the environment) and every problem of the
// parts need names, joined.
func loadConfig(envFile, configFile string, need config.Need) (config.Config, ingest.Config, error) {
	lookup, err := config.Lookup(envFile)
	if err != nil {
		return config.Config{}, ingest.Config{}, err
	}
	var cfg config.Config
	var perr error
	if path := config.ConfigPath(configFile, lookup); path != "" {
		cfg, perr = config.LoadFile(path, lookup)
	} else {
		cfg, perr = config.FromEnv(lookup)
	}
	icfg, ierr := ingest.DefaultConfig().FromEnv(lookup)
	if ierr == nil {
		ierr = icfg.Validate()
	}
	if errors.Is(perr, config.ErrFile) { // nothing else is worth checking
		return cfg, icfg, errors.Join(perr, ierr)
	}
	return cfg, icfg, errors.Join(perr, ierr, cfg.Validate(need))
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envFile := fs.String("env", ".env", "optional file of KEY=VALUE settings; the environment wins")
	configFile := fs.String("config", "", "TOML file of one or more game servers (default $"+config.EnvConfigFile+", else ./"+config.DefaultConfigFile+" if present; none: the environment)")
	check := fs.Bool("check-config", false, "print every configuration problem and exit (non-zero if any)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	cfg, icfg, err := loadConfig(*envFile, *configFile, config.NeedAll)
	if *check {
		if !errors.Is(err, config.ErrFile) {
			for _, w := range cfg.Warnings() {
				fmt.Fprintln(stdout, "warning:", w)
			}
		}
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				fmt.Fprintln(stdout, "problem:", line)
			}
			return exitError{code: 1, msg: "bot run: configuration has problems"}
		}
		if name, ok := cfg.FromFile(); ok {
			fmt.Fprintf(stdout, "configuration OK (%s: %d servers)\n", name, len(cfg.Servers))
		} else {
			fmt.Fprintln(stdout, "configuration OK")
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	for _, w := range cfg.Warnings() {
		log.Warn("config", "warning", w)
	}
	log.Info("config", "config", cfg)
	for _, s := range cfg.Servers {
		log.Info("config server", "server", s.Name, "control_channel", s.Webhook.ControlChannelID,
			"whitelisted_webhooks", len(s.Webhook.Whitelist), "voice_channels", len(s.VoiceChannelIDs),
			"timezone", s.Timezone, "smart_failover", s.Failover.Enabled, "ssh", s.SSH)
	}
	return runBot(ctx, cfg, icfg, log)
}

// runBot is the real bot: Discord gateway, webhook trigger, SFTP poller,
// pipeline, publisher, /health, until ctx ends (SIGINT/SIGTERM).
func runBot(ctx context.Context, cfg config.Config, icfg ingest.Config, log *slog.Logger) error {
	token := cfg.Token.Reveal()
	if !strings.HasPrefix(token, "Bot ") {
		token = "Bot " + token
	}
	sess, err := discordgo.New(token)
	if err != nil {
		return errors.New("discord: cannot create session (check DISCORD_TOKEN)")
	}
	sess.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages |
		discordgo.IntentsMessageContent | discordgo.IntentsGuildVoiceStates
	sess.StateEnabled = true
	if discordHTTP != nil {
		sess.Client = discordHTTP
	}
	pub := discord.NewPublisher(sess)

	var servers []app.Server
	for _, sc := range cfg.Servers {
		scfg := sc.SSH
		scfg.Logger = log.With("component", "sftp", "server", sc.Name)
		client, err := sftp.NewClient(scfg)
		if err != nil {
			return fmt.Errorf("server %s: %w", sc.Name, err)
		}
		defer client.Close()
		voice := sc.VoiceChannelIDs
		servers = append(servers, app.Server{
			Name: sc.Name, Location: sc.Location, Failover: sc.Failover, Schedule: sc.Schedule, Webhook: sc.Webhook,
			Remote:       client,
			SFTPCounters: func() (uint64, uint64) { c := client.Counters(); return c.Handshakes, c.Requests },
			Players:      func() int { return discord.PlayersInVoice(sess.State, cfg.GuildID, voice) },
		})
	}
	a, err := app.New(app.Options{
		Servers: servers, DBPath: cfg.DBPath, DBURL: cfg.DBURL.Reveal(), Ingest: icfg,
		Sender:    ingest.DefaultSenderConfig(),
		Publisher: &discord.OutboxPublisher{Publisher: pub, ChannelID: cfg.StatsChannelID, ShowServer: len(servers) > 1},
		Alert:     adminAlert(pub, cfg.AdminChannelID),
		Clock:     app.SystemClock{},
		Logger:    log,
	})
	if err != nil {
		return err
	}

	cmds := &discord.Commands{GuildID: cfg.GuildID, Status: a.Status, Logger: log.With("component", "commands")}
	var readies atomic.Int32
	control := a.ControlChannels()
	sess.AddHandler(func(s *discordgo.Session, m *discordgo.MessageCreate) {
		if slices.Contains(control, m.ChannelID) {
			a.HandleMessage(m) // webhook triggers, routed by webhook ID; anything else is ignored there
		}
		cmds.OnMessage(s, m) // commands from people, in any channel; webhooks and bots are ignored
	})
	sess.AddHandler(cmds.OnInteraction)
	sess.AddHandler(func(s *discordgo.Session, r *discordgo.Ready) {
		log.Info("discord ready", "user", r.User.Username, "guilds", len(r.Guilds))
		if readies.Add(1) == 1 {
			n, err := discord.RegisterCommands(s, r.User.ID, cfg.GuildID, discord.StatusSlashCommand())
			if err != nil {
				log.Warn("slash command not registered", "err", err)
			} else {
				log.Info("slash commands", "writes", n)
			}
			return
		}
		// A second Ready: the gateway could not resume, messages may be missed.
		go func() {
			n, err := a.CatchUp(ctx, s)
			log.Info("control channel catch-up", "messages", n, "err", err)
		}()
	})
	if err := sess.Open(); err != nil {
		return fmt.Errorf("discord: connect: %w", classifyOpen(err))
	}
	defer sess.Close()

	var wg sync.WaitGroup
	wg.Go(func() {
		h := health.Handler(a.HealthReport, a.Metrics())
		if err := health.Serve(ctx, cfg.HealthAddr, h, log); err != nil {
			log.Error("health server", "err", err)
		}
	})
	wg.Go(func() { weeklySummary(ctx, a, log) })
	err = a.Run(ctx)
	wg.Wait()
	return err
}

// classifyOpen keeps the token out of a gateway error.
func classifyOpen(err error) error {
	var rest *discordgo.RESTError
	if errors.As(err, &rest) && rest.Response != nil {
		return fmt.Errorf("HTTP %d (check DISCORD_TOKEN and the bot's intents)", rest.Response.StatusCode)
	}
	return err
}

func adminAlert(pub *discord.Publisher, channel string) func(context.Context, *discordgo.MessageEmbed) error {
	if channel == "" {
		return nil
	}
	return func(ctx context.Context, e *discordgo.MessageEmbed) error {
		var err error
		for attempt := range 3 {
			if attempt > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Duration(attempt) * 5 * time.Second):
				}
			}
			if _, err = pub.Send(ctx, discord.Post{ChannelID: channel, Embeds: []*discordgo.MessageEmbed{e}}); err == nil || errors.Is(err, discord.ErrPermanent) {
				return err
			}
		}
		return err
	}
}

// weeklySummary logs one line a week per server: imports, failovers,
// time in each mode.
func weeklySummary(ctx context.Context, a *app.App, log *slog.Logger) {
	t := time.NewTicker(7 * 24 * time.Hour)
	defer t.Stop()
	last := map[string]failover.Status{}
	for _, name := range a.Servers() {
		last[name] = a.GuardOf(name).Status()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		counts, _ := a.Store().Counts(ctx)
		b, _ := a.Store().OutboxBacklog(ctx)
		log.Info("weekly summary", "files_done", counts["done"], "quarantined", counts["quarantined"],
			"outbox_pending", b.Pending, "outbox_given_up", b.GivenUp)
		for _, name := range a.Servers() {
			s, l := a.GuardOf(name).Status(), last[name]
			log.Info("weekly summary", "server", name,
				"failovers", s.Failovers-l.Failovers, "recoveries", s.Recoveries-l.Recoveries,
				"time_webhook", (s.TimeOff - l.TimeOff).Round(time.Minute).String(),
				"time_polling", (s.TimeOn - l.TimeOn).Round(time.Minute).String(),
				"mean_time_to_recover", s.MeanTimeToRecover.Round(time.Second).String())
			last[name] = s
		}
	}
}
