package sim

import (
	"time"

	"github.com/roundfeed/roundfeed/failover"
)

// via says which path started an import.
type via uint8

const (
	viaWebhook via = iota // a webhook message
	viaListing            // a poll, a probe's listing or the anti-entropy listing
)

type connState uint8

const (
	connDown connState = iota
	connDialing
	connUp
)

// parked is an endstats file waiting for its round's stats file.
type parked struct {
	name   string
	v      via
	report bool
}

// bot is one incarnation of the bot process. Everything in it is lost when
// the process stops; the tracker (world.track) and the machine snapshot
// survive.
type bot struct {
	w  *world
	id int
	m  *failover.Machine

	pushed   map[string]bool     // names the webhook handler accepted
	missed   map[string]bool     // names already reported as Failure("missed")
	awaiting map[string]bool     // listed, not reported by push, still within the missed grace
	parked   map[string][]parked // stats name -> endstats deferred until it is imported
	isParked map[string]bool
	busy     map[string]bool // imports in flight in this incarnation
	tries    map[string]int  // failed fetches, for the backoff
	rate     []time.Time     // accepted webhook messages, for the rate limit

	lastFile, lastPoll, lastProbe, lastFullList time.Time

	probed     bool
	probeMtime time.Time
	baselined  bool // a listing ran in this incarnation

	wakeSeq     int
	wakePending bool
	wakeAt      time.Time

	conn      connState
	connTries int
	waiting   []func()
}

func newBot(w *world, m *failover.Machine) *bot {
	w.starts++
	return &bot{
		w:        w,
		id:       w.starts,
		m:        m,
		pushed:   make(map[string]bool),
		missed:   make(map[string]bool),
		awaiting: make(map[string]bool),
		parked:   make(map[string][]parked),
		isParked: make(map[string]bool),
		busy:     make(map[string]bool),
		tries:    make(map[string]int),
	}
}

func (b *bot) alive() bool { return b.w.bot == b }

// later runs fn at t if this incarnation is still alive then.
func (b *bot) later(t time.Time, fn func()) {
	b.w.q.at(t, func() {
		if b.alive() {
			fn()
		}
	})
}

func (b *bot) start() {
	if b.w.pol.persistent {
		b.ensureConn()
	}
	b.tick()
}

// tick feeds the machine the players in voice, every tickEvery.
func (b *bot) tick() {
	w := b.w
	b.result(b.m.Tick(w.s.playersAt(w.now())))
	b.replan()
	b.later(w.now().Add(tickEvery), b.tick)
}

func (b *bot) record(gen uint64, kind failover.Kind, o failover.Outcome, reason string) {
	b.result(b.m.Record(gen, kind, o, reason))
}

func (b *bot) result(r failover.Result) {
	b.w.result(b, r)
}

// webhook is the bot's handler for a webhook message naming name.
func (b *bot) webhook(name string) {
	w := b.w
	now := w.now()
	f := w.files[name]
	keep := b.rate[:0]
	for _, t := range b.rate {
		if now.Sub(t) < rateLimitWindow {
			keep = append(keep, t)
		}
	}
	b.rate = keep
	if len(b.rate) >= rateLimitN {
		// Not fetched by push; polling will find it.
		w.logf("webhook rate limited", "file", name)
		b.record(b.m.Generation(), f.spec.kind, failover.Failure, "rate_limited")
		b.replan()
		return
	}
	b.rate = append(b.rate, now)
	w.logf("webhook", "file", name)
	b.pushed[name] = true
	if f.spec.kind == failover.KindStats {
		b.lastFile = now
	}
	b.ingest(name, viaWebhook, true, b.m.Generation(), false)
	b.replan()
}

