package failover_test

// Scenario tests in the style of etcd raft's datadriven tests: each file in
// testdata/ is a script of commands, each followed by "----" and the output
// it must produce. `go test ./failover -update` rewrites the outputs.
//
// Commands (times are in the schedule's zone):
//
//	start 2026-11-28 20:00      set the clock and build a fresh machine (default env)
//	env NAME=value ...          add environment variables and build a fresh machine
//	new                         build a fresh machine from the current env
//	advance 5m | set 2026-11-29 03:00
//	record <stats|endstats> <success|failure|deferred> [reason...] [gen=saved|gen=N]
//	gen                         print and save the generation
//	tick <players>
//	quiet                       a quiet folder check (Machine.Quiet)
//	status
//	restart [downtime]          snapshot, (advance downtime,) new machine, restore
//	plan [players=N] [lastfile=T] [lastpoll=T] [lastprobe=T] [lastlist=T] [mode=on|off]
//	                            T: "never", a duration before now ("-5m"), "HH:MM" today, or "YYYY-MM-DD HH:MM"

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/failover"
)

var update = flag.Bool("update", false, "rewrite the expected output of testdata scenarios")

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scenarios in testdata")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			t.Parallel()
			runScenarioFile(t, f)
		})
	}
}

// block is one command of a scenario file with its expected output.
type block struct {
	comments []string // lines before the command (comments, kept on rewrite)
	line     int
	cmd      string
	want     []string
}

