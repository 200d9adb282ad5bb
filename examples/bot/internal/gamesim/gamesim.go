// Package gamesim is a simulated ET:Legacy game server for the reference
// bot's demo: it writes stopwatch rounds as real-format stats and endstats
// files (see spec/stats-format.md and spec/endstats-format.md) into a folder,
// the endstats file first, in several append-and-close cycles as
// endstats.lua does, then the stats file in one write, with names stamped in
// server-local time. Round 2 carries cumulative counters, as the engine
// does. It can also write a corrupt file on purpose.
//
// One departure from the game, on purpose: each file is written under a
// hidden temporary name, given its modification time from the simulated
// clock, then renamed into place. The demo's clock runs faster than the
// file system's, so a file caught half-written would carry a wall-clock
// mtime that looks long settled to the accelerated reader, which would then
// fetch a truncated file. The settle logic that real, in-place writes need is
// tested in source/sftp and source/local against in-place appends.
package gamesim

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config sets up a simulated server.
type Config struct {
	// Dir is the gamestats folder files are written to.
	Dir string
	// Seed makes a run reproducible.
	Seed uint64
	// ServerName is the header's sv_hostname.
	ServerName string
	// Maps are played in turn, each as a stopwatch pair (R1, R2).
	Maps []string
	// Players is the number of players per side (humans and bots).
	Players int
}

// DefaultConfig is a 6v6 server rotating through five maps.
func DefaultConfig(dir string) Config {
	return Config{
		Dir: dir, Seed: 1, ServerName: "^7roundfeed ^1demo",
		Maps:    []string{"te_escape2", "supply", "sw_goldrush_te", "et_ice", "1944_beach"},
		Players: 6,
	}
}

// Round is what one call to WriteRound produced.
type Round struct {
	Map      string
	Round    int
	Stats    string // stats file name
	Endstats string // endstats file name
	Players  int
	Duration time.Duration
}

type weaponStat struct{ hits, shots, kills, deaths, hs int }

type player struct {
	guid, name string
	team       int // 1 Axis, 2 Allies
	bot        bool
	weapons    map[int]*weaponStat
	damage     [4]int // given, received, team given, team received
	gibs       int
	teamMs     int // cumulative ms in a team
}

// Sim writes the rounds. It is not safe for concurrent use.
type Sim struct {
	cfg       Config
	rng       *rand.Rand
	mapIdx    int
	roundNo   int // 0 before the first round, then 1 or 2
	timelimit int // seconds, R1's limit
	r1Elapsed int // seconds, R1's time
	defender  int
	players   []*player
}

// New returns a simulator writing into cfg.Dir (created if missing).
func New(cfg Config) (*Sim, error) {
	if cfg.Dir == "" || len(cfg.Maps) == 0 || cfg.Players < 1 {
		return nil, fmt.Errorf("gamesim: config needs Dir, Maps and Players")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("gamesim: %w", err)
	}
	return &Sim{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}, nil
}

var (
	humanNames = []string{"^1vid", "^3Kr0ne", "Hydra", "^HZed", "^5olz", "^2Sup^7er^2Boyy", "^4wiseBoy", "^6carniee", "bronze", "^7SmetarskiProner", "^1ra^7iser", "^3endekk"}
	botNames   = []string{"Hawk", "Viper", "Schmidt", "Doc", "Koenig", "Ranger"}
	// weapons a player of each class uses: light weapons, pistols, nades, rifles, panzer, mortar, mg
	loadouts = [][]int{{4, 2, 11}, {5, 3, 11}, {6, 2, 0}, {22, 3, 18}, {8, 2, 11}, {24, 3, 0}, {26, 2, 11}, {12, 3, 20}}
)

