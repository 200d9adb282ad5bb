package sim

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/roundfeed/roundfeed/failover"
)

// Path model timings. They are fixed, not random: the randomness of a run is
// all in the script, so two policies differ only by what they do.
const (
	notifierSettle   = 2 * time.Second // the notifier waits for the size to settle
	handshakeTime    = 500 * time.Millisecond
	refusedTime      = 100 * time.Millisecond // a refused connection fails this fast
	requestTime      = 30 * time.Millisecond  // one SFTP request round trip
	downloadTime     = 300 * time.Millisecond
	parseStoreTime   = 100 * time.Millisecond
	claimLease       = 2 * time.Minute  // tracker.DefaultLease
	keepaliveDetect  = 15 * time.Second // an open connection notices a dead server
	tickEvery        = time.Minute      // the bot ticks the machine (source/poll's default)
	missedGrace      = 30 * time.Second // push must report a file within this (source/poll's default)
	readdirBatch     = 100              // entries per READDIR reply (OpenSSH sftp-server)
	rateLimitN       = 5                // webhook messages accepted per rateLimitWindow
	rateLimitWindow  = time.Minute
	notifierLookback = 48 * time.Hour
	notifierPace     = 500 * time.Millisecond // the rescan's posts, paced under Discord's limit
	activePlayers    = 4                      // an active hour has at least this many in voice
	fetchBackoffMin  = 10 * time.Second
	fetchBackoffMax  = time.Minute
	reconnectMin     = time.Second
	reconnectMax     = 30 * time.Second
)

// world is one run: the game server, its folder and notifier, Discord, the
// bot (when up) and the tracker's database.
type world struct {
	pol   Policy
	sc    Scenario
	s     *script
	q     queue
	clk   *failover.ManualClock
	mcfg  failover.Config
	sched *failover.Schedule

	files       map[string]*file
	order       []*file   // files in the folder, in write order
	folderMtime time.Time // one-second resolution, like SFTP v3
	notified    map[string]bool
	sends       map[string]int // messages sent per file name, for per-message draws

	folderFiles int // files in the folder before the run, all imported

	bot    *bot // nil while the bot is down
	starts int  // bot incarnations so far
	snap   []byte
	track  map[string]*claim

	handshakes, discovery int // counted while >= activePlayers are in voice
	failovers             int
	err                   error
	log                   *slog.Logger
}

// logf logs one event at virtual time.
func (w *world) logf(msg string, args ...any) {
	if !w.log.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
	w.log.Info(msg, append([]any{"at", w.now().Format("01-02 15:04:05.000")}, args...)...)
}

// file is one file in the stats folder.
type file struct {
	spec    fileSpec
	mtime   time.Time
	done    time.Time // imported or quarantined; zero while not
	imports int
}

// claim is the tracker's row for a file: persistent, shared by every
// incarnation of the bot.
type claim struct {
	done   bool
	pushed bool // the first event for the file came from the webhook (the tracker's Via)
	owner  int  // bot incarnation holding the lease
	until  time.Time
}

func newWorld(pol Policy, sc Scenario, o Options) (*world, error) {
	s := newScript(sc, o.Seed, o.Nights)
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &world{
		log:         log,
		folderFiles: o.FolderFiles,
		pol:         pol,
		sc:          sc,
		s:           s,
		clk:         failover.NewManualClock(s.start),
		files:       make(map[string]*file),
		notified:    make(map[string]bool),
		sends:       make(map[string]int),
		track:       make(map[string]*claim),
	}
	w.mcfg = failover.DefaultConfig()
	if o.Machine != nil {
		w.mcfg = *o.Machine
	}
	w.mcfg.Enabled = w.mcfg.Enabled && pol.smart
	w.mcfg.HeartbeatQuietOK = w.mcfg.HeartbeatQuietOK && pol.quiet
	scfg := failover.DefaultScheduleConfig()
	if o.Schedule != nil {
		scfg = *o.Schedule
	}
	scfg.Zone = "UTC" // the script's clock is UTC: "20:00" is 20:00 on the schedule's clock
	if !pol.probe {
		scfg.ProbeInterval = 0
	}
	if !pol.antiEntropy {
		scfg.AntiEntropyInterval = 0
	}
	if _, err := failover.NewMachine(w.mcfg, w.clk); err != nil {
		return nil, err
	}
	sched, err := failover.NewSchedule(scfg)
	if err != nil {
		return nil, err
	}
	w.sched = sched
	return w, nil
}

