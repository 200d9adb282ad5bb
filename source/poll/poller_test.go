package poll_test

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/internal/testutil"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source/poll"
)

// rig is a poller on a fake folder, run inside a synctest bubble: the
// bubble's clock starts at 2000-01-01 00:00:00 UTC and only moves when every
// goroutine is blocked, so time.Sleep below advances virtual time.
type rig struct {
	t       *testing.T
	dir     *folder
	rec     *recorder
	guard   *poll.Guard
	p       *poll.Poller
	players atomic.Int64
	logs    *testutil.SyncBuffer
	cancel  context.CancelFunc
	done    chan error
}

// noDeadHours is the default schedule in UTC without dead hours.
func noDeadHours() failover.ScheduleConfig {
	c := failover.DefaultScheduleConfig()
	c.Zone, c.DeadFrom, c.DeadUntil = "UTC", 0, 0
	return c
}

func newRig(t *testing.T, sc failover.ScheduleConfig, mc failover.Config, old ...string) *rig {
	t.Helper()
	r := &rig{t: t, dir: newFolder(), rec: &recorder{}, logs: &testutil.SyncBuffer{}, done: make(chan error, 1)}
	for _, n := range old {
		r.dir.add(t, n)
	}
	m, err := failover.NewMachine(mc, poll.SystemClock())
	if err != nil {
		t.Fatal(err)
	}
	s, err := failover.NewSchedule(sc)
	if err != nil {
		t.Fatal(err)
	}
	r.guard = poll.NewGuard(m, r.rec.onResult)
	r.p, err = poll.New(poll.Config{
		Server: "main", Schedule: s, Guard: r.guard, Lister: r.dir, Prober: r.dir, Emit: r.rec.emit,
		Players: func() int { return int(r.players.Load()) },
		Logger:  slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{ReplaceAttr: dropTime})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.p.Run(ctx) }()
	synctest.Wait()
	return r
}

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

func (r *rig) stop() {
	r.t.Helper()
	r.cancel()
	if err := <-r.done; !errors.Is(err, context.Canceled) {
		r.t.Errorf("Run returned %v, want context.Canceled", err)
	}
}

// sleep advances virtual time and lets the poller settle.
func (r *rig) sleep(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// push is the webhook path: the file appears, push reports it, the import
// succeeds.
func (r *rig) push(name string) {
	n := r.dir.add(r.t, name)
	r.p.Seen(n.Raw)
	k := failover.KindStats
	if n.Kind == parser.KindEndstats {
		k = failover.KindEndstats
	}
	r.guard.Record(r.guard.Generation(), k, failover.Success, "")
	synctest.Wait()
}

func (r *rig) check(wantEvents, wantResults []string) {
	r.t.Helper()
	ev, res := r.rec.snapshot()
	if !reflect.DeepEqual(ev, wantEvents) {
		r.t.Errorf("events:\n%s\nwant:\n%s", strings.Join(ev, "\n"), strings.Join(wantEvents, "\n"))
	}
	if !reflect.DeepEqual(res, wantResults) {
		r.t.Errorf("machine results:\n%s\nwant:\n%s", strings.Join(res, "\n"), strings.Join(wantResults, "\n"))
	}
}

const (
	r1 = "2026-11-28-210501-supply-round-1.txt"
	r2 = "2026-11-28-212003-supply-round-2.txt"
	e2 = "2026-11-28-212003-supply-round-2-endstats.txt"
	r3 = "2026-11-28-213502-goldrush-round-1.txt"
	r4 = "2026-11-28-215011-goldrush-round-2.txt"
)

// Normal night: polling starts on, the first listing emits what is already
// there; two pushed rounds turn polling off; then, while push delivers a
// round every 12 minutes, only probes (60 s) and the anti-entropy listing
// (30 min) touch the server (plus one listing per changed folder), and
// pushed files are not emitted again.
func TestPollerNormalOperation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, noDeadHours(), failover.DefaultConfig(), r1)
		r.players.Store(8)
		if l, p := r.dir.counts(); l != 1 || p != 0 {
			t.Fatalf("after start: %d lists %d probes, want 1 and 0", l, p)
		}
		r.sleep(5 * time.Minute) // active: a poll every minute
		if l, _ := r.dir.counts(); l != 6 {
			t.Errorf("after 5 min active: %d lists, want 6", l)
		}
		r.push(r2)
		r.sleep(12 * time.Minute)
		r.push(r3) // second push success at 00:17: polling off
		l0, p0 := r.dir.counts()
		r.sleep(12 * time.Minute)
		r.push(r4)
		r.sleep(12 * time.Minute)
		r.push(e2)
		r.sleep(12 * time.Minute)
		l1, p1 := r.dir.counts()
		// One anti-entropy listing, and one listing for each of the two
		// files written meanwhile (the probe sees the folder change; the
		// listing shows push already reported them).
		if l1-l0 != 3 {
			t.Errorf("36 min with polling off: %d listings, want 3", l1-l0)
		}
		if p1-p0 != 36 {
			t.Errorf("36 min with polling off: %d probes, want 36", p1-p0)
		}
		r.check([]string{"00:00:00 poll " + r1},
			[]string{"00:17:00 polling on -> off: push healthy: 2 consecutive stats successes"})
		if s := r.guard.Status(); s.Mode != failover.PollingOff || s.Failures != 0 || s.Successes != 4 {
			t.Errorf("status %+v", s)
		}
		r.stop()
	})
}

