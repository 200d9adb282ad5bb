package sim

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/failover"
)

var update = flag.Bool("update", false, "rewrite testdata/table_seed1.golden")

// table runs the whole table once per (seed, nights) for the tests of this
// package.
func table(t *testing.T, seed uint64, nights int) map[string]Row {
	t.Helper()
	rows, err := Table(Policies(), Scenarios(), Options{Seed: seed, Nights: nights})
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]Row, len(rows))
	for _, r := range rows {
		m[r.Policy+"/"+r.Scenario] = r
	}
	return m
}

// checkRoundfeed checks the acceptance figures on the roundfeed rows
// of one run (all scenarios, one seed).
func checkRoundfeed(t *testing.T, rows map[string]Row, seed uint64, nights int) {
	t.Helper()
	for _, sc := range Scenarios() {
		r := rows[PolicyRoundfeed+"/"+sc.Name]
		if r.Files == 0 {
			t.Fatalf("seed %d, %d nights: %s: no files written", seed, nights, r)
		}
		if r.Lost != 0 || r.Duplicates != 0 {
			t.Errorf("seed %d, %d nights: %s: want lost = 0 and duplicates = 0", seed, nights, r)
		}
		switch sc.Name {
		case ScenarioDeadHours:
		case ScenarioSSHOutage:
			if limit := (10*time.Minute + 180*time.Second).Seconds(); r.LatencyMax > limit {
				t.Errorf("seed %d, %d nights: %s: max latency above the outage + 180 s (%.0f s)", seed, nights, r, limit)
			}
		default:
			if r.LatencyP99 > 180 {
				t.Errorf("seed %d, %d nights: %s: p99 latency above 180 s", seed, nights, r)
			}
		}
	}
	h := rows[PolicyRoundfeed+"/"+ScenarioHealthy]
	if h.HandshakesPerActiveHour > 1 || h.DiscoveryPerActiveHour > 150 {
		t.Errorf("seed %d, %d nights: %s: want <= 1 handshake and <= 150 discovery requests per active hour", seed, nights, h)
	}
	// Players chatting in voice after the last round are no heartbeat
	// failover: the probes prove the folder quiet.
	if h.Failovers != 0 {
		t.Errorf("seed %d, %d nights: %s: a healthy run should not fail over", seed, nights, h)
	}
	if c := rows[PolicyRoundfeed+"/"+ScenarioNotifierCrash]; c.LatencyMax > 180 {
		t.Errorf("seed %d, %d nights: %s: max latency above 180 s", seed, nights, c)
	}
}

// TestAcceptance checks the acceptance figures over three 3-night
// runs, with every policy: roundfeed meets them, and the proposal and
// today's "both" show their known weaknesses.
func TestAcceptance(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3} {
		rows := table(t, seed, 3)
		checkRoundfeed(t, rows, seed, 3)

		// The proposal reproduced faithfully: its weaknesses show.
		if c := rows[PolicyProposal+"/"+ScenarioNotifierCrash]; c.LatencyMax < 5*60 {
			t.Errorf("seed %d: %s: a silent notifier crash should wait for the 15-minute heartbeat", seed, c)
		}
		if f := rows[PolicyProposal+"/"+ScenarioFlapping]; f.LatencyMax < 15*60 {
			t.Errorf("seed %d: %s: with no probe, lost messages should wait long", seed, f)
		}
		if p := rows[PolicyProposal+"/"+ScenarioHealthy]; p.DiscoveryPerActiveHour != 0 && p.HandshakesPerActiveHour < 5 {
			t.Errorf("seed %d: %s: a connection per fetch should cost handshakes", seed, p)
		}
		// The design's heartbeat fires while players stay in voice after
		// the last round, on a healthy night.
		if p := rows[PolicyProposal+"/"+ScenarioHealthy]; p.Failovers == 0 {
			t.Errorf("seed %d: %s: the design's heartbeat should fire after the session", seed, p)
		}
		// Today's "both": a listing every 60 s on a new connection.
		if b := rows[PolicyBoth+"/"+ScenarioHealthy]; b.HandshakesPerActiveHour < 55 || b.DiscoveryPerActiveHour < 60*4 {
			t.Errorf("seed %d: %s: want about 60 handshakes and 60 listings per active hour", seed, b)
		}
		for _, p := range []string{PolicyBoth, PolicyProposal, PolicyRoundfeed} {
			if r := rows[p+"/"+ScenarioHealthy]; r.Lost != 0 || r.Duplicates != 0 || r.LatencyMax > 10 {
				t.Errorf("seed %d: %s: a healthy night should import everything by push within seconds", seed, r)
			}
		}
	}
}