// ingest runs the pipeline for name: claim, fetch, parse, store and mark.
// report says the outcome goes to the machine (push-delivered files only);
// gen is the machine's generation when the work started. inPoll says the
// fetch rides on the connection of the poll that listed the file.
func (b *bot) ingest(name string, v via, report bool, gen uint64, inPoll bool) {
	w := b.w
	f := w.files[name]
	if b.busy[name] {
		if report {
			b.record(gen, f.spec.kind, failover.Success, "")
		}
		return
	}
	st, until := w.tryClaim(name, b.id, v == viaWebhook)
	switch st {
	case claimDone:
		if report {
			b.record(gen, f.spec.kind, failover.Success, "")
		}
		return
	case claimBusy:
		// An earlier incarnation's lease: try again when it expires.
		b.later(until.Add(time.Second), func() { b.ingest(name, v, report, b.m.Generation(), false) })
		return
	}
	b.busy[name] = true
	b.fetch(name, inPoll, func(ok bool) {
		delete(b.busy, name)
		if !ok {
			w.release(name, b.id)
			if report {
				b.record(gen, f.spec.kind, failover.Deferred, "fetch")
			}
			b.retry(name, v, report)
			return
		}
		b.finish(name, v, report, gen)
	})
}

// finish parses and stores a fetched file.
func (b *bot) finish(name string, v via, report bool, gen uint64) {
	w := b.w
	f := w.files[name]
	kind := f.spec.kind
	switch {
	case f.spec.corrupt:
		// Quarantined: marked, never retried automatically.
		w.commit(name, b.id)
		if report {
			b.record(gen, kind, failover.Failure, "corrupt")
		}
	case kind == failover.KindEndstats && !w.isDone(f.spec.stats):
		w.release(name, b.id)
		if !b.isParked[name] {
			b.isParked[name] = true
			b.parked[f.spec.stats] = append(b.parked[f.spec.stats], parked{name: name, v: v, report: report})
		}
		if report {
			b.record(gen, kind, failover.Deferred, "endstats before stats")
		}
	default:
		w.commit(name, b.id)
		if report {
			b.record(gen, kind, failover.Success, "")
		}
		if kind == failover.KindStats {
			for _, p := range b.parked[name] {
				delete(b.isParked, p.name)
				b.ingest(p.name, p.v, p.report, b.m.Generation(), false)
			}
			delete(b.parked, name)
		}
	}
	b.replan()
}

// retry schedules another attempt after a failed fetch: when the persistent
// connection is back, or after a capped backoff for a new connection.
func (b *bot) retry(name string, v via, report bool) {
	if b.w.pol.persistent {
		b.waiting = append(b.waiting, func() { b.ingest(name, v, report, b.m.Generation(), false) })
		if b.connOK() {
			// The failure was not the connection's: try again at once
			// when the queue is next drained.
			b.later(b.w.now().Add(fetchBackoffMin), b.drain)
		}
		return
	}
	n := b.tries[name]
	b.tries[name]++
	d := fetchBackoffMax
	if n < 8 {
		d = min(fetchBackoffMin<<n, fetchBackoffMax)
	}
	b.later(b.w.now().Add(d), func() { b.ingest(name, v, report, b.m.Generation(), false) })
}

// fetch downloads name and calls done with whether it worked.
func (b *bot) fetch(name string, inPoll bool, done func(ok bool)) {
	w := b.w
	now := w.now()
	switch {
	case w.pol.persistent:
		if !b.connOK() {
			done(false)
			return
		}
		at := now.Add(downloadTime + parseStoreTime)
		b.later(at, func() { done(w.sshUp(now.Add(downloadTime))) })
	case inPoll:
		at := now.Add(downloadTime + parseStoreTime)
		b.later(at, func() { done(w.sshUp(now.Add(downloadTime))) })
	default:
		// Today's bot opens a connection for each fetch.
		if !w.sshUp(now) {
			b.later(now.Add(refusedTime), func() { done(false) })
			return
		}
		w.countHandshake()
		at := now.Add(handshakeTime + downloadTime + parseStoreTime)
		b.later(at, func() { done(w.sshUp(now.Add(handshakeTime + downloadTime))) })
	}
}

// connOK reports whether the persistent connection is usable, noticing a
// dead server and starting the reconnect.
func (b *bot) connOK() bool {
	if b.conn == connUp && !b.w.sshUp(b.w.now()) {
		b.conn = connDown
		b.ensureConn()
	}
	return b.conn == connUp
}