// Silent push death: a file appears and push says nothing. The next probe
// finds the change, the listing emits the file, and after the 30 s grace the
// poller records a "missed" failure: polling is back within probe interval +
// grace, long before the 15 min heartbeat.
func TestPollerMissedFileFailsOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, noDeadHours(), failover.DefaultConfig())
		r.players.Store(7)
		r.push(r1)
		r.push(r2) // polling off at 00:00:00; probes at every whole minute
		r.sleep(10*time.Minute + 15*time.Second)
		r.dir.add(t, r3) // 00:10:15, push is dead
		r.sleep(2 * time.Minute)
		r.check([]string{"00:11:00 probe " + r3}, []string{
			"00:00:00 polling on -> off: push healthy: 2 consecutive stats successes",
			"00:11:30 polling off -> on: push failure: stats missed",
			"00:11:30 alert failover: push failure: stats missed",
		})
		// Polling is on again: active, one listing a minute.
		l0, _ := r.dir.counts()
		r.sleep(5 * time.Minute)
		if l1, _ := r.dir.counts(); l1-l0 != 5 {
			t.Errorf("polling back on: %d listings in 5 min, want 5", l1-l0)
		}
		if !strings.Contains(r.logs.String(), `msg="poll: push missed a file" server=main file=`+r3) {
			t.Errorf("no log line for the missed file:\n%s", r.logs.String())
		}
		r.stop()
	})
}

// Push reports a file after the listing found it but within the grace: no
// failure. A file push reported before the listing is not emitted again.
func TestPollerPushWithinGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, noDeadHours(), failover.DefaultConfig())
		r.push(r1)
		r.push(r2)
		r.sleep(59 * time.Second)
		r.dir.add(t, r3) // 00:00:59; the probe at 00:01:00 lists it
		r.sleep(21 * time.Second)
		r.p.Seen(r3) // 00:01:20, 21 s after it was written
		r.guard.Record(0, failover.KindStats, failover.Success, "")
		r.sleep(4 * time.Minute)
		r.push(e2)
		r.sleep(4 * time.Minute)
		r.check([]string{"00:01:00 probe " + r3},
			[]string{"00:00:00 polling on -> off: push healthy: 2 consecutive stats successes"})
		r.stop()
	})
}