// TestAcceptanceOneNight checks roundfeed's acceptance figures on single
// nights over seeds 1 to 20. A one-night run starts with polling ON and
// few players (the idle phase, a poll every 10 minutes); probes while ON
// keep a webhook lost then from waiting for that poll (in the flapping
// scenario, p99 was 211-285 s for 3 seeds in 40 without them).
func TestAcceptanceOneNight(t *testing.T) {
	t.Parallel()
	p, _ := PolicyByName(PolicyRoundfeed)
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			t.Parallel()
			rs, err := Table([]Policy{p}, Scenarios(), Options{Seed: seed, Nights: 1})
			if err != nil {
				t.Fatal(err)
			}
			rows := make(map[string]Row, len(rs))
			for _, r := range rs {
				rows[r.Policy+"/"+r.Scenario] = r
			}
			checkRoundfeed(t, rows, seed, 1)
		})
	}
}

// TestGolden proves determinism: the JSON for seed 1, one night, is
// byte-for-byte the golden file (rewrite it with -update).
func TestGolden(t *testing.T) {
	t.Parallel()
	rows, err := Table(Policies(), Scenarios(), Options{Seed: 1, Nights: 1})
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := WriteJSON(&got, rows); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "table_seed1.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./failover/sim -update)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("table for seed 1 differs from %s (rerun with -update if the change is intended):\n%s", golden, got.String())
	}
}

// TestDeterministic runs the same options twice, and checks that another
// seed gives other nights.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	p, _ := PolicyByName(PolicyRoundfeed)
	sc, _ := ScenarioByName(ScenarioFlapping)
	a, err := Run(p, sc, 7, 2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(p, sc, 7, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("same seed, different rows:\n%s\n%s", a, b)
	}
	c, err := Run(p, sc, 8, 2)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a, c) {
		t.Errorf("seeds 7 and 8 gave the same row %s", a)
	}
}

// TestSameNightsForEveryPolicy: the script does not depend on the policy.
func TestSameNightsForEveryPolicy(t *testing.T) {
	t.Parallel()
	for _, sc := range Scenarios() {
		want := newScript(sc, 5, 2)
		again := newScript(sc, 5, 2)
		if len(want.files) != len(again.files) {
			t.Fatalf("%s: script not deterministic", sc.Name)
		}
		for i := range want.files {
			if want.files[i] != again.files[i] {
				t.Fatalf("%s: file %d differs: %+v vs %+v", sc.Name, i, want.files[i], again.files[i])
			}
		}
	}
	// Scenarios share the nights up to their fault.
	h := newScript(Scenarios()[0], 5, 1)
	c, _ := ScenarioByName(ScenarioCorruptFile)
	cs := newScript(c, 5, 1)
	if len(h.files) != len(cs.files) {
		t.Fatalf("healthy has %d files, corrupt-file %d: the nights should be the same", len(h.files), len(cs.files))
	}
	corrupt := 0
	for i := range h.files {
		if h.files[i].name != cs.files[i].name {
			t.Fatalf("file %d: %s vs %s", i, h.files[i].name, cs.files[i].name)
		}
		if cs.files[i].corrupt {
			corrupt++
		}
	}
	if corrupt != 1 {
		t.Errorf("corrupt-file night has %d corrupt files, want 1", corrupt)
	}
}

