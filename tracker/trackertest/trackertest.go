// Package trackertest is the conformance suite of tracker.Tracker: every
// implementation (the in-memory one, the SQL one over SQLite, a future
// PostgreSQL backend) must pass Run.
package trackertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/tracker"
)

// Clock is a virtual clock for tests: Now returns the current virtual time,
// Advance moves it. Safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the virtual time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Factory returns a fresh, empty tracker built with cfg (whose Now is the
// suite's virtual clock). It may register cleanups on t.
type Factory func(t *testing.T, cfg tracker.Config) tracker.Tracker

// Epoch is where the suite's clock starts: a whole second, so that
// implementations storing milliseconds compare equal.
var Epoch = time.Date(2026, 1, 15, 22, 0, 0, 0, time.UTC)

type env struct {
	tr    tracker.Tracker
	clock *Clock
	cfg   tracker.Config
	ctx   context.Context
}

func setup(t *testing.T, f Factory) *env {
	t.Helper()
	c := NewClock(Epoch)
	cfg := tracker.DefaultConfig()
	cfg.MaxAttempts = 3
	cfg.Now = c.Now
	return &env{tr: f(t, cfg), clock: c, cfg: cfg, ctx: context.Background()}
}

func (e *env) claim(t *testing.T, server, name string) tracker.Claim {
	t.Helper()
	c, err := e.tr.Claim(e.ctx, tracker.Request{Server: server, Name: name, Via: "poll"})
	if err != nil {
		t.Fatalf("claim %s/%s: %v", server, name, err)
	}
	return c
}

func (e *env) wantClaimErr(t *testing.T, r tracker.Request, want error) *tracker.ClaimError {
	t.Helper()
	_, err := e.tr.Claim(e.ctx, r)
	if !errors.Is(err, want) {
		t.Fatalf("claim %s/%s: got %v, want %v", r.Server, r.Name, err, want)
	}
	var ce *tracker.ClaimError
	if !errors.As(err, &ce) {
		t.Fatalf("claim %s/%s: %T is not a *tracker.ClaimError", r.Server, r.Name, err)
	}
	return ce
}

func (e *env) get(t *testing.T, server, name string) tracker.Record {
	t.Helper()
	r, err := e.tr.Get(e.ctx, server, name)
	if err != nil {
		t.Fatalf("get %s/%s: %v", server, name, err)
	}
	return r
}

const (
	srv  = "main"
	file = "2026-01-15-222119-te_escape2-round-1.txt"
)

// Run runs the conformance suite against trackers made by f.
func Run(t *testing.T, f Factory) {
	tests := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"ClaimThenTaken", testClaimThenTaken},
		{"MarkDoneIsFinal", testMarkDoneIsFinal},
		{"LeaseExpiry", testLeaseExpiry},
		{"ExpiredButUntakenClaimStillCurrent", testExpiredUntaken},
		{"FailRetryQuarantine", testFailRetryQuarantine},
		{"QuarantineAtOnce", testQuarantineAtOnce},
		{"Release", testRelease},
		{"Postpone", testPostpone},
		{"Age", testAge},
		{"ViaFirstSeen", testViaFirstSeen},
		{"ListAndCounts", testListAndCounts},
		{"Invalid", testInvalid},
		{"ConcurrentClaims", testConcurrentClaims},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, setup(t, f))
		})
	}
}

func testClaimThenTaken(t *testing.T, e *env) {
	c := e.claim(t, srv, file)
	if c.Token == "" || c.Attempts != 0 || !c.LeaseUntil.Equal(Epoch.Add(e.cfg.Lease)) {
		t.Fatalf("claim = %+v, want a token, 0 attempts, lease until %v", c, Epoch.Add(e.cfg.Lease))
	}
	ce := e.wantClaimErr(t, tracker.Request{Server: srv, Name: file, Via: "webhook"}, tracker.ErrTaken)
	if !ce.Until.Equal(c.LeaseUntil) {
		t.Errorf("taken until %v, want %v", ce.Until, c.LeaseUntil)
	}
	// Same name on another server is another file.
	e.claim(t, "other", file)
	r := e.get(t, srv, file)
	if r.State != tracker.StateClaimed || !r.FirstSeen.Equal(Epoch) || r.Via != "poll" {
		t.Errorf("record = %+v, want claimed, first seen %v, via poll", r, Epoch)
	}
}

