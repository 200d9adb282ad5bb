package sim

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/roundfeed/roundfeed/failover"
)

// A script is everything that happens outside the bot during a run: the
// files the game server writes, the players in voice, and the faults. It is
// generated from the seed and the scenario alone, never from the policy, so
// every policy faces exactly the same nights.
type script struct {
	seed       uint64
	scenario   string
	start, end time.Time
	files      []fileSpec // ordered by written time
	players    []playerStep
	faults     faults
	// flapLoss is the probability that Discord loses a webhook message.
	flapLoss float64
}

// fileSpec is one file the game server writes.
type fileSpec struct {
	name    string
	kind    failover.Kind
	written time.Time
	// stats is, for an endstats file, the name of its round's stats file.
	stats string
	// corrupt files fail to parse: the pipeline quarantines them.
	corrupt bool
	// pushLost: Discord loses every message naming this file.
	pushLost bool
}

type playerStep struct {
	at time.Time
	n  int
}

// window is a half-open interval of virtual time [from, to).
type window struct{ from, to time.Time }

func (w window) contains(t time.Time) bool { return !t.Before(w.from) && t.Before(w.to) }

func inAny(ws []window, t time.Time) bool {
	for _, w := range ws {
		if w.contains(t) {
			return true
		}
	}
	return false
}

// faults lists when each part of the world is down.
type faults struct {
	notifierDown []window // the notifier process is dead (silently)
	serverDown   []window // the game server VPS is off: no files, no SSH
	sshDown      []window // SSH/SFTP refuses connections and drops open ones
	botDown      []window // the bot process is down
	discordLoss  []window // Discord accepts webhook messages but never delivers them
}

// Shape of a game night.
const (
	sessionStart  = 20 * time.Hour
	sessionEnd    = 25 * time.Hour // 01:00 the next day
	rampStart     = 19*time.Hour + 45*time.Minute
	rampEnd       = 20*time.Hour + 15*time.Minute
	fallEnd       = 25*time.Hour + 30*time.Minute
	runStartClock = 18 * time.Hour // the bot starts at 18:00 on the first night
	drainClock    = 12 * time.Hour // the run ends at 12:00 after the last night
	endstatsGap   = 2 * time.Second
	endstatsEarly = 30 * time.Second
)

// firstNight is the date of the first simulated night. Times are in UTC and
// the schedule is configured for UTC, so "20:00" means 20:00 on the schedule's
// clock.
var firstNight = time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)

var maps = []string{
	"supply", "te_escape2", "goldrush", "sw_oasis_b3", "frostbite",
	"braundorf_b4", "etl_adlernest", "radar", "erdenberg_t2", "missile_b3",
}

// newScript builds the world for one scenario.
func newScript(sc Scenario, seed uint64, nights int) *script {
	// The nights come from the seed alone, so every scenario plays the same
	// rounds until its fault changes them; the fault times come from the
	// seed and the scenario.
	rng := rand.New(rand.NewPCG(seed, 0x726f756e64666565))
	h := fnv.New64a()
	h.Write([]byte(sc.Name))
	frng := rand.New(rand.NewPCG(seed, h.Sum64()))
	s := &script{
		seed:     seed,
		scenario: sc.Name,
		start:    firstNight.Add(runStartClock),
		end:      firstNight.AddDate(0, 0, nights).Add(drainClock),
	}
	if sc.flapLoss > 0 {
		s.flapLoss = sc.flapLoss
	}
	s.players = append(s.players, playerStep{at: s.start, n: 0})
	for i := 0; i < nights; i++ {
		day := firstNight.AddDate(0, 0, i)
		// The fault strikes mid-session at a seeded time between 21:00 and 23:30.
		faultAt := day.Add(21*time.Hour + jitter(frng, 150*time.Minute))
		n := night{day: day, rng: rng, frng: frng, faultAt: faultAt, sc: sc}
		n.generate(s)
	}
	sort.SliceStable(s.files, func(i, j int) bool { return s.files[i].written.Before(s.files[j].written) })
	sort.SliceStable(s.players, func(i, j int) bool { return s.players[i].at.Before(s.players[j].at) })
	return s
}

// night generates one session.
type night struct {
	day     time.Time
	rng     *rand.Rand // the night's shape
	frng    *rand.Rand // the fault's details
	faultAt time.Time
	sc      Scenario
}