// TestScript checks the shape of a night.
func TestScript(t *testing.T) {
	t.Parallel()
	s := newScript(Scenarios()[0], 1, 1)
	day := firstNight
	var prev time.Time
	stats := 0
	for _, f := range s.files {
		if f.written.Before(day.Add(sessionStart)) || f.written.After(day.Add(sessionEnd+endstatsGap)) {
			t.Errorf("%s written at %v, outside the session", f.name, f.written)
		}
		if f.kind == 1 {
			if !prev.IsZero() {
				if gap := f.written.Sub(prev); gap < 5*time.Minute || gap >= 12*time.Minute {
					t.Errorf("%s: %v after the previous round, want 5-12 min", f.name, gap)
				}
			}
			prev = f.written
			stats++
		} else if !strings.HasSuffix(f.name, "-endstats.txt") || f.stats == "" {
			t.Errorf("endstats %s without its stats name", f.name)
		}
	}
	if stats < 25 || stats > 60 {
		t.Errorf("%d rounds in a 5-hour session, want 25-60", stats)
	}
	for _, c := range []struct {
		clock time.Duration
		min   int
		max   int
	}{
		{19 * time.Hour, 0, 0},
		{21 * time.Hour, 3, 12},
		{24 * time.Hour, 3, 12},
		{26 * time.Hour, 0, 0},
	} {
		if n := s.playersAt(day.Add(c.clock)); n < c.min || n > c.max {
			t.Errorf("players at %v: %d, want %d-%d", c.clock, n, c.min, c.max)
		}
	}
}

func TestProbeChanged(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 1, 15, 21, 0, 0, 0, time.UTC)
	sec := time.Second
	for _, c := range []struct {
		name          string
		probed        bool
		m, lastM, prv time.Time
		want          bool
	}{
		{"first probe lists", false, base, time.Time{}, time.Time{}, true},
		{"unchanged, old", true, base, base, base.Add(60 * sec), false},
		{"changed", true, base.Add(61 * sec), base, base.Add(60 * sec), true},
		// A file at 21:01:00.2 (mtime 21:01:00) is seen by the probe at
		// 21:01:00.5; another at 21:01:00.8 keeps mtime 21:01:00. The next
		// probe must list anyway.
		{"same second as the previous probe", true, base.Add(60 * sec), base.Add(60 * sec), base.Add(60*sec + 500*time.Millisecond), true},
		{"exactly one second before the previous probe", true, base.Add(59 * sec), base.Add(59 * sec), base.Add(60 * sec), true},
		{"a second that ended before the previous probe", true, base.Add(59 * sec), base.Add(59 * sec), base.Add(60*sec + 500*time.Millisecond), false},
		{"two seconds before the previous probe", true, base.Add(58 * sec), base.Add(58 * sec), base.Add(60*sec + 500*time.Millisecond), false},
	} {
		if got := probeChanged(c.probed, c.m, c.lastM, c.prv); got != c.want {
			t.Errorf("%s: probeChanged = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Second)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Second}, {99, 99 * time.Second}, {100, 100 * time.Second}, {1, time.Second}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nothing = %v, want 0", got)
	}
}