func testMarkDoneIsFinal(t *testing.T, e *env) {
	c := e.claim(t, srv, file)
	e.clock.Advance(time.Second)
	d := tracker.Digest{SHA256: "ab12", Size: 1234}
	if err := e.tr.MarkDone(e.ctx, nil, c, d); err != nil {
		t.Fatalf("mark done: %v", err)
	}
	if err := e.tr.MarkDone(e.ctx, nil, c, d); !errors.Is(err, tracker.ErrLeaseLost) {
		t.Errorf("second mark done: got %v, want ErrLeaseLost", err)
	}
	if _, err := e.tr.Fail(e.ctx, c, "late", Epoch); !errors.Is(err, tracker.ErrLeaseLost) {
		t.Errorf("fail after done: got %v, want ErrLeaseLost", err)
	}
	if err := e.tr.Release(e.ctx, c, time.Time{}); !errors.Is(err, tracker.ErrLeaseLost) {
		t.Errorf("release after done: got %v, want ErrLeaseLost", err)
	}
	for _, force := range []bool{false, true} {
		e.wantClaimErr(t, tracker.Request{Server: srv, Name: file, Force: force}, tracker.ErrDone)
	}
	e.clock.Advance(24 * time.Hour)
	e.wantClaimErr(t, tracker.Request{Server: srv, Name: file}, tracker.ErrDone)
	r := e.get(t, srv, file)
	if r.State != tracker.StateDone || r.SHA256 != d.SHA256 || r.Size != d.Size || !r.DoneAt.Equal(Epoch.Add(time.Second)) {
		t.Errorf("record = %+v, want done with digest %+v at %v", r, d, Epoch.Add(time.Second))
	}
}

func testLeaseExpiry(t *testing.T, e *env) {
	old := e.claim(t, srv, file)
	e.clock.Advance(e.cfg.Lease - time.Second)
	e.wantClaimErr(t, tracker.Request{Server: srv, Name: file}, tracker.ErrTaken)
	e.clock.Advance(time.Second)
	c := e.claim(t, srv, file)
	if c.Token == old.Token {
		t.Fatal("reclaim returned the stale token")
	}
	if err := e.tr.MarkDone(e.ctx, nil, old, tracker.Digest{}); !errors.Is(err, tracker.ErrLeaseLost) {
		t.Errorf("stale mark done: got %v, want ErrLeaseLost", err)
	}
	if err := e.tr.Release(e.ctx, old, time.Time{}); !errors.Is(err, tracker.ErrLeaseLost) {
		t.Errorf("stale release: got %v, want ErrLeaseLost", err)
	}
	if err := e.tr.MarkDone(e.ctx, nil, c, tracker.Digest{}); err != nil {
		t.Errorf("current mark done: %v", err)
	}
}

func testExpiredUntaken(t *testing.T, e *env) {
	c := e.claim(t, srv, file)
	e.clock.Advance(10 * e.cfg.Lease)
	if err := e.tr.MarkDone(e.ctx, nil, c, tracker.Digest{}); err != nil {
		t.Errorf("mark done with an expired lease nobody took: %v", err)
	}
}

func testFailRetryQuarantine(t *testing.T, e *env) {
	for i := 1; i <= e.cfg.MaxAttempts; i++ {
		c := e.claim(t, srv, file)
		if c.Attempts != i-1 {
			t.Fatalf("attempt %d: claim says %d attempts", i, c.Attempts)
		}
		retry := e.clock.Now().Add(time.Minute)
		st, err := e.tr.Fail(e.ctx, c, fmt.Sprintf("parse: line %d", i), retry)
		if err != nil {
			t.Fatalf("fail %d: %v", i, err)
		}
		r := e.get(t, srv, file)
		if r.Attempts != i || r.LastError != fmt.Sprintf("parse: line %d", i) {
			t.Errorf("after fail %d: record = %+v", i, r)
		}
		if i < e.cfg.MaxAttempts {
			if st != tracker.StateFailed || r.State != tracker.StateFailed || !r.RetryAt.Equal(retry) {
				t.Fatalf("fail %d: state %s, record %+v, want failed until %v", i, st, r, retry)
			}
			ce := e.wantClaimErr(t, tracker.Request{Server: srv, Name: file}, tracker.ErrNotDue)
			if !ce.Until.Equal(retry) {
				t.Errorf("not due until %v, want %v", ce.Until, retry)
			}
			e.clock.Advance(time.Minute)
			continue
		}
		if st != tracker.StateQuarantined || r.State != tracker.StateQuarantined {
			t.Fatalf("fail %d: state %s, record %+v, want quarantined", i, st, r)
		}
	}
	e.clock.Advance(time.Hour)
	e.wantClaimErr(t, tracker.Request{Server: srv, Name: file}, tracker.ErrQuarantined)
	c, err := e.tr.Claim(e.ctx, tracker.Request{Server: srv, Name: file, Force: true})
	if err != nil {
		t.Fatalf("forced claim of a quarantined file: %v", err)
	}
	if c.Attempts != 0 {
		t.Errorf("forced claim: %d attempts, want reset to 0", c.Attempts)
	}
}

