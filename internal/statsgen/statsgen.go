// Package statsgen generates stats and endstats files in the byte format of
// the game's writer (stats-format.md sections 4 and 5, endstats-format.md
// section 2), for tests, benchmarks and the chaos harness. The numbers are
// random; the format is exact. The same rng gives the same bytes.
package statsgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/roundfeed/roundfeed/parser"
)

// genPlayer is one player of a generated round.
type genPlayer struct {
	guid, name string
	team       int
	weapons    map[int][5]int // id -> hits, shots, kills, deaths, headshots
	ext        [38]float64
}

// genRound is the cumulative state of one map at the end of a round.
type genRound struct {
	mapName string
	at      time.Time
	players []genPlayer
}

var floatField = map[int]bool{8: true, 21: true, 22: true, 23: true, 24: true, 25: true, 26: true}

func newGenRound(rng *rand.Rand, mapName string, at time.Time, n int) *genRound {
	g := &genRound{mapName: mapName, at: at}
	for i := range n {
		p := genPlayer{
			guid:    fmt.Sprintf("%08X", rng.Uint32()),
			name:    fmt.Sprintf("^%dplayer%d", i%10, i),
			team:    1 + i%2,
			weapons: map[int][5]int{},
		}
		for _, id := range []int{2, 3, 4, 5, 11, 23} {
			if rng.IntN(3) == 0 && id != 4 {
				continue
			}
			shots := 20 + rng.IntN(400)
			hits := rng.IntN(shots/2 + 1)
			p.weapons[id] = [5]int{hits, shots, rng.IntN(8), rng.IntN(6), rng.IntN(hits/4 + 1)}
		}
		for k := range p.ext {
			if floatField[k] {
				p.ext[k] = float64(rng.IntN(1000)) / 10
			} else {
				p.ext[k] = float64(rng.IntN(3000))
			}
		}
		p.ext[22] = float64(50+rng.IntN(100)) / 10 // minutes played
		g.players = append(g.players, p)
	}
	return g
}

// next returns the round-2 state: every counter grows (cumulative).
func (g *genRound) next(rng *rand.Rand, at time.Time) *genRound {
	n := &genRound{mapName: g.mapName, at: at}
	for _, p := range g.players {
		q := p
		q.weapons = map[int][5]int{}
		for id := range parser.WeaponCount { // in id order: the draws must not follow map order
			w, ok := p.weapons[id]
			if !ok {
				continue
			}
			add := rng.IntN(100)
			q.weapons[id] = [5]int{w[0] + add/3, w[1] + add, w[2] + rng.IntN(4), w[3] + rng.IntN(4), w[4] + rng.IntN(2)}
		}
		for _, k := range []int{0, 1, 2, 3, 4, 5, 6, 7, 20, 22} {
			q.ext[k] += float64(rng.IntN(500)) / 10
		}
		n.players = append(n.players, q)
	}
	return n
}

func (g *genRound) name(round int) string {
	return fmt.Sprintf("%s-%s-round-%d.txt", g.at.Format("2006-01-02-150405"), g.mapName, round)
}

func (g *genRound) bytes(round int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "^7Gen ^1Server\\%s\\legacy3\\%d\\2\\1\\12:00\\7:35\\%d\n", g.mapName, round, 455000+round)
	for _, p := range g.players {
		mask := 0
		for id := range p.weapons {
			mask |= 1 << id
		}
		fmt.Fprintf(&b, "%s\\%s\\%d\\%d\\%d", p.guid, p.name, round-1, p.team, mask)
		for id := range parser.WeaponCount {
			if w, ok := p.weapons[id]; ok {
				fmt.Fprintf(&b, " %d %d %d %d %d", w[0], w[1], w[2], w[3], w[4])
			}
		}
		b.WriteString(" ")
		for k, v := range p.ext {
			if floatField[k] {
				fmt.Fprintf(&b, "\t%.1f", v)
			} else {
				fmt.Fprintf(&b, "\t%d", int(v))
			}
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// endstats builds the awards file of a round, stamped 1 s before the stats
// file (the game writes it first).
func (g *genRound) endstats(round int) (string, []byte) {
	at := g.at.Add(-time.Second)
	name := fmt.Sprintf("%s-%s-round-%d-endstats.txt", at.Format("2006-01-02-150405"), g.mapName, round)
	var b strings.Builder
	fmt.Fprintf(&b, "Most damage given\tplayer0\t%d\n", 3000+round)
	b.WriteString("Most deaths\tplayer1\t12\nBest K/D ratio\tplayer2\t2.3333333333333\n")
	b.WriteString("VS_HEADER\tplayer0\t" + strings.Repeat("A", 32) + "\nplayer1\t3\t1\n")
	return name, []byte(b.String())
}

// File is one generated stats or endstats file.
type File struct {
	Name string
	Data []byte
}

// Endstats reports whether f is an endstats (awards) file.
func (f File) Endstats() bool { return strings.HasSuffix(f.Name, "-endstats.txt") }

// Matches returns n stopwatch matches of players players each, in the order
// the game writes them: R1 endstats, R1 stats, R2 endstats, R2 stats (the
// endstats files only when withEndstats). Match i starts at start + i*30 min
// and its round 2 ends 12 minutes after its round 1; maps rotate through six
// real map names.
func Matches(rng *rand.Rand, start time.Time, n, players int, withEndstats bool) []File {
	maps := []string{"te_escape2", "supply", "sw_goldrush_te", "et_ice", "1944_beach", "decay_sw"}
	var out []File
	for i := range n {
		at := start.Add(time.Duration(i) * 30 * time.Minute)
		r1 := newGenRound(rng, maps[i%len(maps)], at, players)
		r2 := r1.next(rng, at.Add(12*time.Minute))
		for _, r := range []struct {
			g     *genRound
			round int
		}{{r1, 1}, {r2, 2}} {
			if withEndstats {
				en, eb := r.g.endstats(r.round)
				out = append(out, File{en, eb})
			}
			out = append(out, File{r.g.name(r.round), r.g.bytes(r.round)})
		}
	}
	return out
}