// A failed listing is retried after RetryDelay; a failed probe at the next
// probe. An outage is logged once when it starts and once when it ends, not
// at every retry.
func TestPollerErrorsRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, noDeadHours(), failover.DefaultConfig()) // first listing at 00:00 succeeds (empty)
		r.dir.setErrs(errDown, errDown)
		r.dir.add(t, r1)
		// Polling is on, idle: probes between the 10-minute polls fail from
		// 00:01; the poll at 00:10 fails, its retry at 00:10:30 too.
		r.sleep(10 * time.Minute)
		if s := r.p.Stats(); s.Probes != 9 || s.ProbeErrors != 9 {
			t.Errorf("probes while on and idle: %+v, want 9 failed", s)
		}
		r.sleep(59 * time.Second)
		r.check(nil, nil)
		r.dir.setErrs(nil, nil)
		r.sleep(time.Second) // retry at 00:11:00 succeeds
		r.check([]string{"00:11:00 poll " + r1}, nil)
		r.sleep(30 * time.Second) // r1's grace ends: a miss, while on (counts reset only)
		if s := r.p.Stats(); s.Listings != 4 || s.ListErrors != 2 || s.Emitted != 1 || s.Missed != 1 || s.Pending != 0 {
			t.Errorf("stats after the listing outage: %+v", s)
		}
		// Probe errors while off: the listing at 00:11 moved the probes to
		// whole minutes; 00:12 to 00:14 fail, 00:15 is ok. Probes have
		// failed since 00:01 without a good one in between: one outage, one
		// pair of log lines.
		r.push(r2)
		r.push(r3)
		s0 := r.p.Stats()
		r.dir.setErrs(nil, errDown)
		r.sleep(3 * time.Minute)
		r.dir.setErrs(nil, nil)
		r.sleep(time.Minute)
		if s := r.p.Stats(); s.Probes-s0.Probes != 4 || s.ProbeErrors-s0.ProbeErrors != 3 || s.LastProbe.Format("15:04:05") != "00:15:00" {
			t.Errorf("stats after the probe outage: %+v (before: %+v)", s, s0)
		}
		want := `level=WARN msg="poll: probe failed" server=main err="connection lost"
level=WARN msg="poll: listing failed" server=main via=poll retry_in=30s err="connection lost"
level=INFO msg="poll: listing recovered" server=main via=poll
level=WARN msg="poll: push missed a file" server=main file=` + r1 + ` kind=stats grace=30s
level=INFO msg="poll: probe recovered" server=main
`
		if got := r.logs.String(); got != want {
			t.Errorf("logs:\n%s\nwant:\n%s", got, want)
		}
		r.stop()
	})
}

// The poller ticks the machine at least every TickInterval, so the heartbeat
// fires on time with probes disabled and nothing else due.
func TestPollerHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := noDeadHours()
		sc.ProbeInterval = 0
		r := newRig(t, sc, failover.DefaultConfig())
		r.push(r1)
		r.push(r2)
		r.sleep(10 * time.Minute)
		r.players.Store(5) // noticed at the 00:11 tick
		r.sleep(30 * time.Minute)
		r.check(nil, []string{
			"00:00:00 polling on -> off: push healthy: 2 consecutive stats successes",
			"00:26:00 polling off -> on: heartbeat: no push success for 15m0s with 5 players in voice",
			"00:26:00 alert heartbeat: heartbeat: no push success for 15m0s with 5 players in voice",
		})
		r.stop()
	})
}

// Dead hours: nothing touches the server from 02:00 to 11:00; at 11:00 the
// catch-up listing finds the file written at 03:00 that push never reported.
func TestPollerDeadHours(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := failover.DefaultScheduleConfig()
		sc.Zone = "UTC"
		r := newRig(t, sc, failover.DefaultConfig())
		r.push(r1)
		r.push(r2)
		r.sleep(2 * time.Hour)
		l0, p0 := r.dir.counts()
		r.sleep(time.Hour)
		r.dir.add(t, r3) // 03:00
		r.sleep(8*time.Hour - time.Second)
		if l, p := r.dir.counts(); l != l0 || p != p0 {
			t.Errorf("dead hours: %d listings and %d probes, want none", l-l0, p-p0)
		}
		r.sleep(time.Minute)
		r.check([]string{"11:00:00 probe " + r3}, []string{
			"00:00:00 polling on -> off: push healthy: 2 consecutive stats successes",
			"11:00:30 polling off -> on: push failure: stats missed",
			"11:00:30 alert failover: push failure: stats missed",
		})
		r.stop()
	})
}