func testQuarantineAtOnce(t *testing.T, e *env) {
	c := e.claim(t, srv, file)
	if err := e.tr.Quarantine(e.ctx, c, "file over the size limit"); err != nil {
		t.Fatal(err)
	}
	r := e.get(t, srv, file)
	if r.State != tracker.StateQuarantined || r.Attempts != 1 || r.LastError != "file over the size limit" {
		t.Errorf("record = %+v, want quarantined after 1 attempt", r)
	}
	if err := e.tr.Quarantine(e.ctx, c, "again"); !errors.Is(err, tracker.ErrLeaseLost) {
		t.Errorf("second quarantine: got %v, want ErrLeaseLost", err)
	}
}

func testRelease(t *testing.T, e *env) {
	c := e.claim(t, srv, file)
	if err := e.tr.Release(e.ctx, c, time.Time{}); err != nil {
		t.Fatal(err)
	}
	c = e.claim(t, srv, file) // at once
	retry := e.clock.Now().Add(2 * time.Minute)
	if err := e.tr.Release(e.ctx, c, retry); err != nil {
		t.Fatal(err)
	}
	r := e.get(t, srv, file)
	if r.State != tracker.StatePending || r.Attempts != 0 || !r.RetryAt.Equal(retry) {
		t.Errorf("record = %+v, want pending, 0 attempts, retry at %v", r, retry)
	}
	e.wantClaimErr(t, tracker.Request{Server: srv, Name: file}, tracker.ErrNotDue)
	if _, err := e.tr.Claim(e.ctx, tracker.Request{Server: srv, Name: file, Force: true}); err != nil {
		t.Errorf("forced claim of a pending file: %v", err)
	}
}

