package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/source/local"
	"github.com/roundfeed/roundfeed/source/webhook/send"
)

// Run watches cfg.StatsDir and notifies each complete file until ctx ends
// (see the package documentation). It returns ctx.Err() after a stop, or an
// error when the configuration is invalid or the spool or the folder cannot
// be opened. On a stop, a post in flight finishes and is recorded; what is
// still queued stays in the spool for the next start.
func Run(parent context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	clock := cfg.Clock
	if clock == nil {
		clock = systemClock{}
	}
	base := cfg.Logger
	if base == nil {
		base = slog.New(slog.DiscardHandler)
	}
	log := base.With("component", "notifier")

	sender, err := send.New(cfg.Send, clock, base)
	if err != nil {
		return err
	}
	sp, err := openSpool(cfg.SpoolDir, log)
	if err != nil {
		return err
	}
	if n := sp.pruneSent(clock.Now(), 2*cfg.Lookback); n > 0 {
		log.Info("pruned old sent markers", "removed", n)
	}
	wcfg := local.DefaultConfig(cfg.StatsDir)
	wcfg.Settle = cfg.Settle
	wcfg.Rescan = cfg.Rescan
	wcfg.Lookback = cfg.Lookback
	wcfg.Clock = clock
	wcfg.Logger = base.With("component", "local")
	watcher, err := local.NewWatcher(wcfg)
	if err != nil {
		return err
	}

	n := &notifier{cfg: cfg, clock: clock, log: log, sender: sender, spool: sp}
	// Queue the complete files of the lookback window before the first
	// send, so they go out in order rather than in the order the scan
	// meets them. The watcher's own start (watch, then scan) still catches
	// whatever this listing misses; repeats are dropped by the spool.
	entries, err := watcher.List(parent)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	log.Info("notifier starting", "stats_dir", cfg.StatsDir, "spool_dir", cfg.SpoolDir, "pending", sp.len(),
		"lookback", cfg.Lookback, "heartbeat", cfg.HeartbeatInterval, "send", cfg.Send)
	now := clock.Now()
	for _, e := range entries {
		if now.Sub(e.ModTime) >= cfg.Settle {
			n.onFile(e)
		}
	}

	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); n.sendLoop(ctx) }()
	if cfg.HeartbeatInterval > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); n.heartbeatLoop(ctx) }()
	}
	err = watcher.Run(ctx, n.onFile)
	cancel()
	wg.Wait()
	if perr := parent.Err(); perr != nil {
		log.Info("notifier stopped", "pending", sp.len())
		return perr
	}
	log.Error("notifier stopped", "err", err, "pending", sp.len())
	return fmt.Errorf("notify: %w", err)
}

type notifier struct {
	cfg    Config
	clock  Clock
	log    *slog.Logger
	sender *send.Sender
	spool  *spool
}

// onFile is the watcher's callback for a complete file: queue it unless it
// is too small, already queued, or already sent.
func (n *notifier) onFile(e source.Entry) {
	if e.Size < n.cfg.MinSize {
		n.log.Warn("file too small, not notified", "file", e.Name.Raw, "size", e.Size, "min_size", n.cfg.MinSize)
		return
	}
	added, err := n.spool.enqueue(send.Notification{Name: e.Name, Size: e.Size}, n.clock.Now())
	if err != nil {
		n.log.Error("spool write failed: notification held in memory only", "file", e.Name.Raw, "err", err)
	}
	if added {
		n.log.Info("file queued", "file", e.Name.Raw, "size", e.Size, "pending", n.spool.len())
	}
}

// sendLoop posts the head of the spool until ctx ends, in order, waiting
// with backoff after a failure.
func (n *notifier) sendLoop(ctx context.Context) {
	wait := time.Duration(0)
	for {
		it, ok := n.spool.head()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-n.spool.changed:
				continue
			}
		}
		err := n.sender.Notify(ctx, it.note)
		if err == nil {
			// Recorded even when ctx has ended: the post went through.
			if err := n.spool.done(it); err != nil {
				n.log.Error("spool update failed after a sent notification", "file", it.note.Name.Raw, "err", err)
			}
			n.log.Info("file notified", "file", it.note.Name.Raw, "pending", n.spool.len())
			wait = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		switch {
		case errors.Is(err, send.ErrRejected):
			wait = n.cfg.RetryMax
			n.log.Error("webhook rejected the notification: kept in the spool; check DISCORD_WEBHOOK_URL",
				"file", it.note.Name.Raw, "retry_in", wait, "err", err)
		default:
			wait = min(max(2*wait, n.cfg.RetryMin), n.cfg.RetryMax)
			n.log.Warn("notification not sent, kept in the spool", "file", it.note.Name.Raw, "retry_in", wait, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-n.clock.After(wait):
		}
	}
}

// heartbeatLoop posts ROUNDFEED_HEARTBEAT every HeartbeatInterval while the
// server has players (or always, without a Players function). A failed
// heartbeat is logged, not spooled: the next one replaces it.
func (n *notifier) heartbeatLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.clock.After(n.cfg.HeartbeatInterval):
		}
		if n.cfg.Players != nil && n.cfg.Players() <= 0 {
			continue
		}
		if err := n.sender.Heartbeat(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("heartbeat not sent", "err", err)
		}
	}
}