func (n *night) generate(s *script) {
	rng := n.rng
	// Players: ramp from 0 at 19:45 to a peak of 6-12 at 20:15, wander
	// within three of the peak during the session, fall to 0 by 01:30.
	peak := 6 + rng.IntN(7)
	ramp := rampEnd - rampStart
	for m := time.Duration(0); m <= ramp; m += time.Minute {
		s.players = append(s.players, playerStep{at: n.day.Add(rampStart + m), n: int(int64(peak) * int64(m) / int64(ramp))})
	}
	cur := peak
	for t := rampEnd + 5*time.Minute; t < sessionEnd; t += 5 * time.Minute {
		cur += rng.IntN(3) - 1
		cur = max(peak-3, min(peak, cur))
		s.players = append(s.players, playerStep{at: n.day.Add(t), n: cur})
	}
	fall := fallEnd - sessionEnd
	for m := time.Duration(0); m <= fall; m += time.Minute {
		s.players = append(s.players, playerStep{at: n.day.Add(sessionEnd + m), n: cur - int(int64(cur)*int64(m)/int64(fall))})
	}

	// Rounds: one every 5-12 min from 20:00 to 01:00, R1 then R2 of each map.
	t := n.day.Add(sessionStart).Add(roundGap(rng))
	mapIdx := rng.IntN(len(maps))
	round := 1
	corrupted := false
	var rebootUp time.Time
	if n.sc.Name == ScenarioVPSReboot {
		rebootUp = n.faultAt.Add(3 * time.Minute)
	}
	for !t.After(n.day.Add(sessionEnd)) {
		if !rebootUp.IsZero() && !t.Before(n.faultAt) {
			// The round in progress dies with the server; the first round
			// after the reboot ends 4 min after it is back, while the
			// notifier is still down.
			t = rebootUp.Add(4 * time.Minute).Add(jitter(n.frng, time.Second))
			rebootUp = time.Time{}
		}
		corrupt := n.sc.Name == ScenarioCorruptFile && !corrupted && !t.Before(n.faultAt)
		corrupted = corrupted || corrupt
		n.round(s, t, maps[mapIdx], round, corrupt, false)
		if round == 2 {
			round = 1
			mapIdx = (mapIdx + 1 + rng.IntN(len(maps)-1)) % len(maps)
		} else {
			round = 2
		}
		t = t.Add(roundGap(rng))
	}
	if n.sc.Name == ScenarioBotRestart {
		// The bot dies 150 ms after the webhook message of the first stats
		// file after the fault time reaches it: that import is in flight
		// (its claim outlives the process), and the endstats message,
		// 2 s later, finds the bot down.
		for _, f := range s.files {
			if f.kind == failover.KindStats && !f.written.Before(n.faultAt) {
				n.faultAt = s.pushArrival(f.name, f.written).Add(150 * time.Millisecond)
				break
			}
		}
	}
	n.faults(s)
	if n.sc.Name == ScenarioDeadHours {
		// A late private round at 03:00 whose webhook messages Discord loses.
		at := n.day.AddDate(0, 0, 1).Add(3 * time.Hour).Add(jitter(n.frng, time.Minute))
		n.round(s, at, maps[n.frng.IntN(len(maps))], 1, false, true)
	}
}

// round appends the stats and endstats file of a round that ends at t.
func (n *night) round(s *script, t time.Time, mapName string, round int, corrupt, lost bool) {
	statsAt, endAt := t, t.Add(endstatsGap)
	if n.sc.Name == ScenarioEndstatsFirst {
		statsAt, endAt = t.Add(endstatsEarly), t
	}
	base := fmt.Sprintf("%s-%s-round-%d", statsAt.Format("2006-01-02-150405"), mapName, round)
	s.files = append(s.files,
		fileSpec{name: base + ".txt", kind: failover.KindStats, written: statsAt, corrupt: corrupt, pushLost: lost},
		fileSpec{name: base + "-endstats.txt", kind: failover.KindEndstats, written: endAt, stats: base + ".txt", pushLost: lost},
	)
}

func (n *night) faults(s *script) {
	f := &s.faults
	at := n.faultAt
	switch n.sc.Name {
	case ScenarioNotifierCrash:
		// Dead until someone restarts it at 18:00 the next day.
		f.notifierDown = append(f.notifierDown, window{at, n.day.AddDate(0, 0, 1).Add(18 * time.Hour)})
	case ScenarioDiscordOutage:
		f.discordLoss = append(f.discordLoss, window{at, at.Add(20 * time.Minute)})
	case ScenarioVPSReboot:
		f.serverDown = append(f.serverDown, window{at, at.Add(3 * time.Minute)})
		f.sshDown = append(f.sshDown, window{at, at.Add(3 * time.Minute)})
		f.notifierDown = append(f.notifierDown, window{at, at.Add(8 * time.Minute)})
	case ScenarioSSHOutage:
		f.sshDown = append(f.sshDown, window{at, at.Add(10 * time.Minute)})
	case ScenarioBotRestart:
		f.botDown = append(f.botDown, window{at, at.Add(time.Minute)})
	}
}

func roundGap(rng *rand.Rand) time.Duration {
	return 5*time.Minute + jitter(rng, 7*time.Minute)
}

// jitter returns a uniform duration in [0, d) with millisecond resolution.
func jitter(rng *rand.Rand, d time.Duration) time.Duration {
	return time.Duration(rng.Int64N(int64(d/time.Millisecond))) * time.Millisecond
}

// draw returns a uniform number in [0, 1) that depends only on the seed and
// the parts: per-message fates (delays, losses) must not depend on the order
// in which a policy happens to ask.
func draw(seed uint64, parts ...string) float64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	h.Write(b[:])
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	x := h.Sum64()
	// splitmix64 finaliser spreads FNV's low-entropy high bits.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

// delay returns the delay of the n-th message about name at stage what
// ("notify", "discord"), uniform in [lo, hi) milliseconds.
func (s *script) delay(name, what string, n, lo, hi int) time.Duration {
	x := draw(s.seed, s.scenario, what, name, strconv.Itoa(n))
	return time.Duration(lo+int(x*float64(hi-lo))) * time.Millisecond
}

// pushArrival is when the bot receives the first webhook message about a
// file written at written, if nothing is lost.
func (s *script) pushArrival(name string, written time.Time) time.Time {
	return written.Add(notifierSettle).Add(s.delay(name, "notify", 0, 100, 500)).Add(s.delay(name, "discord", 1, 200, 1500))
}

// playersAt returns the players in voice at t.
func (s *script) playersAt(t time.Time) int {
	i := sort.Search(len(s.players), func(i int) bool { return s.players[i].at.After(t) })
	if i == 0 {
		return 0
	}
	return s.players[i-1].n
}