func (w *world) now() time.Time { return w.clk.Now() }

func (w *world) sshUp(t time.Time) bool {
	return !inAny(w.s.faults.sshDown, t) && !inAny(w.s.faults.serverDown, t)
}

func (w *world) notifierUp(t time.Time) bool {
	return !inAny(w.s.faults.notifierDown, t) && !inAny(w.s.faults.serverDown, t)
}

func (w *world) active() bool { return w.s.playersAt(w.now()) >= activePlayers }

// countHandshake and countRequests charge costs incurred now.
func (w *world) countHandshake() {
	if w.active() {
		w.handshakes++
	}
}

func (w *world) countRequests(n int) {
	if w.active() {
		w.discovery += n
	}
}

// listingRequests is the SFTP cost of listing the folder: opendir, one
// readdir per batch of entries (plus "." and ".."), the readdir that
// returns EOF, and close.
func (w *world) listingRequests() int {
	entries := w.folderFiles + len(w.order) + 2
	return 1 + (entries+readdirBatch-1)/readdirBatch + 1 + 1
}

// run plays the script to its end.
func (w *world) run() error {
	s := w.s
	for i := range s.files {
		f := &s.files[i]
		w.q.at(f.written, func() { w.write(*f) })
	}
	for _, win := range s.faults.sshDown {
		w.q.at(win.from.Add(keepaliveDetect), func() {
			if w.bot != nil {
				w.bot.connOK()
			}
		})
	}
	for _, win := range s.faults.notifierDown {
		w.q.at(win.to, w.notifierRestart)
	}
	for _, win := range s.faults.botDown {
		w.q.at(win.from, w.botStop)
		w.q.at(win.to, w.botStart)
	}
	w.q.at(s.start, w.botStart)
	for {
		ev, ok := w.q.next(s.end)
		if !ok {
			break
		}
		w.clk.Set(ev.at)
		ev.fn()
		if w.err != nil {
			return w.err
		}
	}
	w.clk.Set(s.end)
	return nil
}

// write is the game server writing a file.
func (w *world) write(spec fileSpec) {
	now := w.now()
	f := &file{spec: spec, mtime: now.Truncate(time.Second)}
	w.files[spec.name] = f
	w.logf("written", "file", spec.name, "players", w.s.playersAt(now), "notifier", w.notifierUp(now), "ssh", w.sshUp(now))
	w.order = append(w.order, f)
	w.folderMtime = f.mtime
	if w.notifierUp(now) {
		// The notifier fires once the size has settled.
		at := now.Add(notifierSettle).Add(w.s.delay(spec.name, "notify", w.sends[spec.name], 100, 500))
		w.q.at(at, func() { w.notify(spec.name) })
	}
}

// notify is the notifier posting the webhook message for name.
func (w *world) notify(name string) {
	now := w.now()
	if !w.notifierUp(now) || w.notified[name] {
		return
	}
	w.notified[name] = true
	w.sends[name]++
	f := w.files[name]
	lost := f.spec.pushLost || inAny(w.s.faults.discordLoss, now)
	if w.s.flapLoss > 0 && draw(w.s.seed, w.s.scenario, "flap", name, strconv.Itoa(w.sends[name])) < w.s.flapLoss {
		lost = true
	}
	if lost {
		w.logf("webhook lost", "file", name)
		return
	}
	w.q.at(now.Add(w.s.delay(name, "discord", w.sends[name], 200, 1500)), func() {
		if w.bot != nil {
			w.bot.webhook(name)
		}
	})
}

// notifierRestart is the notifier starting again: it rescans the folder for
// files not yet notified within its lookback, then watches.
func (w *world) notifierRestart() {
	now := w.now()
	if !w.notifierUp(now) {
		return
	}
	at := now
	for _, f := range w.order {
		if w.notified[f.spec.name] || now.Sub(f.spec.written) > notifierLookback {
			continue
		}
		name := f.spec.name
		at = at.Add(notifierPace)
		w.q.at(at, func() { w.notify(name) })
	}
}

// botStop kills the bot process: in-memory state is gone, claims stay in the
// database until their lease expires.
func (w *world) botStop() {
	if w.bot == nil {
		return
	}
	w.logf("bot down")
	w.bot = nil
}