// The ladder: with polling off, polls continue at the ladder's interval
// (heartbeat off so that the quiet test night does not turn polling on).
func TestPollerLadder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := noDeadHours()
		sc.ProbeInterval, sc.AntiEntropyInterval = 0, 0
		mc := failover.DefaultConfig()
		mc.HeartbeatTimeout = 0
		mc.Ladder = []failover.LadderStep{{After: 2, Interval: 5 * time.Minute}, {After: 4, Interval: 15 * time.Minute}}
		r := newRig(t, sc, mc)
		r.players.Store(8)
		r.push(r1)
		r.push(r2)
		l0, _ := r.dir.counts()
		r.sleep(30 * time.Minute)
		l1, _ := r.dir.counts()
		r.push(r3)
		r.push(r4)
		r.sleep(60 * time.Minute)
		l2, _ := r.dir.counts()
		if l1-l0 != 6 || l2-l1 != 4 {
			t.Errorf("ladder listings: %d in 30 min at rung 1 (want 6), %d in 60 min at rung 2 (want 4)", l1-l0, l2-l1)
		}
		r.stop()
	})
}

func TestConfigValidate(t *testing.T) {
	err := poll.Config{MissedGrace: -1, RetryDelay: -time.Second}.Validate()
	if err == nil {
		t.Fatal("empty config accepted")
	}
	for _, w := range []string{"Schedule is nil", "Guard is nil", "Lister is nil", "Emit is nil", "MissedGrace -1ns", "RetryDelay -1s"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	if _, err := poll.New(poll.Config{}); err == nil {
		t.Error("New accepted an empty config")
	}
}

// Without a Prober, polling off relies on the anti-entropy listing; a
// listing that fails just before the dead hours is not retried inside them
// (the catch-up listing at 11:00 replaces the retry).
func TestPollerNoProberAndDeadRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := failover.DefaultScheduleConfig()
		sc.Zone = "UTC"
		m, err := failover.NewMachine(failover.DefaultConfig(), poll.SystemClock())
		if err != nil {
			t.Fatal(err)
		}
		s, err := failover.NewSchedule(sc)
		if err != nil {
			t.Fatal(err)
		}
		dir, rec := newFolder(), &recorder{}
		g := poll.NewGuard(m, rec.onResult)
		p, err := poll.New(poll.Config{Schedule: s, Guard: g, Lister: dir, Emit: rec.emit})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		synctest.Wait()
		g.Record(0, failover.KindStats, failover.Success, "")
		g.Record(0, failover.KindStats, failover.Success, "") // off at 00:00
		time.Sleep(time.Hour + 29*time.Minute + 59*time.Second)
		synctest.Wait()
		if st := p.Stats(); st.Listings != 3 || st.Probes != 0 { // 00:00, 00:30, 01:00
			t.Errorf("before the outage: %+v", st)
		}
		dir.setErrs(errDown, nil) // from 01:30 to 11:00
		time.Sleep(30*time.Minute + time.Second)
		synctest.Wait()
		if st := p.Stats(); st.Listings != 63 || st.ListErrors != 60 { // 01:30, then every 30 s until 01:59:30
			t.Errorf("up to the dead hours: %+v", st)
		}
		time.Sleep(9*time.Hour - 2*time.Second)
		synctest.Wait()
		if st := p.Stats(); st.Listings != 63 {
			t.Errorf("in the dead hours: %d listings, want none", st.Listings-63)
		}
		dir.setErrs(nil, nil)
		dir.add(t, r1)
		time.Sleep(2 * time.Second) // 11:00:01
		synctest.Wait()
		ev, _ := rec.snapshot()
		if st := p.Stats(); st.Listings != 64 || !reflect.DeepEqual(ev, []string{"11:00:00 probe " + r1}) {
			t.Errorf("after the dead hours: %+v, events %v", st, ev)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
	})
}

