package ingest

import (
	"context"
	"sync"
	"time"

	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/tracker"
)

// Run starts the workers and processes submitted events until ctx ends. It
// first resumes what an earlier run left (RetryDue), then looks for files
// due for a retry every Config.RetryEvery.
//
// Shutdown, when ctx ends: Submit returns ErrClosed from then on; workers
// finish the file they hold (a fetch in progress is cancelled and its claim
// released) and take no other; events still queued are recorded in the
// tracker as pending, so the next run resumes them. Run returns when that is
// done, within about Config.ShutdownGrace. Flushing the outbox is the
// Sender's part of shutdown.
func (p *Pipeline) Run(ctx context.Context) error {
	if _, err := p.RetryDue(ctx); err != nil {
		p.log.Error("ingest: resume", "err", err)
	}
	var wg sync.WaitGroup
	for range p.cfg.Workers {
		wg.Go(func() { p.worker(ctx) })
	}
	t := time.NewTicker(p.cfg.RetryEvery)
	defer t.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-t.C:
			if _, err := p.RetryDue(ctx); err != nil && ctx.Err() == nil {
				p.log.Error("ingest: retry", "err", err)
			}
		}
	}
	p.mu.Lock()
	p.closed = true
	close(p.stopping)
	p.mu.Unlock()
	wg.Wait()

	grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.ShutdownGrace)
	defer cancel()
	parked := 0
	for {
		select {
		case j := <-p.queue:
			p.park(grace, j)
			parked++
			continue
		default:
		}
		break
	}
	p.log.Info("ingest: stopped", "parked", parked)
	return nil
}

func (p *Pipeline) worker(ctx context.Context) {
	for {
		select {
		case <-p.stopping:
			return
		default:
		}
		select {
		case <-p.stopping:
			return
		case j := <-p.queue:
			p.runJob(ctx, j)
			p.unbusy(fileKey{j.ev.Server, j.ev.Name.Raw})
		}
	}
}

// park records a queued event the workers did not reach as pending in the
// tracker, so that RetryDue of the next run finds it.
func (p *Pipeline) park(ctx context.Context, j job) {
	defer p.unbusy(fileKey{j.ev.Server, j.ev.Name.Raw})
	c, err := p.d.Tracker.Claim(ctx, tracker.Request{Server: j.ev.Server, Name: j.ev.Name.Raw, Via: string(j.ev.Via), FileTime: j.ev.Name.Time, Force: j.force})
	if err != nil {
		return // done, taken, too old, not due: nothing to keep
	}
	if err := p.d.Tracker.Release(ctx, c, time.Time{}); err != nil {
		p.log.Error("ingest: park", "server", j.ev.Server, "file", j.ev.Name.Raw, "err", err)
	}
}

// RetryDue submits, without blocking, every file the tracker holds that is
// due: pending or failed with its retry time passed, and claimed with an
// expired lease (a crashed worker); and the events whose claim an
// environment failure refused (kept in memory), once their retry is due. The events carry the Via the file was
// first seen by. It returns how many it submitted. Run calls it on start and
// every Config.RetryEvery; with a virtual clock, tests call it directly.
func (p *Pipeline) RetryDue(ctx context.Context) (int, error) {
	now := p.now()
	n := 0
	for _, st := range []tracker.State{tracker.StatePending, tracker.StateFailed, tracker.StateClaimed} {
		recs, err := p.d.Tracker.List(ctx, st, 0)
		if err != nil {
			return n, err
		}
		for _, r := range recs {
			if st == tracker.StateClaimed && now.Before(r.LeaseUntil) || st != tracker.StateClaimed && now.Before(r.RetryAt) {
				continue
			}
			if p.d.Fetchers[r.Server] == nil {
				continue // another configuration's server sharing the database
			}
			name, err := parser.ValidateName(r.Name)
			if err != nil {
				continue
			}
			if p.cfg.Lookback > 0 && name.Time.Before(now.Add(-p.cfg.Lookback)) {
				continue // the claim would refuse it (ErrTooOld); backfill does old files
			}
			ev := source.Event{Server: r.Server, Name: name, Via: source.Via(r.Via), At: now}
			if err := p.submit(ctx, job{ev: ev, retry: true}, false); err != nil {
				return n, err
			}
			n++
		}
	}
	// Events whose claim the database refused (no record to list).
	p.mu.Lock()
	var due []source.Event
	for k, w := range p.envWait {
		if !now.Before(w.due) {
			due = append(due, w.ev)
			delete(p.envWait, k)
		}
	}
	p.mu.Unlock()
	for _, ev := range due {
		if err := p.submit(ctx, job{ev: ev, retry: true}, false); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
