package parser

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// buildStats writes a stats file of n players in the writer's exact byte
// format (stats-format.md sections 4–5), deterministic for a seed.
func buildStats(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	b.WriteString("^7Münchner ^1Stopwatch\\supply\\legacy3\\1\\2\\1\\12:00\\9:41\\581352\n")
	for i := 0; i < n; i++ {
		guid := fmt.Sprintf("%08X", r.Uint32())
		name := fmt.Sprintf("^%dpl^7ayer%d", i%10, i)
		if i%6 == 5 {
			guid = fmt.Sprintf("OMNIBOT%d", i/10)
			name = fmt.Sprintf("^o[BOT]^7Bot%d", i)
		}
		fmt.Fprintf(&b, "%s\\%s\\%d\\%d\\", guid, name, 0, 1+i%2)
		var mask int
		var tuples strings.Builder
		kills, deaths, shots := 0, 0, 0
		for id := 0; id < WeaponCount; id++ {
			if r.IntN(28) >= 9 && id != 4 {
				continue
			}
			mask |= 1 << id
			s := r.IntN(900)
			h := r.IntN(s/3 + 1)
			k := r.IntN(12)
			d := r.IntN(9)
			hs := r.IntN(h/4 + 1)
			fmt.Fprintf(&tuples, " %d %d %d %d %d", h, s, k, d, hs)
			kills += k
			deaths += d
			shots += s
		}
		fmt.Fprintf(&b, "%d%s \t", mask, tuples.String())
		tp := 9.7
		fields := []string{
			fmt.Sprint(r.IntN(4000)), fmt.Sprint(r.IntN(4000)), fmt.Sprint(r.IntN(200)), fmt.Sprint(r.IntN(200)),
			fmt.Sprint(r.IntN(10)), fmt.Sprint(r.IntN(3)), fmt.Sprint(r.IntN(2)), "0",
			fmt.Sprintf("%.1f", 60+r.Float64()*39), fmt.Sprint(r.IntN(90)), fmt.Sprint(r.IntN(8)), fmt.Sprint(r.IntN(5)),
			fmt.Sprint(r.IntN(9)), fmt.Sprint(r.IntN(3)), fmt.Sprint(r.IntN(6)), "0", "0", fmt.Sprint(r.IntN(2)), "0",
			fmt.Sprint(r.IntN(5)), fmt.Sprint(shots), "0.0", fmt.Sprintf("%.1f", tp), "0.0",
			fmt.Sprintf("%.1f", r.Float64()*30), fmt.Sprintf("%.1f", r.Float64()*3), fmt.Sprintf("%.1f", float64(kills)/float64(deaths+1)),
			fmt.Sprint(r.IntN(9)), fmt.Sprint(r.IntN(200)), fmt.Sprint(r.IntN(4)), fmt.Sprint(r.IntN(2)), "0", "0", "0",
			fmt.Sprint(r.IntN(4)), "0", fmt.Sprint(r.IntN(3)), fmt.Sprint(r.IntN(6)),
		}
		b.WriteString(strings.Join(fields, "\t"))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// buildEndstats writes an endstats file for n players: every award title
// the writer emits, then one versus block per player.
func buildEndstats(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 9))
	var b strings.Builder
	for i, t := range awardTitles[:48] {
		v := fmt.Sprint(r.IntN(3000))
		switch {
		case strings.HasPrefix(t, "Tank"):
			v = "Damage received vs death ratio: 3.45x"
		case strings.HasPrefix(t, "Quickest"):
			v = "3 kills in 1.2s"
		case strings.HasPrefix(t, "Full respawn"), strings.HasPrefix(t, "Least time"):
			v = "10.93 percent, 3.28 min"
		case strings.HasPrefix(t, "Best K/D"):
			v = "2.3333333333333"
		}
		fmt.Fprintf(&b, "%s\tplayer%d\t%s\n", t, i%n, v)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "VS_HEADER\tplayer%d\t%08X%08X%08X%08X\n", i, r.Uint32(), r.Uint32(), r.Uint32(), r.Uint32())
		for j := 0; j < n/2; j++ {
			fmt.Fprintf(&b, "opponent%d\t%d\t%d\n", j, r.IntN(15), r.IntN(15))
		}
	}
	return []byte(b.String())
}