// Polling on in the idle phase polls every 10 minutes; change probes run
// every minute in between, so a file push does not report is listed within
// a minute, as it would be with polling off. In the grace and active phases
// (a poll every minute) there are no probes.
func TestPollerProbesWhileOnAndIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, noDeadHours(), failover.DefaultConfig()) // 00:00: listing, polling on
		r.players.Store(3)
		r.sleep(3*time.Minute + 10*time.Second)
		if s := r.p.Stats(); s.Listings != 2 || s.Probes != 3 {
			// The first probe always reports a change: one more listing.
			t.Errorf("idle, polling on, 00:03:10: %+v; want the first listing, a probe a minute, and the first probe's listing", s)
		}
		r.dir.add(t, r1) // 00:03:10, push lost it
		r.sleep(time.Minute)
		r.check([]string{"00:04:00 probe " + r1}, nil)
		// The file starts the grace phase: a poll every minute, no probes.
		r.sleep(6 * time.Minute)
		if s := r.p.Stats(); s.Probes != 4 || s.Missed != 1 || s.LastPoll.Format("15:04:05") != "00:10:00" {
			t.Errorf("grace, polling on: %+v; want polls every minute and no probes after 00:04", s)
		}
		// Grace ends at 00:33:10: idle again, probes every minute.
		r.sleep(30 * time.Minute) // 00:40
		if s := r.p.Stats(); s.Probes < 4+6 || s.LastPoll.Before(s.LastProbe.Add(-10*time.Minute)) {
			t.Errorf("idle again, polling on: %+v; want the probes back", s)
		}
		r.players.Store(8) // noticed at the next step: active, a poll every minute
		r.sleep(time.Minute)
		s0 := r.p.Stats()
		r.sleep(10 * time.Minute)
		if s := r.p.Stats(); s.Probes != s0.Probes || s.Listings-s0.Listings != 10 {
			t.Errorf("active, polling on: %d probes and %d listings in 10 min, want 0 and 10",
				s.Probes-s0.Probes, s.Listings-s0.Listings)
		}
		if m := r.guard.Mode(); m != failover.PollingOn {
			t.Errorf("mode %s, want on", m)
		}
		r.stop()
	})
}

// After the last round players stay in voice. Push is silent because no file
// is written, and each probe that sees no change is a quiet folder check:
// the heartbeat does not fire (HeartbeatQuietOK, the default). When the
// probes start failing, nothing proves the folder quiet any more, and the
// heartbeat fires 15 minutes after the last good probe.
func TestPollerQuietFolderHoldsHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, noDeadHours(), failover.DefaultConfig())
		r.players.Store(7)
		r.push(r1)
		r.push(r2) // polling off at 00:00
		r.sleep(40 * time.Minute)
		if s := r.guard.Status(); s.Mode != failover.PollingOff || s.LastQuiet.Format("15:04:05") != "00:40:00" {
			t.Fatalf("40 min of silence in voice with quiet probes: mode %s, last quiet %s", s.Mode, s.LastQuiet.Format("15:04:05"))
		}
		r.dir.setErrs(errDown, errDown) // from 00:40: probes and listings fail
		r.sleep(16 * time.Minute)
		r.check(nil, []string{
			"00:00:00 polling on -> off: push healthy: 2 consecutive stats successes",
			"00:55:00 polling off -> on: heartbeat: no push success and no quiet folder check for 15m0s with 7 players in voice",
			"00:55:00 alert heartbeat: heartbeat: no push success and no quiet folder check for 15m0s with 7 players in voice",
		})
		r.stop()
	})
}

// A listing that finds a file push has not reported is not quiet while the
// file waits within the grace; once push reports it, probes are quiet again.
func TestPollerNotQuietWhileWaitingForPush(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, noDeadHours(), failover.DefaultConfig())
		r.push(r1)
		r.push(r2) // off at 00:00
		r.sleep(59 * time.Second)
		r.dir.add(t, r3) // 00:00:59: the probe at 00:01 lists it, push has not reported it yet
		r.sleep(time.Second)
		if q := r.guard.Status().LastQuiet; q.Format("15:04:05") != "00:00:00" {
			t.Errorf("last quiet %s, want 00:00:00 (the listing at 00:01 found a file push had not reported)", q.Format("15:04:05"))
		}
		r.sleep(20 * time.Second)
		r.p.Seen(r3) // 00:01:20, within the grace
		r.guard.Record(0, failover.KindStats, failover.Success, "")
		r.sleep(40 * time.Second) // the probe at 00:02 sees no change
		if q := r.guard.Status().LastQuiet; q.Format("15:04:05") != "00:02:00" {
			t.Errorf("last quiet %s, want 00:02:00", q.Format("15:04:05"))
		}
		r.stop()
	})
}
