package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	server := imp.Event.Server
	a.metrics.Files.WithLabelValues(server, via, "imported").Inc()
	if !imp.Event.At.IsZero() && !imp.At.Before(imp.Event.At) {
		a.metrics.Latency.WithLabelValues(server).Observe(imp.At.Sub(imp.Event.At).Seconds())
	}
	a.processed(health.LastFile{Server: server, Name: imp.Event.Name.Raw, Via: via, Outcome: "imported", At: imp.At})
	a.obsMu.Lock()
	a.imported[importKey(server, imp.Event.Name.Raw)]++
	a.obsMu.Unlock()
	return nil
}

// importKey keys ImportCounts: "server/name".
func importKey(server, name string) string { return server + "/" + name }

// processed remembers f as the bot's and its server's last file.
func (a *App) processed(f health.LastFile) {
	a.last.Processed(f)
	if s := a.byName[f.Server]; s != nil {
		s.last.Processed(f)
	}
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
		t.app.metrics.Files.WithLabelValues(c.Server, c.Via, outcome).Inc()
		t.app.processed(health.LastFile{Server: c.Server, Name: c.Name, Via: c.Via, Outcome: outcome, At: t.app.clock.Now()})
	}
	return st, err
}

// Quarantine implements tracker.Tracker and counts the quarantine.
func (t *observedTracker) Quarantine(ctx context.Context, c tracker.Claim, reason string) error {
	err := t.Tracker.Quarantine(ctx, c, reason)
	if err == nil {
		t.app.metrics.Files.WithLabelValues(c.Server, c.Via, "quarantined").Inc()
		t.app.processed(health.LastFile{Server: c.Server, Name: c.Name, Via: c.Via, Outcome: "quarantined", At: t.app.clock.Now()})
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
// process (more than once would be a duplicate import), keyed by
// "server/file".
func (a *App) ImportCounts() map[string]int {
	a.obsMu.Lock()
	defer a.obsMu.Unlock()
	out := make(map[string]int, len(a.imported))
	for k, v := range a.imported {
		out[k] = v
	}
	return out
}

// ErrUnknownServer is returned (wrapped) by Status for a server name the
// bot does not serve.
var ErrUnknownServer = errors.New("unknown server")

// Status returns what the failover-status command shows: the named
// server's view, or every server's (in configuration order) when server is
// empty.
func (a *App) Status(ctx context.Context, name string) ([]discord.StatusView, error) {
	srvs := a.servers
	if name != "" {
		s := a.byName[name]
		if s == nil {
			return nil, fmt.Errorf("%w %q (have %s)", ErrUnknownServer, name, strings.Join(a.Servers(), ", "))
		}
		srvs = []*server{s}
	}
	b, err := a.db.OutboxBacklog(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]discord.StatusView, 0, len(srvs))
	for _, s := range srvs {
		st := s.guard.Status()
		v := discord.StatusView{
			SmartEnabled: st.Enabled, PollingOn: st.Mode == failover.PollingOn,
			ConsecutiveSuccesses: st.ConsecutiveSuccesses, ConsecutiveFailures: st.ConsecutiveFailures,
			LastWebhookSuccess: st.LastSuccess, SuccessThreshold: st.SuccessThreshold, FailureThreshold: st.FailureThreshold,
			HeartbeatTimeout: st.HeartbeatTimeout, HeartbeatMinPlayers: st.HeartbeatMinPlayers,
			TimeWebhook: st.TimeOff, TimePolling: st.TimeOn, Failovers: st.Failovers, Recoveries: st.Recoveries,
			MeanTimeToRecover: st.MeanTimeToRecover, Now: a.clock.Now(),
			LastProbe: s.poller.Stats().LastProbe, OutboxBacklog: b.Pending,
		}
		if len(a.servers) > 1 {
			v.Server = s.Name
		}
		if s.Players != nil {
			v.PlayersInVoice = s.Players()
		}
		out = append(out, v)
	}
	return out, nil
}

// HealthReport returns the /health body. The status is "degraded" when posts
// were given up or files quarantined (an operator has something to do), or
// the outbox backlog is older than 15 minutes (Discord is not taking posts).
// Each server has its own entry in Servers; the top-level mode is
// "polling" when any server polls, and the failover counts add up.
func (a *App) HealthReport(ctx context.Context) (health.Report, error) {
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
		Failover: health.Failover{SmartEnabled: true, OutboxBacklog: b.Pending, Quarantined: counts[tracker.StateQuarantined]}}
	for _, s := range a.servers {
		st := s.guard.Status()
		sr := health.ServerReport{Server: s.Name, Mode: health.ModeWebhook, LastFile: s.last.Last(),
			Failover: health.Failover{
				SmartEnabled: st.Enabled, PollingOn: st.Mode == failover.PollingOn, ConsecutiveSuccesses: st.ConsecutiveSuccesses,
				ConsecutiveFailures: st.ConsecutiveFailures, LastWebhookSuccess: st.LastSuccess,
				Failovers: st.Failovers, Recoveries: st.Recoveries,
			}}
		if sr.Failover.PollingOn {
			sr.Mode = health.ModePolling
		}
		if sr.LastFile == nil {
			if rec, err := a.db.LastProcessed(ctx, s.Name); err == nil {
				sr.LastFile = &health.LastFile{Server: s.Name, Name: rec.Name, Via: rec.Via, Outcome: "imported", At: rec.Updated}
			}
		}
		f := &r.Failover
		f.SmartEnabled = f.SmartEnabled && st.Enabled
		f.PollingOn = f.PollingOn || sr.Failover.PollingOn
		f.ConsecutiveSuccesses += st.ConsecutiveSuccesses
		f.ConsecutiveFailures += st.ConsecutiveFailures
		if st.LastSuccess.After(f.LastWebhookSuccess) {
			f.LastWebhookSuccess = st.LastSuccess
		}
		f.Failovers += st.Failovers
		f.Recoveries += st.Recoveries
		if r.LastFile == nil || (sr.LastFile != nil && sr.LastFile.At.After(r.LastFile.At)) {
			r.LastFile = sr.LastFile
		}
		r.Servers = append(r.Servers, sr)
	}
	if r.Failover.PollingOn {
		r.Mode = health.ModePolling
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
