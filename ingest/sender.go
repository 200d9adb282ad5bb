package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// SenderConfig configures the outbox drain.
type SenderConfig struct {
	// MaxAttempts failed sends leave a post in the outbox, given up and
	// visible in status (a retry command puts it back). Default 10.
	MaxAttempts int
	// Base and Max bound the backoff: Base << (attempts-1), at most Max.
	// Defaults 2 s and 10 min. A publisher's own retry-after hint is not
	// used: the next attempt waits at least the backoff.
	Base, Max time.Duration
	// PollEvery is how often Run looks at the outbox without a Notify.
	// Default 5 s.
	PollEvery time.Duration
	// Batch is how many items one pass takes. Default 50.
	Batch int
}

// DefaultSenderConfig returns the defaults.
func DefaultSenderConfig() SenderConfig {
	return SenderConfig{MaxAttempts: 10, Base: 2 * time.Second, Max: 10 * time.Minute, PollEvery: 5 * time.Second, Batch: 50}
}

// Validate returns every problem at once.
func (c SenderConfig) Validate() error {
	var errs []error
	if c.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("ingest: sender max attempts %d: must be at least 1", c.MaxAttempts))
	}
	if c.Base <= 0 || c.Max < c.Base {
		errs = append(errs, fmt.Errorf("ingest: sender backoff %v..%v: need 0 < base <= max", c.Base, c.Max))
	}
	if c.PollEvery <= 0 {
		errs = append(errs, fmt.Errorf("ingest: sender poll interval %v: must be positive", c.PollEvery))
	}
	if c.Batch < 1 {
		errs = append(errs, fmt.Errorf("ingest: sender batch %d: must be positive", c.Batch))
	}
	return errors.Join(errs...)
}

// Sender drains the outbox through a Publisher: each due post is published
// with its nonce; success stores the message ID (the row is never sent
// again), failure schedules a retry with backoff, and after MaxAttempts
// failures (or one permanent failure) the post is given up but kept.
//
// A post can be sent twice only if the publisher succeeded and recording
// the message ID failed (a crash in between); the nonce lets the publisher
// (Discord's enforce_nonce) return the first message instead of a second.
type Sender struct {
	cfg  SenderConfig
	ob   Outbox
	pub  Publisher
	log  *slog.Logger
	now  func() time.Time
	wake chan struct{}
}

// NewSender returns a Sender. log and now may be nil.
func NewSender(cfg SenderConfig, ob Outbox, pub Publisher, log *slog.Logger, now func() time.Time) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ob == nil || pub == nil {
		return nil, errors.New("ingest: sender: nil outbox or publisher")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Sender{cfg: cfg, ob: ob, pub: pub, log: log, now: now, wake: make(chan struct{}, 1)}, nil
}

// Notify wakes Run (after a commit queued posts). It never blocks.
func (s *Sender) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Flush publishes every post due now, in outbox order, and returns how many
// were sent. Items that fail are rescheduled and not retried within this
// call. It returns early with ctx's error.
func (s *Sender) Flush(ctx context.Context) (int, error) {
	sent := 0
	for {
		items, err := s.ob.Due(ctx, s.now(), s.cfg.Batch)
		if err != nil {
			return sent, err
		}
		if len(items) == 0 {
			return sent, nil
		}
		progress := false
		for _, it := range items {
			if err := ctx.Err(); err != nil {
				return sent, err
			}
			ok, err := s.send(ctx, it)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
			progress = true
		}
		if !progress || len(items) < s.cfg.Batch {
			return sent, nil
		}
	}
}

func (s *Sender) send(ctx context.Context, it OutboxItem) (bool, error) {
	log := s.log.With("server", it.Server, "file", it.File, "kind", string(it.Kind), "outbox_id", it.ID)
	id, err := s.pub.Publish(ctx, it.Nonce, it.Post)
	if err == nil && id == "" {
		err = errors.New("publisher returned no message id")
	}
	if err == nil {
		if serr := s.ob.Sent(context.WithoutCancel(ctx), it.ID, id, s.now()); serr != nil {
			return false, serr
		}
		log.Info("ingest: posted", "message_id", id)
		return true, nil
	}
	if ctx.Err() != nil {
		return false, ctx.Err() // shutdown: not an attempt
	}
	n := it.Attempts + 1
	giveUp := errors.Is(err, ErrPermanent) || n >= s.cfg.MaxAttempts
	next := s.now().Add(s.backoff(n))
	if _, ferr := s.ob.Failed(context.WithoutCancel(ctx), it.ID, err.Error(), next, giveUp); ferr != nil {
		return false, ferr
	}
	if giveUp {
		log.Error("ingest: post given up", "attempts", n, "err", err)
	} else {
		log.Warn("ingest: post failed", "attempt", n, "retry_at", next, "err", err)
	}
	return false, nil
}

func (s *Sender) backoff(n int) time.Duration {
	d := s.cfg.Base
	for i := 1; i < n && d < s.cfg.Max; i++ {
		d *= 2
	}
	return min(d, s.cfg.Max)
}

// Run drains the outbox on every Notify and every PollEvery until ctx ends,
// then makes a last pass bounded by grace (flush on shutdown).
func (s *Sender) Run(ctx context.Context, grace time.Duration) {
	t := time.NewTicker(s.cfg.PollEvery)
	defer t.Stop()
	for {
		if _, err := s.Flush(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("ingest: outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
			if _, err := s.Flush(last); err != nil {
				s.log.Warn("ingest: outbox flush on shutdown", "err", err)
			}
			cancel()
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}