func (b *bot) ensureConn() {
	if b.conn != connDown {
		return
	}
	b.conn = connDialing
	b.dial()
}

// drain runs the fetches that waited for the connection.
func (b *bot) drain() {
	waiting := b.waiting
	b.waiting = nil
	for _, fn := range waiting {
		fn()
	}
	b.replan()
}

// dial connects with capped exponential backoff.
func (b *bot) dial() {
	w := b.w
	now := w.now()
	if w.sshUp(now) {
		w.countHandshake()
		w.logf("ssh dial")
		b.later(now.Add(handshakeTime), func() {
			if !w.sshUp(w.now()) {
				b.redial()
				return
			}
			b.conn, b.connTries = connUp, 0
			b.drain()
		})
		return
	}
	b.redial()
}

func (b *bot) redial() {
	d := reconnectMax
	if b.connTries < 8 {
		d = min(reconnectMin<<b.connTries, reconnectMax)
	}
	b.connTries++
	b.later(b.w.now().Add(refusedTime+d), b.dial)
}

// replan sets the single wake-up for the next due poll, probe or listing.
func (b *bot) replan() {
	if !b.alive() {
		return
	}
	next := b.nextDue()
	if next.IsZero() {
		b.wakeSeq++
		b.wakePending = false
		return
	}
	if b.wakePending && b.wakeAt.Equal(next) {
		return
	}
	b.wakeSeq++
	seq := b.wakeSeq
	b.wakePending, b.wakeAt = true, next
	b.later(next, func() {
		if seq == b.wakeSeq {
			b.wakePending = false
			b.wake()
		}
	})
}

func (b *bot) plan() failover.Plan {
	w := b.w
	return w.sched.Plan(failover.PlanInput{
		Now:          w.now(),
		Players:      w.s.playersAt(w.now()),
		LastFile:     b.lastFile,
		LastPoll:     b.lastPoll,
		LastProbe:    b.lastProbe,
		LastFullList: b.lastFullList,
		Mode:         b.m.Mode(),
		OffInterval:  b.m.OffInterval(),
	})
}

// nextDue returns when the bot must next look at the folder, or zero.
func (b *bot) nextDue() time.Time {
	w := b.w
	if !w.pol.schedule {
		if b.lastPoll.IsZero() {
			return w.now()
		}
		return later(w.now(), b.lastPoll.Add(w.pol.fixedPoll))
	}
	if w.pol.persistent && b.conn != connUp {
		return time.Time{} // the reconnect replans
	}
	p := b.plan()
	next := p.NextPoll
	if w.pol.probe {
		next = earliest(next, p.NextProbe)
	}
	if w.pol.antiEntropy {
		next = earliest(next, p.NextFullList)
	}
	return next
}

func (b *bot) wake() {
	w := b.w
	now := w.now()
	if !w.pol.schedule {
		b.poll()
		b.replan()
		return
	}
	p := b.plan()
	due := func(t time.Time) bool { return !t.IsZero() && !t.After(now) }
	switch {
	case due(p.NextPoll):
		b.poll()
	case w.pol.antiEntropy && due(p.NextFullList):
		b.fullList()
	case w.pol.probe && due(p.NextProbe):
		b.probe()
	}
	b.replan()
}

// poll is a listing while polling is ON (or on the ladder).
func (b *bot) poll() {
	w := b.w
	now := w.now()
	b.lastPoll = now
	n := w.listingRequests()
	if w.pol.persistent {
		if !b.connOK() {
			return
		}
		w.countRequests(n)
		w.logf("poll", "requests", n)
		b.later(now.Add(time.Duration(n)*requestTime), func() { b.listed(false) })
		return
	}
	// A new connection per poll, as today.
	if !w.sshUp(now) {
		return
	}
	w.countHandshake()
	w.countRequests(n)
	w.logf("poll", "requests", n, "handshake", true)
	b.later(now.Add(handshakeTime+time.Duration(n)*requestTime), func() { b.listed(true) })
}

