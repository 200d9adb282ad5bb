package parser

// The R2 differential (stats-format.md section 7.1).

// r2OnlyField marks the extended fields the R2 file already holds for R2
// alone (the reader's list, section 7).
var r2OnlyField = [38]bool{
	9: true, 10: true, 11: true, 12: true, 13: true, 14: true, 15: true, 16: true, 17: true,
	18: true, 19: true, 25: true, 27: true, 28: true, 29: true, 30: true, 31: true, 32: true,
	33: true, 34: true, 35: true, 36: true, 37: true,
}

// Orphan returns the R2 result of a round-2 file for which no R1 file was
// found (section 7.1 step 1): its own cumulative values stand, flagged
// "orphan". warning is reported in native mode ("" for none).
func Orphan(r2 *Stats, warning string) *R2 {
	return &R2{Status: StatusOrphan, Warning: warning, HasRound: true, Round: r2.Round}
}

// PairFailed returns the R2 result when the R1 file paired by name, or the
// R2 file itself, could not be parsed (section 7.1 step 2). Compat reports
// the reader's error, even when the R2 file alone is fine (S6); native
// treats a readable R2 as an orphan with a warning. r2 may be nil when the
// R2 file itself failed.
func PairFailed(r2 *Stats, r1File string, opt Options) *R2 {
	if opt.Mode == Native && r2 != nil {
		return Orphan(r2, "round-1 file "+r1File+" could not be parsed")
	}
	return &R2{Status: StatusError, Error: "pair_unparseable", ErrorDetail: "failed to parse round files"}
}

// Differential computes the R2-only values of r2 by subtracting r1 (section
// 7.1 steps 3–5). Both must be successfully parsed files; r1 must be the
// file chosen by PairR1. The result has status "differential" (a nil r1
// gives Orphan(r2, ""), a nil r2 an error result).
//
// Native mode departs from the reader where reader-differences.md says so:
// bots are keyed by name (S1), a GUID prefix shared by several players is
// resolved by name (S3), and the ratio fields dpm and tank_meatshield are
// reported unknown while kd_ratio is recomputed (S4).
func Differential(r1, r2 *Stats, opt Options) *R2 {
	switch {
	case r2 == nil:
		return PairFailed(nil, "", opt)
	case r1 == nil:
		return Orphan(r2, "")
	}
	native := opt.Mode == Native
	idx := newR1Index(r1, r2, native)
	out := &R2{Status: StatusDifferential, R1File: r1.File.Name, HasRound: true}
	out.Players = make([]DiffPlayer, 0, len(r2.Players))
	out.MatchSummary = make([]SummaryPlayer, 0, len(r2.Players))
	for i := range r2.Players {
		p2 := &r2.Players[i]
		p1 := idx.lookup(p2)
		out.Players = append(out.Players, diffPlayer(p1, p2, native))
		out.MatchSummary = append(out.MatchSummary, summaryPlayer(p1, p2))
	}

	// Round-level values: MVP over the differential players, counts and
	// outcome from the R2 parse, stopwatch recomputed as round 2.
	r := &out.Round
	*r = r2.Round
	r.TotalPlayers = len(out.Players)
	r.HasMVP, r.MVP = false, ""
	best := 0.0
	for i := range out.Players {
		d := &out.Players[i]
		if s := mvpScore(d.KDRatio, d.Efficiency, d.DamageGiven); s > best {
			best = s
			r.HasMVP, r.MVP = true, d.Name
		}
	}
	lim, limOK, _ := contractTimeSeconds(r2.Header.Timelimit)
	act, actOK, _ := contractTimeSeconds(r2.Header.ActualTime)
	stopwatch(r, 2, roundTimes{lim: lim, limOK: limOK, act: act, actOK: actOK})
	return out
}

// r1Index finds the R1 row of an R2 player.
type r1Index struct {
	byGUID map[string][]*Player
	native bool
	// ambiguous (native): GUIDs that occur more than once in R1 or in R2.
	ambiguous map[string]bool
}

func newR1Index(r1, r2 *Stats, native bool) *r1Index {
	x := &r1Index{byGUID: make(map[string][]*Player, len(r1.Players)), native: native}
	for i := range r1.Players {
		p := &r1.Players[i]
		x.byGUID[p.GUID] = append(x.byGUID[p.GUID], p)
	}
	if native {
		x.ambiguous = map[string]bool{}
		seen := make(map[string]bool, len(r2.Players))
		for i := range r2.Players {
			g := r2.Players[i].GUID
			if seen[g] {
				x.ambiguous[g] = true
			}
			seen[g] = true
		}
		for g, ps := range x.byGUID {
			if len(ps) > 1 {
				x.ambiguous[g] = true
			}
		}
	}
	return x
}