func (s *Sim) newTeams() {
	n := s.cfg.Players * 2
	s.players = s.players[:0]
	used := map[string]bool{}
	for i := range n {
		p := &player{team: 1 + i%2, weapons: map[int]*weaponStat{}}
		if i < len(humanNames) && i < n-2 {
			name := humanNames[(i+s.mapIdx)%len(humanNames)]
			for used[name] {
				name = humanNames[s.rng.IntN(len(humanNames))]
			}
			used[name] = true
			p.name = name
			p.guid = fmt.Sprintf("%08X", s.rng.Uint32())
		} else {
			p.bot = true
			p.name = "^o[BOT]^7" + botNames[i%len(botNames)]
			p.guid = fmt.Sprintf("OMNIBOT%d", i/10)
		}
		s.players = append(s.players, p)
	}
}

// WriteRound plays the next round (R1 of the next map, or R2 of the current
// one) ending at end, in the server's local wall-clock time, and writes its
// endstats file (stamped 1-2 s before end) and stats file (stamped end).
func (s *Sim) WriteRound(end time.Time) (Round, error) {
	if s.roundNo != 1 {
		s.roundNo = 1
		s.mapIdx++
		s.timelimit = []int{600, 720, 900}[s.rng.IntN(3)]
		s.defender = 1 + s.rng.IntN(2)
		s.newTeams()
	} else {
		s.roundNo = 2
	}
	mapName := s.cfg.Maps[(s.mapIdx-1)%len(s.cfg.Maps)]
	var elapsed, limit int
	var winner, defender int
	var actual string
	if s.roundNo == 1 {
		limit = s.timelimit
		defender = s.defender
		if s.rng.IntN(4) == 0 { // full hold
			elapsed = limit
			winner = defender
		} else {
			elapsed = limit/3 + s.rng.IntN(limit/2)
			winner = 3 - defender
		}
		s.r1Elapsed = elapsed
		actual = mss(elapsed)
	} else {
		limit = s.r1Elapsed
		defender = 3 - s.defender
		elapsed = limit/2 + s.rng.IntN(limit/2+1)
		if elapsed >= limit {
			elapsed = limit
			winner = defender
		} else {
			winner = 3 - defender
		}
		actual = mss(60*60 + 5*s.rng.IntN(6)*60)
	}
	s.play(elapsed)

	r := Round{Map: mapName, Round: s.roundNo, Players: len(s.players), Duration: time.Duration(elapsed) * time.Second}
	endAt := end.Add(-time.Duration(1+s.rng.IntN(2)) * time.Second)
	r.Endstats = fmt.Sprintf("%s-%s-round-%d-endstats.txt", endAt.Format("2006-01-02-150405"), mapName, s.roundNo)
	r.Stats = fmt.Sprintf("%s-%s-round-%d.txt", end.Format("2006-01-02-150405"), mapName, s.roundNo)

	// Endstats: appended block by block, like endstats.lua.
	tmp := filepath.Join(s.cfg.Dir, "."+r.Endstats+".part")
	for _, block := range s.endstats(elapsed) {
		if err := appendFile(tmp, block); err != nil {
			return r, err
		}
	}
	if err := publish(tmp, filepath.Join(s.cfg.Dir, r.Endstats), endAt); err != nil {
		return r, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\\%s\\legacy3\\%d\\%d\\%d\\%s\\%s\\%d\n", s.cfg.ServerName, mapName, s.roundNo, defender, winner, mss(limit), actual, elapsed*1000+s.rng.IntN(1000))
	for _, p := range s.players {
		s.playerLine(&b, p, elapsed)
	}
	if err := writeFile(filepath.Join(s.cfg.Dir, r.Stats), b.String(), end); err != nil {
		return r, err
	}
	return r, nil
}

// WriteCorrupt writes a stats file whose header is cut short: the parser must
// refuse it and the pipeline quarantine it, not import it.
func (s *Sim) WriteCorrupt(end time.Time) (string, error) {
	name := fmt.Sprintf("%s-%s-round-1.txt", end.Format("2006-01-02-150405"), "corrupt_map")
	body := "^7roundfeed ^1demo\\corrupt_map\\legacy3\n" + strings.Repeat("garbage\\line\\without\\stats\n", 8)
	if err := writeFile(filepath.Join(s.cfg.Dir, name), body, end); err != nil {
		return "", err
	}
	return name, nil
}

// play adds one round of activity to every player (counters are cumulative
// across R1 and R2, as the engine's session counters are).
func (s *Sim) play(elapsed int) {
	mins := float64(elapsed) / 60
	for i, p := range s.players {
		skill := 0.6 + s.rng.Float64()
		if p.bot {
			skill *= 0.8
		}
		for j, id := range loadouts[i%len(loadouts)] {
			w := p.weapons[id]
			if w == nil {
				w = &weaponStat{}
				p.weapons[id] = w
			}
			scale := []float64{1, 0.25, 0.1}[j]
			shots := int(mins * 40 * scale * (0.5 + s.rng.Float64()))
			if id == 11 || id == 18 || id == 8 || id == 12 {
				shots = int(mins * (0.3 + s.rng.Float64()))
			}
			hits := int(float64(shots) * (0.15 + 0.25*skill*s.rng.Float64()))
			kills := int(mins * skill * scale * (0.3 + s.rng.Float64()))
			deaths := int(mins * scale * (0.3 + s.rng.Float64()) / skill)
			w.shots += shots
			w.hits += hits
			w.kills += kills
			w.deaths += deaths
			w.hs += hits / (4 + s.rng.IntN(5))
		}
		dmg := 0
		for id := range 28 { // in id order: the random stream must not depend on map order
			if w := p.weapons[id]; w != nil {
				dmg += w.kills * (90 + s.rng.IntN(60))
			}
		}
		p.damage[0] = max(p.damage[0], dmg) + s.rng.IntN(300)
		p.damage[1] += int(mins * (80 + float64(s.rng.IntN(120))))
		p.damage[2] += s.rng.IntN(60)
		p.damage[3] += s.rng.IntN(60)
		p.gibs += s.rng.IntN(4)
		p.teamMs += elapsed*1000 - s.rng.IntN(5000)
	}
}

func (s *Sim) totals(p *player) (kills, deaths, shots, hits int) {
	for _, w := range p.weapons {
		kills += w.kills
		deaths += w.deaths
		shots += w.shots
		hits += w.hits
	}
	return
}

func (s *Sim) playerLine(b *strings.Builder, p *player, elapsed int) {
	mask := 0
	for id, w := range p.weapons {
		if w.hits+w.shots+w.kills+w.deaths > 0 {
			mask |= 1 << id
		}
	}
	if mask == 0 {
		return // the writer skips players without activity
	}
	fmt.Fprintf(b, "%s\\%s\\%d\\%d\\%d", p.guid, p.name, s.roundNo-1, p.team, mask)
	for id := range 28 {
		if mask&(1<<id) != 0 {
			w := p.weapons[id]
			fmt.Fprintf(b, " %d %d %d %d %d", w.hits, w.shots, w.kills, w.deaths, w.hs)
		}
	}
	kills, deaths, shots, _ := s.totals(p)
	teamMin := float64(p.teamMs) / 60000
	deadMin := float64(elapsed) / 60 * (0.1 + 0.2*s.rng.Float64())
	kd := float64(kills + 1)
	if deaths > 0 {
		kd = float64(kills) / float64(deaths)
	}
	ext := []string{
		d(p.damage[0]), d(p.damage[1]), d(p.damage[2]), d(p.damage[3]), d(p.gibs), d(s.rng.IntN(2)), d(s.rng.IntN(2)), d(0),
		f1(100 - 100*deadMin/max(teamMin, 0.1)), d(kills*3 + s.rng.IntN(20)), d(spree(kills)), d(spree(deaths / 2)),
		d(s.rng.IntN(5)), d(s.rng.IntN(3)), d(kills / 5), d(s.rng.IntN(2)), d(0), d(s.rng.IntN(2)), d(s.rng.IntN(2)),
		d(s.rng.IntN(4)), d(shots), "0.0", f1(teamMin), "0.0", f1(100 * deadMin / max(teamMin, 0.1)), f1(deadMin), f1(kd),
		d(kills / 2), d(kills * 12), d(kills / 6), d(kills / 15), d(0), d(0), d(0), d(kills / 8), d(0), d(s.rng.IntN(3)), d(s.rng.IntN(4)),
	}
	b.WriteString(" \t")
	b.WriteString(strings.Join(ext, "\t"))
	b.WriteByte('\n')
}

// endstats returns the endstats file as the blocks the writer appends one
// after another: the awards, then one versus block per player.
func (s *Sim) endstats(elapsed int) []string {
	type cand struct {
		title string
		val   func(p *player) int
	}
	awards := []cand{
		{"Most damage given", func(p *player) int { return p.damage[0] }},
		{"Most damage received", func(p *player) int { return p.damage[1] }},
		{"Most team damage given", func(p *player) int { return p.damage[2] }},
		{"Most deaths", func(p *player) int { _, d, _, _ := s.totals(p); return d }},
		{"Most light weapon kills", func(p *player) int { return lightKills(p) }},
		{"Most corpse gibs", func(p *player) int { return p.gibs }},
		{"Most bullets fired", func(p *player) int { _, _, sh, _ := s.totals(p); return sh }},
	}
	var b strings.Builder
	for _, a := range awards {
		best, bestV := (*player)(nil), 1
		for _, p := range s.players {
			if v := a.val(p); v > bestV {
				best, bestV = p, v
			}
		}
		if best != nil {
			fmt.Fprintf(&b, "%s\t%s\t%d\n", a.title, clean(best.name), bestV)
		}
	}
	fmt.Fprintf(&b, "Most playtime denied\t%s\t%d seconds\n", clean(s.players[0].name), 30+s.rng.IntN(120))
	blocks := []string{b.String()}
	for _, p := range s.players {
		var v strings.Builder
		full := p.guid + strings.Repeat("0", 32-len(p.guid))
		fmt.Fprintf(&v, "VS_HEADER\t%s\t%s\n", clean(p.name), full)
		for _, o := range s.players {
			if o.team != p.team {
				fmt.Fprintf(&v, "%s\t%d\t%d\n", clean(o.name), s.rng.IntN(4), s.rng.IntN(4))
			}
		}
		blocks = append(blocks, v.String())
	}
	_ = elapsed
	return blocks
}

func lightKills(p *player) int {
	n := 0
	for _, id := range []int{2, 3, 4, 5, 6, 26} {
		if w := p.weapons[id]; w != nil {
			n += w.kills
		}
	}
	return n
}

// clean is the engine's Q_CleanStr: colour codes out, printable ASCII only.
func clean(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '^' && i+1 < len(s) && s[i+1] != '^' && s[i+1] != 0 {
			i++
			continue
		}
		if c >= 0x20 && c <= 0x7e {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func spree(n int) int {
	if n >= 3 {
		return n/2 + 1
	}
	return 0
}

// appendFile appends s to path in one open/write/close.
func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("gamesim: %w", err)
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return fmt.Errorf("gamesim: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("gamesim: %w", err)
	}
	return nil
}

// publish gives tmp the modification time mtime (the simulated clock's) and
// renames it to path, so the file appears complete (see the package doc).
func publish(tmp, path string, mtime time.Time) error {
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		return fmt.Errorf("gamesim: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("gamesim: %w", err)
	}
	return nil
}

// writeFile writes a whole file in one open/write/close, like the stats
// writer, and publishes it with modification time mtime.
func writeFile(path, s string, mtime time.Time) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".part")
	if err := os.WriteFile(tmp, []byte(s), 0o644); err != nil {
		return fmt.Errorf("gamesim: %w", err)
	}
	return publish(tmp, path, mtime)
}

func mss(sec int) string { return fmt.Sprintf("%d:%02d", sec/60, sec%60) }
func d(n int) string     { return fmt.Sprint(n) }
func f1(x float64) string {
	if x < 0 {
		x = 0
	}
	return fmt.Sprintf("%.1f", x)
}