// fullList is the anti-entropy listing.
func (b *bot) fullList() {
	w := b.w
	now := w.now()
	b.lastFullList = now
	if !b.connOK() {
		return
	}
	n := w.listingRequests()
	w.countRequests(n)
	w.logf("full list", "requests", n)
	b.later(now.Add(time.Duration(n)*requestTime), func() { b.listed(false) })
}

// probe is the change probe: one stat of the folder. Folder mtime has
// one-second resolution, so a change in the same second as the previous
// probe is caught by listing whenever mtime >= previous probe - 1 s.
func (b *bot) probe() {
	w := b.w
	now := w.now()
	prev := b.lastProbe
	b.lastProbe = now
	if !b.connOK() {
		return
	}
	w.countRequests(1)
	m := w.folderMtime
	changed := probeChanged(b.probed, m, b.probeMtime, prev)
	b.probed, b.probeMtime = true, m
	if !changed {
		b.quiet()
		return
	}
	n := w.listingRequests()
	w.countRequests(n)
	w.logf("probe changed", "mtime", m.Format("15:04:05"), "requests", n)
	b.later(now.Add(time.Duration(n+1)*requestTime), func() { b.listed(false) })
}

// probeChanged reports whether a probe that read folder mtime m must list:
// on the first probe, when m differs from the last probe's lastM, and when m
// is within a second of the previous probe (prev), because a file written
// later in that same second leaves the one-second mtime unchanged.
func probeChanged(probed bool, m, lastM, prev time.Time) bool {
	return !probed || !m.Equal(lastM) || !m.Before(prev.Add(-time.Second))
}

// listed handles a listing's result, as source/poll does: every file not
// yet imported is imported at once. With the missed rule (roundfeed), a
// listed file push has not reported within missedGrace of its mtime is a
// Failure("missed"), except in the first listing of an incarnation (the
// baseline: nobody knows whether push saw those files).
//
// A listing that finds no such file, with none still within its grace, is
// a quiet folder check (see quiet).
func (b *bot) listed(inPoll bool) {
	w := b.w
	now := w.now()
	unreported := false
	for _, f := range w.order {
		name := f.spec.name
		if w.isDone(name) || b.busy[name] || b.isParked[name] {
			continue
		}
		pushed := b.wasPushed(name)
		if !pushed && f.spec.kind == failover.KindStats {
			b.lastFile = later(b.lastFile, now)
		}
		if !pushed && b.baselined {
			unreported = true
		}
		if w.pol.missed && !pushed && b.baselined {
			if now.Sub(f.mtime) >= missedGrace {
				b.reportMissed(name)
			} else if !b.awaiting[name] {
				b.awaiting[name] = true
				b.later(f.mtime.Add(missedGrace), func() { b.checkMissed(name) })
			}
		}
		b.ingest(name, viaListing, false, b.m.Generation(), inPoll)
	}
	b.baselined = true
	if !unreported {
		b.quiet()
	}
	b.replan()
}

// quiet reports a quiet folder check to the machine (policies with quiet
// only): a probe that saw no change or a listing that found nothing push
// had not reported, with no listed file still waiting for push within the
// missed grace and a baseline listing done, as source/poll does.
func (b *bot) quiet() {
	if b.w.pol.quiet && b.baselined && len(b.awaiting) == 0 {
		b.m.Quiet()
	}
}

// checkMissed runs when a listed file's grace ends: if push has still not
// reported it, it is missed.
func (b *bot) checkMissed(name string) {
	delete(b.awaiting, name)
	if !b.wasPushed(name) {
		b.reportMissed(name)
		b.replan()
	}
}

// wasPushed reports whether the webhook named the file, to this
// incarnation or, as the tracker's Via records, to an earlier one.
func (b *bot) wasPushed(name string) bool {
	if b.pushed[name] {
		return true
	}
	c := b.w.track[name]
	return c != nil && c.pushed
}

func (b *bot) reportMissed(name string) {
	if b.missed[name] {
		return
	}
	b.missed[name] = true
	b.w.logf("missed by push", "file", name)
	b.record(b.m.Generation(), b.w.files[name].spec.kind, failover.Failure, "missed")
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