func TestQueueOrder(t *testing.T) {
	t.Parallel()
	var q queue
	var got []int
	t0 := firstNight
	q.at(t0.Add(2*time.Second), func() { got = append(got, 3) })
	q.at(t0, func() { got = append(got, 1) })
	q.at(t0, func() { got = append(got, 2) }) // same instant: scheduling order
	q.at(t0.Add(time.Hour), func() { got = append(got, 4) })
	for {
		ev, ok := q.next(t0.Add(time.Minute))
		if !ok {
			break
		}
		ev.fn()
	}
	if want := []int{1, 2, 3}; len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Errorf("order %v, want %v", got, want)
	}
	if q.len() != 1 {
		t.Errorf("%d events left, want the one after the end", q.len())
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	p := Policies()[0]
	sc := Scenarios()[0]
	_, err := RunOptions(p, sc, Options{Seed: 1, Nights: 0, FolderFiles: -1})
	if !errors.Is(err, ErrBadOptions) {
		t.Fatalf("err = %v, want ErrBadOptions", err)
	}
	for _, want := range []string{"nights 0", "folder files -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// TestFolderSize: a bigger folder makes every listing dearer.
func TestFolderSize(t *testing.T) {
	t.Parallel()
	p, _ := PolicyByName(PolicyBoth)
	sc := Scenarios()[0]
	small, err := RunOptions(p, sc, Options{Seed: 1, Nights: 1, FolderFiles: 50})
	if err != nil {
		t.Fatal(err)
	}
	big, err := RunOptions(p, sc, Options{Seed: 1, Nights: 1, FolderFiles: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if big.DiscoveryPerActiveHour < 4*small.DiscoveryPerActiveHour {
		t.Errorf("2000 files: %.1f requests/h, 50 files: %.1f; want the listing cost to grow with the folder",
			big.DiscoveryPerActiveHour, small.DiscoveryPerActiveHour)
	}
}

// TestImports keeps the package's dependencies to failover and the
// standard library.
func TestImports(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := map[string]bool{
		"github.com/roundfeed/roundfeed/failover":     true,
		"github.com/roundfeed/roundfeed/failover/sim": true,
	}
	seen := 0
	for _, dep := range strings.Fields(string(out)) {
		seen++
		if !allowed[dep] {
			t.Errorf("failover/sim depends on %s; it may import only failover and the standard library", dep)
		}
	}
	if seen != 2 {
		t.Errorf("go list found %d non-standard packages (%q), want failover and failover/sim", seen, out)
	}
}

func BenchmarkRun(b *testing.B) {
	p, _ := PolicyByName(PolicyRoundfeed)
	sc, _ := ScenarioByName(ScenarioFlapping)
	for i := 0; b.Loop(); i++ {
		if _, err := Run(p, sc, uint64(i), 3); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTrackerClaims checks the exactly-once rules of the tracker model.
func TestTrackerClaims(t *testing.T) {
	t.Parallel()
	p, _ := PolicyByName(PolicyRoundfeed)
	w, err := newWorld(p, Scenarios()[0], Options{Seed: 1, Nights: 1, FolderFiles: DefaultFolderFiles})
	if err != nil {
		t.Fatal(err)
	}
	const name = "2026-01-15-210000-supply-round-1.txt"
	w.files[name] = &file{spec: fileSpec{name: name}}
	if st, _ := w.tryClaim(name, 1, true); st != claimOK {
		t.Fatalf("first claim: %v", st)
	}
	if st, until := w.tryClaim(name, 2, false); st != claimBusy || !until.Equal(w.now().Add(claimLease)) {
		t.Fatalf("second claim during the lease: %v until %v", st, until)
	}
	w.clk.Set(w.now().Add(claimLease))
	if w.commit(name, 1) {
		t.Fatal("commit after the lease ended was accepted")
	}
	if st, _ := w.tryClaim(name, 2, false); st != claimOK {
		t.Fatalf("claim after the lease ended: %v", st)
	}
	if !w.commit(name, 2) {
		t.Fatal("commit by the lease holder refused")
	}
	if w.commit(name, 2) {
		t.Fatal("second commit accepted")
	}
	if st, _ := w.tryClaim(name, 3, false); st != claimDone {
		t.Fatalf("claim of an imported file: %v", st)
	}
	if f := w.files[name]; f.imports != 1 {
		t.Errorf("imports = %d, want 1", f.imports)
	}
	if !w.track[name].pushed {
		t.Error("the tracker forgot that the first event came from the webhook")
	}
}

// TestFaultsBite: every scenario changes something for some policy
// compared with a healthy night, so no fault is silently a no-op.
func TestFaultsBite(t *testing.T) {
	t.Parallel()
	rows := table(t, 4, 1)
	for _, sc := range Scenarios()[1:] {
		bites := false
		for _, p := range Policies() {
			h, r := rows[p.Name+"/"+ScenarioHealthy], rows[p.Name+"/"+sc.Name]
			h.Scenario = r.Scenario
			if !reflect.DeepEqual(h, r) {
				bites = true
			}
		}
		if !bites {
			t.Errorf("%s: every policy's row equals its healthy row", sc.Name)
		}
	}
	// Specific marks of each fault.
	for _, c := range []struct {
		key  string
		fail func(Row) bool
		why  string
	}{
		{PolicyBoth + "/" + ScenarioBotRestart, func(r Row) bool { return r.LatencyMax < 60 }, "a file waits for the restart and the lease"},
		{PolicyBoth + "/" + ScenarioEndstatsFirst, func(r Row) bool { return r.LatencyMax < 30 }, "an early endstats waits for its stats"},
		{PolicyBoth + "/" + ScenarioSSHOutage, func(r Row) bool { return r.LatencyMax < 60 }, "fetches wait for SSH"},
		{PolicyRoundfeed + "/" + ScenarioCorruptFile, func(r Row) bool { return r.Failovers == 0 }, "a corrupt push file turns polling on"},
		{PolicyRoundfeed + "/" + ScenarioDeadHours, func(r Row) bool { return r.LatencyMax < 7*3600 }, "the 03:00 file waits for 11:00"},
		{PolicyProposal + "/" + ScenarioDiscordOutage, func(r Row) bool { return r.LatencyMax < 180 }, "lost messages wait for the heartbeat"},
	} {
		if r := rows[c.key]; c.fail(r) {
			t.Errorf("%s: %s", r, c.why)
		}
	}
}

// TestQuietHoldsHeartbeat: on healthy nights roundfeed's heartbeat fires
// after the session (players still in voice) only when quiet folder checks
// are not allowed to hold it, as in the design.
func TestQuietHoldsHeartbeat(t *testing.T) {
	t.Parallel()
	p, _ := PolicyByName(PolicyRoundfeed)
	sc, _ := ScenarioByName(ScenarioHealthy)
	for _, quietOK := range []bool{true, false} {
		mc := failover.DefaultConfig()
		mc.HeartbeatQuietOK = quietOK
		r, err := RunOptions(p, sc, Options{Seed: 1, Nights: 3, Machine: &mc})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Failovers > 0; got == quietOK {
			t.Errorf("HeartbeatQuietOK %v: %s", quietOK, r)
		}
	}
}

// TestMultiServerCrash: three game servers on one bot, alpha's notifier
// dies. Each server has its own Machine, so only alpha fails over; the
// healthy servers never do, and nothing is lost or imported twice.
func TestMultiServerCrash(t *testing.T) {
	t.Parallel()
	p, _ := PolicyByName(PolicyRoundfeed)
	sc, ok := ScenarioByName(ScenarioMultiServerCrash)
	if !ok {
		t.Fatal("scenario missing")
	}
	for _, seed := range []uint64{1, 2, 3} {
		r, err := RunOptions(p, sc, Options{Seed: seed, Nights: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Servers) != 3 {
			t.Fatalf("seed %d: %s: want 3 servers", seed, r)
		}
		files, failovers := 0, 0
		for _, s := range r.Servers {
			files += s.Files
			failovers += s.Failovers
			if s.Files == 0 || s.Lost != 0 || s.Duplicates != 0 {
				t.Errorf("seed %d: %s: server %s: want files > 0, lost = 0, duplicates = 0", seed, r, s.Server)
			}
			switch s.Scenario {
			case ScenarioNotifierCrash:
				if s.Failovers < 1 {
					t.Errorf("seed %d: %s: crashed server %s did not fail over", seed, r, s.Server)
				}
			case ScenarioHealthy:
				if s.Failovers != 0 {
					t.Errorf("seed %d: %s: healthy server %s failed over", seed, r, s.Server)
				}
			default:
				t.Errorf("server %s plays %s", s.Server, s.Scenario)
			}
		}
		if r.Files != files || r.Failovers != failovers || r.Lost != 0 || r.Duplicates != 0 {
			t.Errorf("seed %d: %s: totals do not add up", seed, r)
		}
	}
}
