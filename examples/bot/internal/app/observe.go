package app

import (
	"context"
	"errors"
	"time"

	"github.com/roundfeed/roundfeed/examples/bot/internal/discord"
	"github.com/roundfeed/roundfeed/examples/bot/internal/health"
	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/store"
	"github.com/roundfeed/roundfeed/tracker"
)

// observedStore counts each committed import by the path that saw it and
// its latency, and remembers the last file for /health. The pipeline has no
// result hook, and the commit is the one place every import passes once.
type observedStore struct {
	*store.Store
	app *App
}

// Commit implements ingest.Store: the store's Commit, then the counts.
func (s *observedStore) Commit(ctx context.Context, imp *ingest.Import) error {
	err := s.Store.Commit(ctx, imp)
	if err != nil {
		return err
	}
	a := s.app
	via := string(imp.Event.Via)
	a.metrics.Files.WithLabelValues(via, "imported").Inc()
	if !imp.Event.At.IsZero() && !imp.At.Before(imp.Event.At) {
		a.metrics.Latency.Observe(imp.At.Sub(imp.Event.At).Seconds())
	}
	a.last.Processed(health.LastFile{Name: imp.Event.Name.Raw, Via: via, Outcome: "imported", At: imp.At})
	a.obsMu.Lock()
	a.imported[imp.Event.Name.Raw]++
	a.obsMu.Unlock()
	return nil
}

// observedTracker counts failures and quarantines by path (the pipeline
// logs them).
type observedTracker struct {
	tracker.Tracker
	app *App
}

// Fail implements tracker.Tracker and counts the failure.
func (t *observedTracker) Fail(ctx context.Context, c tracker.Claim, reason string, retryAt time.Time) (tracker.State, error) {
	st, err := t.Tracker.Fail(ctx, c, reason, retryAt)
	if err == nil {
		outcome := "failed"
		if st == tracker.StateQuarantined {
			outcome = "quarantined"
		}
		t.app.metrics.Files.WithLabelValues(c.Via, outcome).Inc()
		t.app.last.Processed(health.LastFile{Name: c.Name, Via: c.Via, Outcome: outcome, At: t.app.clock.Now()})
	}
	return st, err
}

// Quarantine implements tracker.Tracker and counts the quarantine.
func (t *observedTracker) Quarantine(ctx context.Context, c tracker.Claim, reason string) error {
	err := t.Tracker.Quarantine(ctx, c, reason)
	if err == nil {
		t.app.metrics.Files.WithLabelValues(c.Via, "quarantined").Inc()
		t.app.last.Processed(health.LastFile{Name: c.Name, Via: c.Via, Outcome: "quarantined", At: t.app.clock.Now()})
	}
	return err
}

// countingPublisher counts post attempts by outcome.
type countingPublisher struct {
	inner   ingest.Publisher
	metrics *health.Metrics
}

// Publish implements ingest.Publisher and counts the outcome.
func (p *countingPublisher) Publish(ctx context.Context, nonce string, post ingest.Post) (string, error) {
	id, err := p.inner.Publish(ctx, nonce, post)
	switch {
	case err == nil:
		p.metrics.Published.WithLabelValues("ok").Inc()
	case errors.Is(err, ingest.ErrPermanent) || errors.Is(err, discord.ErrPermanent):
		p.metrics.Published.WithLabelValues("permanent").Inc()
	default:
		p.metrics.Published.WithLabelValues("retry").Inc()
	}
	return id, err
}

// ImportCounts returns how many times each file was committed in this
// process (more than once would be a duplicate import).
func (a *App) ImportCounts() map[string]int {
	a.obsMu.Lock()
	defer a.obsMu.Unlock()
	out := make(map[string]int, len(a.imported))
	for k, v := range a.imported {
		out[k] = v
	}
	return out
}

// Status returns what the failover-status command shows.
func (a *App) Status(ctx context.Context) (discord.StatusView, error) {
	s := a.guard.Status()
	v := discord.StatusView{
		SmartEnabled: s.Enabled, PollingOn: s.Mode == failover.PollingOn,
		ConsecutiveSuccesses: s.ConsecutiveSuccesses, ConsecutiveFailures: s.ConsecutiveFailures,
		LastWebhookSuccess: s.LastSuccess, SuccessThreshold: s.SuccessThreshold, FailureThreshold: s.FailureThreshold,
		HeartbeatTimeout: s.HeartbeatTimeout, HeartbeatMinPlayers: s.HeartbeatMinPlayers,
		TimeWebhook: s.TimeOff, TimePolling: s.TimeOn, Failovers: s.Failovers, Recoveries: s.Recoveries,
		MeanTimeToRecover: s.MeanTimeToRecover, Now: a.clock.Now(),
	}
	v.LastProbe = a.poller.Stats().LastProbe
	if a.opts.Players != nil {
		v.PlayersInVoice = a.opts.Players()
	}
	b, err := a.db.OutboxBacklog(ctx)
	if err != nil {
		return v, err
	}
	v.OutboxBacklog = b.Pending
	return v, nil
}

// HealthReport returns the /health body. The status is "degraded" when posts
// were given up or files quarantined (an operator has something to do), or
// the outbox backlog is older than 15 minutes (Discord is not taking posts).
func (a *App) HealthReport(ctx context.Context) (health.Report, error) {
	s := a.guard.Status()
	b, err := a.db.OutboxBacklog(ctx)
	if err != nil {
		return health.Report{}, err
	}
	counts, err := a.db.Counts(ctx)
	if err != nil {
		return health.Report{}, err
	}
	now := a.clock.Now()
	r := health.Report{Status: "ok", Mode: health.ModeWebhook, LastFile: a.last.Last(), Now: now,
		Failover: health.Failover{
			SmartEnabled: s.Enabled, PollingOn: s.Mode == failover.PollingOn, ConsecutiveSuccesses: s.ConsecutiveSuccesses,
			ConsecutiveFailures: s.ConsecutiveFailures, LastWebhookSuccess: s.LastSuccess,
			Failovers: s.Failovers, Recoveries: s.Recoveries, OutboxBacklog: b.Pending,
			Quarantined: counts[tracker.StateQuarantined],
		}}
	if r.Failover.PollingOn {
		r.Mode = health.ModePolling
	}
	if r.LastFile == nil {
		if rec, err := a.db.LastProcessed(ctx, a.opts.Server); err == nil {
			r.LastFile = &health.LastFile{Name: rec.Name, Via: rec.Via, Outcome: "imported", At: rec.Updated}
		}
	}
	if b.GivenUp > 0 {
		r.Problems = append(r.Problems, "posts given up: see the status command")
	}
	if !b.Oldest.IsZero() && now.Sub(b.Oldest) > 15*time.Minute {
		r.Problems = append(r.Problems, "outbox backlog older than 15 minutes")
	}
	if counts[tracker.StateQuarantined] > 0 {
		r.Problems = append(r.Problems, "quarantined files: see the status command")
	}
	if len(r.Problems) > 0 {
		r.Status = "degraded"
	}
	return r, nil
}