// testPostpone: a Postponer gives the claim up like Release, keeps the
// attempts, and records the reason.
func testPostpone(t *testing.T, e *env) {
	pp, ok := e.tr.(tracker.Postponer)
	if !ok {
		t.Skipf("%T does not implement tracker.Postponer (optional)", e.tr)
	}
	c := e.claim(t, srv, file)
	if _, err := e.tr.Fail(e.ctx, c, "parse: line 3", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	c = e.claim(t, srv, file)
	retry := e.clock.Now().Add(time.Minute)
	if err := pp.Postpone(e.ctx, c, "fetch: connection refused", retry); err != nil {
		t.Fatal(err)
	}
	r := e.get(t, srv, file)
	if r.State != tracker.StatePending || r.Attempts != 1 || !r.RetryAt.Equal(retry) || r.LastError != "fetch: connection refused" {
		t.Errorf("record = %+v, want pending, 1 attempt, retry at %v, the reason", r, retry)
	}
	if err := pp.Postpone(e.ctx, c, "again", retry); !errors.Is(err, tracker.ErrLeaseLost) {
		t.Errorf("second postpone: %v, want ErrLeaseLost", err)
	}
	e.wantClaimErr(t, tracker.Request{Server: srv, Name: file}, tracker.ErrNotDue)
	e.clock.Advance(time.Minute)
	if c := e.claim(t, srv, file); c.Attempts != 1 {
		t.Errorf("claim after the retry time: %d attempts, want 1", c.Attempts)
	}
}

func testAge(t *testing.T, e *env) {
	old := Epoch.Add(-e.cfg.Lookback - time.Second)
	e.wantClaimErr(t, tracker.Request{Server: srv, Name: "a", FileTime: old}, tracker.ErrTooOld)
	if _, err := e.tr.Get(e.ctx, srv, "a"); !errors.Is(err, tracker.ErrNotFound) {
		t.Errorf("a refused old file left a record: %v", err)
	}
	for _, r := range []tracker.Request{
		{Server: srv, Name: "b", FileTime: old, Force: true},
		{Server: srv, Name: "c", FileTime: Epoch.Add(-e.cfg.Lookback + time.Second)},
		{Server: srv, Name: "d"},
	} {
		if _, err := e.tr.Claim(e.ctx, r); err != nil {
			t.Errorf("claim %+v: %v", r, err)
		}
	}
}

func testViaFirstSeen(t *testing.T, e *env) {
	c, err := e.tr.Claim(e.ctx, tracker.Request{Server: srv, Name: file, Via: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.FirstSeen.Equal(Epoch) {
		t.Errorf("first claim: first seen %v, want %v", c.FirstSeen, Epoch)
	}
	if err := e.tr.Release(e.ctx, c, time.Time{}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	c, err = e.tr.Claim(e.ctx, tracker.Request{Server: srv, Name: file, Via: "poll"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.FirstSeen.Equal(Epoch) {
		t.Errorf("reclaim: first seen %v, want %v", c.FirstSeen, Epoch)
	}
	if c.Via != "webhook" || e.get(t, srv, file).Via != "webhook" {
		t.Errorf("via = %q, want the first sighting's %q", c.Via, "webhook")
	}
}

func testListAndCounts(t *testing.T, e *env) {
	for i := range 5 {
		c := e.claim(t, srv, fmt.Sprintf("f%d", i))
		e.clock.Advance(time.Second)
		if i < 3 {
			if err := e.tr.MarkDone(e.ctx, nil, c, tracker.Digest{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	done, err := e.tr.List(e.ctx, tracker.StateDone, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 3 || done[0].Name != "f2" || done[2].Name != "f0" {
		t.Errorf("list done = %v, want f2 f1 f0", names(done))
	}
	two, err := e.tr.List(e.ctx, tracker.StateDone, 2)
	if err != nil || len(two) != 2 {
		t.Errorf("list done limit 2 = %v, %v", names(two), err)
	}
	claimed, err := e.tr.List(e.ctx, tracker.StateClaimed, 0)
	if err != nil || len(claimed) != 2 {
		t.Errorf("list claimed = %v, %v", names(claimed), err)
	}
	if q, err := e.tr.List(e.ctx, tracker.StateQuarantined, 0); err != nil || len(q) != 0 {
		t.Errorf("list quarantined = %v, %v", names(q), err)
	}
	if cn, ok := e.tr.(tracker.Counter); ok {
		got, err := cn.Counts(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got[tracker.StateDone] != 3 || got[tracker.StateClaimed] != 2 || len(got) != 2 {
			t.Errorf("counts = %v, want done 3, claimed 2", got)
		}
	}
}

func names(rs []tracker.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func testInvalid(t *testing.T, e *env) {
	if _, err := e.tr.Claim(e.ctx, tracker.Request{Name: file}); !errors.Is(err, tracker.ErrInvalid) {
		t.Errorf("claim without server: %v", err)
	}
	if err := e.tr.MarkDone(e.ctx, nil, tracker.Claim{}, tracker.Digest{}); !errors.Is(err, tracker.ErrInvalid) {
		t.Errorf("mark done of a zero claim: %v", err)
	}
	if _, err := e.tr.List(e.ctx, "nonsense", 0); !errors.Is(err, tracker.ErrInvalid) {
		t.Errorf("list of a bad state: %v", err)
	}
	if _, err := e.tr.Get(e.ctx, srv, "missing"); !errors.Is(err, tracker.ErrNotFound) {
		t.Errorf("get missing: %v", err)
	}
}

func testConcurrentClaims(t *testing.T, e *env) {
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, refused := 0, 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := e.tr.Claim(e.ctx, tracker.Request{Server: srv, Name: file, Via: []string{"webhook", "poll", "probe"}[i%3]})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
				if err := e.tr.MarkDone(e.ctx, nil, c, tracker.Digest{}); err != nil {
					t.Errorf("winner's mark done: %v", err)
				}
			case errors.Is(err, tracker.ErrTaken), errors.Is(err, tracker.ErrDone):
				refused++
			default:
				t.Errorf("claim: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || refused != n-1 {
		t.Errorf("%d wins, %d refused; want 1 and %d", wins, refused, n-1)
	}
}

// SharedFactory returns n fresh trackers built with cfg over one empty
// database: n processes sharing it. It may register cleanups on t.
type SharedFactory func(t *testing.T, cfg tracker.Config, n int) []tracker.Tracker

// RunShared runs the suite for trackers that share a database between
// processes (the SQL tracker): claims race across instances, leases expire
// into another instance's hands, and no instance's memory says "taken" or
// "done" for what only the database knows.
func RunShared(t *testing.T, f SharedFactory) {
	tests := []struct {
		name string
		run  func(t *testing.T, trs []tracker.Tracker, c *Clock, cfg tracker.Config)
	}{
		{"RaceManyFiles", testSharedRace},
		{"LeaseTakeover", testSharedTakeover},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClock(Epoch)
			cfg := tracker.DefaultConfig()
			cfg.MaxAttempts = 3
			cfg.Now = c.Now
			tc.run(t, f(t, cfg, 3), c, cfg)
		})
	}
}

// testSharedRace: three instances, four workers each, claim the same 60
// files in different orders; every file is won exactly once.
func testSharedRace(t *testing.T, trs []tracker.Tracker, _ *Clock, _ tracker.Config) {
	const files = 60
	ctx := context.Background()
	var mu sync.Mutex
	wins := map[string]int{}
	var wg sync.WaitGroup
	for i, tr := range trs {
		for w := range 4 {
			wg.Go(func() {
				for k := range files {
					name := fmt.Sprintf("2026-01-15-22%02d%02d-map-round-1.txt", k/60, k%60)
					if (i+w)%2 == 1 {
						name = fmt.Sprintf("2026-01-15-22%02d%02d-map-round-1.txt", (files-1-k)/60, (files-1-k)%60)
					}
					c, err := tr.Claim(ctx, tracker.Request{Server: srv, Name: name, Via: "poll"})
					switch {
					case err == nil:
						if err := tr.MarkDone(ctx, nil, c, tracker.Digest{SHA256: "x", Size: 1}); err != nil {
							t.Errorf("instance %d: mark done %s: %v", i, name, err)
						}
						mu.Lock()
						wins[name]++
						mu.Unlock()
					case errors.Is(err, tracker.ErrTaken), errors.Is(err, tracker.ErrDone):
					default:
						t.Errorf("instance %d: claim %s: %v", i, name, err)
					}
				}
			})
		}
	}
	wg.Wait()
	if len(wins) != files {
		t.Errorf("%d files won, want %d", len(wins), files)
	}
	for name, n := range wins {
		if n != 1 {
			t.Errorf("%s won %d times", name, n)
		}
	}
	for i, tr := range trs {
		if c, ok := tr.(tracker.Counter); ok {
			if m, err := c.Counts(ctx); err != nil || m[tracker.StateDone] != files || len(m) != 1 {
				t.Errorf("instance %d counts %v, %v", i, m, err)
			}
		}
	}
}

// testSharedTakeover: an instance's expired claim is taken by another; the
// first instance's mark is refused, and it learns "done" from the database.
func testSharedTakeover(t *testing.T, trs []tracker.Tracker, clock *Clock, cfg tracker.Config) {
	ctx := context.Background()
	a, b := trs[0], trs[1]
	ca, err := a.Claim(ctx, tracker.Request{Server: srv, Name: file, Via: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Claim(ctx, tracker.Request{Server: srv, Name: file, Via: "poll"}); !errors.Is(err, tracker.ErrTaken) {
		t.Fatalf("b's claim of a's live claim: %v, want ErrTaken", err)
	}
	clock.Advance(cfg.Lease)
	cb, err := b.Claim(ctx, tracker.Request{Server: srv, Name: file, Via: "poll"})
	if err != nil {
		t.Fatalf("b's claim after a's lease expired: %v", err)
	}
	if cb.Via != "webhook" || !cb.FirstSeen.Equal(Epoch) {
		t.Errorf("b's claim %+v: want via and first-seen of a's", cb)
	}
	if err := a.MarkDone(ctx, nil, ca, tracker.Digest{}); !errors.Is(err, tracker.ErrLeaseLost) {
		t.Fatalf("a's stale mark: %v, want ErrLeaseLost", err)
	}
	if _, err := a.Claim(ctx, tracker.Request{Server: srv, Name: file}); !errors.Is(err, tracker.ErrTaken) {
		t.Errorf("a's claim of b's live claim: %v, want ErrTaken", err)
	}
	if err := b.MarkDone(ctx, nil, cb, tracker.Digest{SHA256: "y", Size: 2}); err != nil {
		t.Fatal(err)
	}
	for i, tr := range trs {
		if _, err := tr.Claim(ctx, tracker.Request{Server: srv, Name: file, Force: true}); !errors.Is(err, tracker.ErrDone) {
			t.Errorf("instance %d after b's mark: %v, want ErrDone", i, err)
		}
	}
}
