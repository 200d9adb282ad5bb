// Command notifier runs on the game server: it watches the stats folder and
// posts a Discord webhook naming each complete stats file, so that the
// roundfeed bot imports it at once. Configuration comes from the
// environment (see notify.ConfigFromEnv):
//
//	STATS_DIR=/home/et/.etlegacy/legacy/stats \
//	DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/<id>/<token> \
//	SPOOL_DIR=/var/lib/roundfeed-notifier \
//	notifier
//
// roundfeed-notifier.service beside this file runs it under systemd. It
// stops on SIGINT or SIGTERM, letting a post in flight finish; what is still
// queued is sent on the next start.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/roundfeed/roundfeed/examples/notifier/notify"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := notify.ConfigFromEnv(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "notifier: configuration:")
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cfg.Logger = log
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := notify.Run(ctx, cfg); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("notifier failed", "err", err)
		os.Exit(1)
	}
}