// lookup returns the R1 row for p2, or nil. Compat: the last R1 row with
// the same effective GUID. Native: the same, except that an ambiguous GUID
// is matched on (GUID, clean name) (S3).
func (x *r1Index) lookup(p2 *Player) *Player {
	ps := x.byGUID[p2.GUID]
	if len(ps) == 0 {
		return nil
	}
	if !x.native || !x.ambiguous[p2.GUID] {
		return ps[len(ps)-1]
	}
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].Name == p2.Name {
			return ps[i]
		}
	}
	return nil
}

func max0i(v int) int {
	if v > 0 {
		return v
	}
	return 0
}

// max0 is Python max(0, v): NaN gives 0.
func max0(v float64) float64 {
	if v > 0 {
		return v
	}
	return 0
}

func diffPlayer(p1, p2 *Player, native bool) DiffPlayer {
	d := DiffPlayer{GUID: p2.GUID, Name: p2.Name, Team: p2.Team,
		NameRaw: p2.NameRaw, IsBot: p2.IsBot, Rounds: p2.Rounds, ResetFields: []string{}}
	if p1 == nil {
		d.Source = SourceR2Only
		d.Kills, d.Deaths, d.Headshots = p2.Kills, p2.Deaths, p2.Headshots
		d.ShotsTotal, d.HitsTotal = p2.ShotsTotal, p2.HitsTotal
		d.DamageGiven, d.DamageReceived = p2.DamageGiven, p2.DamageReceived
		d.Accuracy, d.KDRatio, d.Efficiency, d.DPM = p2.Accuracy, p2.KDRatio, p2.Efficiency, p2.DPM
		d.TimePlayedSeconds, d.TimePlayedMinutes = p2.TimePlayedSeconds, p2.TimePlayedMinutes
		d.Weapons = p2.Weapons
		if p2.Extended != nil {
			e := *p2.Extended
			d.Extended = &e
		}
		return d
	}

	var e1, e2 Extended // zero when a line has no TAB section
	if p1.Extended != nil {
		e1 = *p1.Extended
	}
	if p2.Extended != nil {
		e2 = *p2.Extended
	}
	check := func(name string, v1, v2 float64) {
		if v2 < v1 {
			d.ResetFields = append(d.ResetFields, name)
		}
	}
	check("kills", float64(p1.Kills), float64(p2.Kills))
	check("deaths", float64(p1.Deaths), float64(p2.Deaths))
	check("damage_given", float64(p1.DamageGiven), float64(p2.DamageGiven))
	check("damage_received", float64(p1.DamageReceived), float64(p2.DamageReceived))
	check("objective.time_played_minutes", e1.TimePlayedMinutes, e2.TimePlayedMinutes)
	check("objective.damage_given", float64(e1.DamageGiven), float64(e2.DamageGiven))
	check("objective.damage_received", float64(e1.DamageReceived), float64(e2.DamageReceived))
	raw := len(d.ResetFields) > 0
	if raw {
		d.Source = SourceResetFallback
	} else {
		d.Source = SourceDifferential
	}
	sub := func(a2, a1 int) int {
		if raw {
			return max0i(a2)
		}
		return max0i(a2 - a1)
	}
	subf := func(a2, a1 float64) float64 {
		if raw {
			return max0(a2)
		}
		return max0(a2 - a1)
	}
	d.Kills = sub(p2.Kills, p1.Kills)
	d.Deaths = sub(p2.Deaths, p1.Deaths)
	d.DamageGiven = sub(p2.DamageGiven, p1.DamageGiven)
	d.DamageReceived = sub(p2.DamageReceived, p1.DamageReceived)

	var de Extended
	if p2.Extended != nil {
		for i := 0; i < 38; i++ {
			switch {
			case r2OnlyField[i]:
				if extIsFloat[i] {
					de.setFloat(i, e2.Float(i))
				} else {
					de.setInt(i, e2.Int(i))
				}
			case i == 22:
				de.TimePlayedMinutes = subf(e2.TimePlayedMinutes, e1.TimePlayedMinutes)
			case i == 8:
				if raw {
					de.TimePlayedPercent = e2.TimePlayedPercent
					break
				}
				a1 := e1.TimePlayedPercent / 100 * e1.TimePlayedMinutes
				a2 := e2.TimePlayedPercent / 100 * e2.TimePlayedMinutes
				alive := max0(a2 - a1)
				span := max0(e2.TimePlayedMinutes - e1.TimePlayedMinutes)
				if span > 0 {
					de.TimePlayedPercent = pyRound1(alive / span * 100)
				}
			case extIsFloat[i]:
				de.setFloat(i, subf(e2.Float(i), e1.Float(i)))
			default:
				de.setInt(i, sub(e2.Int(i), e1.Int(i)))
			}
		}
	}
	if de.TimePlayedMinutes > 0 {
		de.TimeDeadRatio = pyRound1(de.TimeDeadMinutes / de.TimePlayedMinutes * 100)
	} else {
		de.TimeDeadRatio = 0
	}
	d.Extended = &de
	d.ExtendedOnlyDeadRatio = p2.Extended == nil

	secs, ok := pyTrunc(de.TimePlayedMinutes * 60)
	if !ok {
		secs = 0
	}
	d.TimePlayedSeconds = int(secs)
	d.TimePlayedMinutes = de.TimePlayedMinutes

	// Weapons: every weapon of the R2 line, R1 missing = zeros.
	d.Weapons = make([]Weapon, 0, len(p2.Weapons))
	for _, w2 := range p2.Weapons {
		var w1 Weapon
		for _, x := range p1.Weapons {
			if x.ID == w2.ID {
				w1 = x
				break
			}
		}
		w := Weapon{ID: w2.ID, Name: w2.Name,
			Hits: sub(w2.Hits, w1.Hits), Shots: sub(w2.Shots, w1.Shots),
			Kills: sub(w2.Kills, w1.Kills), Deaths: sub(w2.Deaths, w1.Deaths),
			Headshots: sub(w2.Headshots, w1.Headshots)}
		if w.Shots > 0 {
			w.Accuracy = float64(w.Hits) / float64(w.Shots) * 100
		}
		d.Weapons = append(d.Weapons, w)
		d.Headshots += w.Headshots
		d.ShotsTotal += w.Shots
		d.HitsTotal += w.Hits
	}
	if d.Deaths > 0 {
		d.KDRatio = float64(d.Kills) / float64(d.Deaths)
	} else {
		d.KDRatio = float64(d.Kills)
	}
	if d.TimePlayedSeconds > 0 {
		d.DPM = float64(d.DamageGiven) * 60 / float64(d.TimePlayedSeconds)
	}
	if d.Kills+d.Deaths > 0 {
		d.Efficiency = float64(d.Kills) / float64(d.Kills+d.Deaths) * 100
	}
	if d.ShotsTotal > 0 {
		d.Accuracy = float64(d.HitsTotal) / float64(d.ShotsTotal) * 100
	}
	if native && p2.Extended != nil {
		// S4: ratios cannot be differenced. kd_ratio is recomputed with the
		// writer's T26 definition from the differential counts; the writer's
		// dpm and tank_meatshield have no R2-only equivalent.
		d.RatiosUnknown = true
		de.DPM, de.TankMeatshield = 0, 0
		if d.Deaths > 0 {
			de.KDRatio = pyRound1(float64(d.Kills) / float64(d.Deaths))
		} else {
			de.KDRatio = float64(d.Kills + 1)
		}
	}
	return d
}

// summaryPlayer is one match-summary row (section 7.1 step 5).
func summaryPlayer(p1, p2 *Player) SummaryPlayer {
	s := SummaryPlayer{GUID: p2.GUID}
	if p1 == nil {
		if p2.Extended != nil {
			e := *p2.Extended
			s.Extended = &e
		}
		return s
	}
	var e Extended
	if p2.Extended != nil {
		e = *p2.Extended
		var e1 Extended
		if p1.Extended != nil {
			e1 = *p1.Extended
		}
		for i := 0; i < 38; i++ {
			if !r2OnlyField[i] {
				continue
			}
			if extIsFloat[i] {
				e.setFloat(i, e1.Float(i)+e.Float(i))
			} else {
				e.setInt(i, e1.Int(i)+e.Int(i))
			}
		}
	} else {
		s.ExtendedOnlyDeadRatio = true
	}
	if e.TimePlayedMinutes > 0 {
		e.TimeDeadRatio = pyRound1(e.TimeDeadMinutes / e.TimePlayedMinutes * 100)
	} else {
		e.TimeDeadRatio = 0
	}
	s.Extended = &e
	return s
}