// botStart starts a bot process: a new machine (restored from the last
// snapshot, so it starts ON), a new connection, the tick loop.
func (w *world) botStart() {
	m, err := failover.NewMachine(w.mcfg, w.clk)
	if err != nil {
		w.err = err
		return
	}
	if w.snap != nil {
		if err := m.Restore(w.snap); err != nil {
			w.err = err
			return
		}
	}
	w.bot = newBot(w, m)
	w.logf("bot up", "incarnation", w.starts)
	w.bot.start()
}

// result takes a machine result: counts failovers, keeps a snapshot as a
// bot persists it on every transition.
func (w *world) result(b *bot, r failover.Result) {
	for _, t := range r.Transitions {
		w.logf("transition", "from", t.From, "to", t.To, "reason", t.Reason)
		if t.From == failover.PollingOff && t.To == failover.PollingOn {
			w.failovers++
		}
	}
	for _, a := range r.Alerts {
		w.logf("alert", "kind", a.Kind, "reason", a.Reason)
	}
	if len(r.Transitions) > 0 {
		snap, err := b.m.Snapshot()
		if err != nil {
			w.err = err
			return
		}
		w.snap = snap
	}
}

// tryClaim takes the lease on name for incarnation owner; webhook says the
// event came from the webhook, which the first event records. It returns
// claimed, or done when the file is imported, or busy with the lease's end.
func (w *world) tryClaim(name string, owner int, webhook bool) (st claimState, until time.Time) {
	now := w.now()
	c := w.track[name]
	if c == nil {
		c = &claim{pushed: webhook}
		w.track[name] = c
	}
	switch {
	case c.done:
		return claimDone, time.Time{}
	case c.owner != 0 && now.Before(c.until):
		return claimBusy, c.until
	}
	c.owner, c.until = owner, now.Add(claimLease)
	return claimOK, time.Time{}
}

type claimState uint8

const (
	claimOK claimState = iota
	claimDone
	claimBusy
)

func (w *world) release(name string, owner int) {
	if c := w.track[name]; c != nil && c.owner == owner && !c.done {
		c.owner, c.until = 0, time.Time{}
	}
}

// commit marks name imported in the same transaction as the import, for
// the holder of a live lease only; otherwise it refuses (false) and nothing
// is imported.
func (w *world) commit(name string, owner int) bool {
	c := w.track[name]
	if c == nil || c.done || c.owner != owner || !w.now().Before(c.until) {
		return false // lease lost: the tracker refuses the mark, the transaction rolls back
	}
	c.done, c.owner, c.until = true, 0, time.Time{}
	f := w.files[name]
	f.imports++
	if f.done.IsZero() {
		f.done = w.now()
	}
	w.logf("imported", "file", name, "latency", f.done.Sub(f.spec.written).Round(100*time.Millisecond), "corrupt", f.spec.corrupt)
	return true
}

func (w *world) isDone(name string) bool {
	c := w.track[name]
	return c != nil && c.done
}

// row computes the table row.
func (w *world) row() Row {
	r := Row{Policy: w.pol.Name, Scenario: w.sc.Name, Files: len(w.s.files), Failovers: w.failovers}
	var lat []time.Duration
	for _, f := range w.order {
		if f.imports == 0 {
			r.Lost++
			continue
		}
		r.Duplicates += f.imports - 1
		lat = append(lat, f.done.Sub(f.spec.written))
	}
	r.Lost += len(w.s.files) - len(w.order) // never written: cannot happen, but never hide it
	r.latencyStats(lat)
	active := w.activeTime()
	r.HandshakesPerActiveHour = perHour(w.handshakes, active)
	r.DiscoveryPerActiveHour = perHour(w.discovery, active)
	return r
}

// latencies returns the write-to-import time of every imported file.
func (w *world) latencies() []time.Duration {
	var lat []time.Duration
	for _, f := range w.order {
		if f.imports > 0 {
			lat = append(lat, f.done.Sub(f.spec.written))
		}
	}
	return lat
}

// activeTime is how long at least activePlayers were in voice.
func (w *world) activeTime() time.Duration {
	var d time.Duration
	ps := w.s.players
	for i, p := range ps {
		if p.n < activePlayers {
			continue
		}
		end := w.s.end
		if i+1 < len(ps) {
			end = ps[i+1].at
		}
		d += end.Sub(p.at)
	}
	return d
}
