package parser

import "math"

// Round-level values of stats-format.md section 9.5 (the reference reader's
// round contract).

// deriveRound fills Stats.Round from the header and players.
func (p *statsParser) deriveRound() error {
	st := p.st
	h := &st.Header
	lim, limOK, limInf := contractTimeSeconds(h.Timelimit)
	act, actOK, actInf := contractTimeSeconds(h.ActualTime)
	if (limInf || actInf) && p.opt.Mode == Compat {
		field := "H7 timelimit"
		if !limInf {
			field = "H8 actual_time"
		}
		return p.fail(1, field, CodeNonFiniteTime, "exception: cannot convert float infinity to integer")
	}
	t := roundTimes{lim: lim, limOK: limOK, act: act, actOK: actOK}

	r := &st.Round
	for i := range st.Players {
		if st.Players[i].IsBot {
			r.BotPlayerCount++
		}
	}
	r.TotalPlayers = len(st.Players)
	r.HumanPlayerCount = r.TotalPlayers - r.BotPlayerCount
	r.IsBotRound = isBotRound(r.BotPlayerCount, r.HumanPlayerCount)
	best := -1
	bestScore := 0.0
	for i := range st.Players {
		pl := &st.Players[i]
		if s := mvpScore(pl.KDRatio, pl.Efficiency, pl.DamageGiven); s > bestScore {
			best, bestScore = i, s
		}
	}
	if best >= 0 {
		r.HasMVP, r.MVP = true, st.Players[best].Name
	}
	r.ScoreConfidence = scoreConfidence(h)
	r.RoundOutcome = roundOutcome(h, r.ScoreConfidence, h.Round, t)
	stopwatch(r, h.Round, t)
	return nil
}

// roundTimes are H7 and H8 parsed by contractTimeSeconds.
type roundTimes struct {
	lim, act     int64
	limOK, actOK bool
}

func isBotRound(bots, humans int) bool {
	return bots > 0 && (humans == 0 || bots > humans)
}

func mvpScore(kd, eff float64, damage int) float64 {
	return kd*10 + eff + float64(damage)/100
}

// scoreConfidence is "ambiguous", "verified_header" or "missing".
func scoreConfidence(h *Header) string {
	for _, r := range h.SideReasons {
		if r == "defender_non_numeric" || r == "winner_non_numeric" ||
			r == "defender_out_of_range" || r == "winner_out_of_range" {
			return "ambiguous"
		}
	}
	d, w := h.DefenderNormalized, h.WinnerNormalized
	if d != 0 && w != 0 && len(h.SideReasons) == 0 {
		return "verified_header"
	}
	if d == 0 || w == 0 {
		return "missing"
	}
	return "ambiguous"
}

// roundOutcome is "Fullhold", "Completed" or "Unknown".
func roundOutcome(h *Header, confidence string, round int, t roundTimes) string {
	d, w := h.DefenderNormalized, h.WinnerNormalized
	if (confidence == "verified_header" || confidence == "time_fallback") && d != 0 && w != 0 {
		if w == d {
			return "Fullhold"
		}
		return "Completed"
	}
	act, actOK := t.act, t.actOK
	if h.ActualTime == "Unknown" {
		act, actOK = 600, true
	}
	if round == 2 && h.ActualTime == "0:00" {
		return "Unknown"
	}
	if !t.limOK || !actOK {
		return "Unknown"
	}
	if t.lim-act <= 30 {
		return "Fullhold"
	}
	return "Completed"
}

// stopwatch fills the stopwatch contract for the given round number.
func stopwatch(r *RoundDerived, round int, t roundTimes) {
	r.StopwatchState = ""
	r.HasTimeToBeat, r.TimeToBeatSeconds = false, 0
	r.HasNextTimelimit, r.NextTimelimitMinutes = false, 0
	if !t.limOK || !t.actOK {
		return
	}
	hold := t.lim - 30
	if hold < 0 {
		hold = 0
	}
	if t.act >= hold {
		r.StopwatchState = "FULL_HOLD"
	} else {
		r.StopwatchState = "TIME_SET"
	}
	if round != 1 {
		return
	}
	if r.StopwatchState == "TIME_SET" {
		r.HasTimeToBeat, r.TimeToBeatSeconds = true, int(t.act)
		r.HasNextTimelimit, r.NextTimelimitMinutes = true, ceilMinutes(t.act)
	} else {
		r.HasNextTimelimit, r.NextTimelimitMinutes = true, ceilMinutes(t.lim)
	}
}

// ceilMinutes is max(1, ceil(s/60)).
func ceilMinutes(s int64) int {
	m := int(math.Ceil(float64(s) / 60))
	if m < 1 {
		m = 1
	}
	return m
}