func parseScenario(t *testing.T, path string) []block {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks []block
		cur    block
		n      int
	)
	sc := bufio.NewScanner(f)
	const (
		wantCmd = iota
		wantSep
		inOutput
	)
	state := wantCmd
	for sc.Scan() {
		n++
		l := sc.Text()
		switch state {
		case wantCmd:
			if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
				if strings.HasPrefix(l, "#") {
					cur.comments = append(cur.comments, l)
				}
				continue
			}
			cur.cmd, cur.line = l, n
			state = wantSep
		case wantSep:
			if l != "----" {
				t.Fatalf("%s:%d: want ---- after the command, got %q", path, n, l)
			}
			state = inOutput
		case inOutput:
			if l == "" {
				blocks = append(blocks, cur)
				cur, state = block{}, wantCmd
				continue
			}
			cur.want = append(cur.want, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	switch state {
	case wantSep:
		t.Fatalf("%s:%d: command without ----", path, cur.line)
	case inOutput:
		blocks = append(blocks, cur)
	}
	return blocks
}

func runScenarioFile(t *testing.T, path string) {
	blocks := parseScenario(t, path)
	sc := newScenario(t)
	var out strings.Builder
	for i, b := range blocks {
		got := sc.run(b.cmd)
		if len(got) == 0 {
			got = []string{"ok"}
		}
		if *update {
			for _, c := range b.comments {
				out.WriteString(c + "\n")
			}
			out.WriteString(b.cmd + "\n----\n" + strings.Join(got, "\n") + "\n")
			if i < len(blocks)-1 {
				out.WriteString("\n")
			}
			continue
		}
		if strings.Join(got, "\n") != strings.Join(b.want, "\n") {
			t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", path, b.line, b.cmd,
				strings.Join(got, "\n"), strings.Join(b.want, "\n"))
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type scenario struct {
	t     *testing.T
	loc   *time.Location
	clk   *failover.ManualClock
	env   map[string]string
	m     *failover.Machine
	s     *failover.Schedule
	saved uint64
}

func newScenario(t *testing.T) *scenario {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	sc := &scenario{t: t, loc: loc, env: map[string]string{},
		clk: failover.NewManualClock(time.Date(2026, 11, 28, 20, 0, 0, 0, loc))}
	if errs := sc.rebuild(); errs != nil {
		t.Fatal(errs)
	}
	return sc
}

func (sc *scenario) lookup(k string) (string, bool) { v, ok := sc.env[k]; return v, ok }

// rebuild makes a new machine and schedule from the env; it returns the
// configuration errors as output lines.
func (sc *scenario) rebuild() []string {
	var out []string
	cfg, err := failover.ConfigFromEnv(sc.lookup)
	if err != nil {
		out = append(out, "error: "+strings.ReplaceAll(err.Error(), "\n", "\nerror: "))
	}
	scfg, err := failover.ScheduleConfigFromEnv(sc.lookup)
	if err != nil {
		out = append(out, "error: "+strings.ReplaceAll(err.Error(), "\n", "\nerror: "))
	}
	if out != nil {
		return strings.Split(strings.Join(out, "\n"), "\n")
	}
	if sc.m, err = failover.NewMachine(cfg, sc.clk); err != nil {
		return []string{"error: " + err.Error()}
	}
	if sc.s, err = failover.NewSchedule(scfg); err != nil {
		return []string{"error: " + err.Error()}
	}
	sc.loc = sc.s.Location()
	return nil
}

func (sc *scenario) fmtTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(sc.loc).Format("2006-01-02 15:04:05 MST")
}

func (sc *scenario) fatalf(format string, args ...any) {
	sc.t.Helper()
	sc.t.Fatalf(format, args...)
}

// parseTime reads a time argument relative to the clock.
func (sc *scenario) parseTime(s string) time.Time {
	now := sc.clk.Now()
	switch {
	case s == "never":
		return time.Time{}
	case s == "now":
		return now
	case strings.HasPrefix(s, "-"):
		d, err := time.ParseDuration(s)
		if err != nil {
			sc.fatalf("bad time %q: %v", s, err)
		}
		return now.Add(d)
	case len(s) == 5: // HH:MM today
		tt, err := time.ParseInLocation("2006-01-02 15:04", now.In(sc.loc).Format("2006-01-02 ")+s, sc.loc)
		if err != nil {
			sc.fatalf("bad time %q: %v", s, err)
		}
		return tt
	}
	tt, err := time.ParseInLocation("2006-01-02 15:04", s, sc.loc)
	if err != nil {
		sc.fatalf("bad time %q: %v", s, err)
	}
	return tt
}

func (sc *scenario) result(r failover.Result) []string {
	var out []string
	for _, tr := range r.Transitions {
		out = append(out, "transition "+tr.String())
	}
	for _, a := range r.Alerts {
		out = append(out, a.String())
	}
	if len(out) == 0 {
		st := sc.m.Status()
		out = append(out, fmt.Sprintf("no change: mode %s, stats %d/%d, endstats %d/%d (successes/failures)",
			st.Mode, st.Stats.ConsecutiveSuccesses, st.Stats.ConsecutiveFailures,
			st.Endstats.ConsecutiveSuccesses, st.Endstats.ConsecutiveFailures))
	}
	return out
}

func (sc *scenario) run(cmd string) []string {
	f := strings.Fields(cmd)
	args := f[1:]
	switch f[0] {
	case "start":
		sc.clk.Set(sc.parseTime(strings.Join(args, " ")))
		sc.env = map[string]string{}
		if errs := sc.rebuild(); errs != nil {
			return errs
		}
		return []string{sc.fmtTime(sc.clk.Now())}
	case "env":
		for _, a := range args {
			k, v, ok := strings.Cut(a, "=")
			if !ok {
				sc.fatalf("env %q: want NAME=value", a)
			}
			sc.env[k] = v
		}
		return sc.rebuild()
	case "new":
		return sc.rebuild()
	case "advance":
		d, err := time.ParseDuration(args[0])
		if err != nil {
			sc.fatalf("advance: %v", err)
		}
		return []string{sc.fmtTime(sc.clk.Advance(d))}
	case "set":
		sc.clk.Set(sc.parseTime(strings.Join(args, " ")))
		return []string{sc.fmtTime(sc.clk.Now())}
	case "record":
		return sc.record(args)
	case "gen":
		sc.saved = sc.m.Generation()
		return []string{fmt.Sprintf("generation %d (saved)", sc.saved)}
	case "tick":
		n, err := strconv.Atoi(args[0])
		if err != nil {
			sc.fatalf("tick: %v", err)
		}
		return sc.result(sc.m.Tick(n))
	case "quiet":
		sc.m.Quiet()
		return []string{"quiet at " + sc.fmtTime(sc.m.Status().LastQuiet)}
	case "status":
		return sc.status()
	case "restart":
		snap, err := sc.m.Snapshot()
		if err != nil {
			return []string{"error: " + err.Error()}
		}
		if len(args) > 0 {
			d, err := time.ParseDuration(args[0])
			if err != nil {
				sc.fatalf("restart: %v", err)
			}
			sc.clk.Advance(d)
		}
		if errs := sc.rebuild(); errs != nil {
			return errs
		}
		if err := sc.m.Restore(snap); err != nil {
			return []string{"error: " + err.Error()}
		}
		return []string{fmt.Sprintf("restarted at %s: mode %s, generation %d", sc.fmtTime(sc.clk.Now()), sc.m.Mode(), sc.m.Generation())}
	case "plan":
		return sc.plan(args)
	}
	sc.fatalf("unknown command %q", f[0])
	return nil
}

func (sc *scenario) record(args []string) []string {
	if len(args) < 2 {
		sc.fatalf("record: want kind and outcome")
	}
	kinds := map[string]failover.Kind{"stats": failover.KindStats, "endstats": failover.KindEndstats, "bogus": 0}
	outcomes := map[string]failover.Outcome{"success": failover.Success, "failure": failover.Failure, "deferred": failover.Deferred}
	k, ok := kinds[args[0]]
	if !ok {
		sc.fatalf("record: kind %q", args[0])
	}
	o, ok := outcomes[args[1]]
	if !ok {
		sc.fatalf("record: outcome %q", args[1])
	}
	gen := sc.m.Generation()
	var reason []string
	for _, a := range args[2:] {
		if v, ok := strings.CutPrefix(a, "gen="); ok {
			if v == "saved" {
				gen = sc.saved
			} else {
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					sc.fatalf("record: %v", err)
				}
				gen = n
			}
			continue
		}
		reason = append(reason, a)
	}
	before := sc.m.Status()
	r := sc.m.Record(gen, k, o, strings.Join(reason, " "))
	after := sc.m.Status()
	if after.Stale > before.Stale {
		return []string{fmt.Sprintf("ignored: generation %d is older than %d", gen, sc.m.Generation())}
	}
	if after.Rejected > before.Rejected {
		return []string{fmt.Sprintf("rejected: kind %s, outcome %s", k, o)}
	}
	return sc.result(r)
}

func (sc *scenario) status() []string {
	s := sc.m.Status()
	return []string{
		fmt.Sprintf("enabled %v, mode %s since %s, generation %d", s.Enabled, s.Mode, sc.fmtTime(s.ModeSince), s.Generation),
		fmt.Sprintf("streak: %d successes, %d failures; stats %d/%d of %d/%d; endstats %d/%d of %d/%d",
			s.ConsecutiveSuccesses, s.ConsecutiveFailures,
			s.Stats.ConsecutiveSuccesses, s.Stats.ConsecutiveFailures, s.Stats.SuccessThreshold, s.Stats.FailureThreshold,
			s.Endstats.ConsecutiveSuccesses, s.Endstats.ConsecutiveFailures, s.Endstats.SuccessThreshold, s.Endstats.FailureThreshold),
		fmt.Sprintf("last success %s; last failure %s %q", sc.fmtTime(s.LastSuccess), sc.fmtTime(s.LastFailure), s.LastFailureReason),
		fmt.Sprintf("thresholds %d/%d, heartbeat %v with %d players (quiet ok %v, last quiet %s), off interval %v",
			s.SuccessThreshold, s.FailureThreshold, s.HeartbeatTimeout, s.HeartbeatMinPlayers,
			s.HeartbeatQuietOK, sc.fmtTime(s.LastQuiet), s.OffInterval),
		fmt.Sprintf("time on %v, off %v; polling during play %v; active since %s", s.TimeOn, s.TimeOff, s.PollingDuringPlay, sc.fmtTime(s.ActiveSince)),
		fmt.Sprintf("failovers %d, recoveries %d, time to recover last %v mean %v",
			s.Failovers, s.Recoveries, s.LastTimeToRecover, s.MeanTimeToRecover),
		fmt.Sprintf("outcomes: %d successes, %d failures, %d deferred, %d stale, %d rejected",
			s.Successes, s.Failures, s.Deferred, s.Stale, s.Rejected),
	}
}

func (sc *scenario) plan(args []string) []string {
	in := failover.PlanInput{Now: sc.clk.Now(), Mode: sc.m.Mode(), OffInterval: sc.m.OffInterval()}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			sc.fatalf("plan: %q: want key=value", a)
		}
		v = strings.ReplaceAll(v, "_", " ") // "2026-03-29_03:00"
		switch k {
		case "players":
			n, err := strconv.Atoi(v)
			if err != nil {
				sc.fatalf("plan: %v", err)
			}
			in.Players = n
		case "lastfile":
			in.LastFile = sc.parseTime(v)
		case "lastpoll":
			in.LastPoll = sc.parseTime(v)
		case "lastprobe":
			in.LastProbe = sc.parseTime(v)
		case "lastlist":
			in.LastFullList = sc.parseTime(v)
		case "mode":
			if err := in.Mode.UnmarshalText([]byte(v)); err != nil {
				sc.fatalf("plan: %v", err)
			}
		default:
			sc.fatalf("plan: unknown key %q", k)
		}
	}
	p := sc.s.Plan(in)
	return []string{
		fmt.Sprintf("phase %s, interval %v", p.Phase, p.Interval),
		"poll " + sc.fmtTime(p.NextPoll),
		"probe " + sc.fmtTime(p.NextProbe),
		"list " + sc.fmtTime(p.NextFullList),
	}
}
