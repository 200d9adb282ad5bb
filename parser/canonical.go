package parser

import (
	"errors"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Canonical JSON (stats-format.md section 11, endstats-format.md section 6).
// The objects are written by hand, keys in sorted order, so that the output
// is byte-stable and non-finite floats become the strings "NaN",
// "Infinity" and "-Infinity" as the format requires.

// Schema names of the canonical objects.
const (
	StatsSchema    = "etl-stats-canonical/1"
	EndstatsSchema = "etl-endstats-canonical/1"
)

// CanonicalStats returns the canonical JSON object of one stats file.
//
// st and parseErr are ParseStats' results; with a non-nil parseErr the
// object has ok:false and the error code (st may be nil only when no file
// metadata is known, in which case only the name from the error is used).
// r2 is the file's pairing result (Differential, Orphan or PairFailed), or
// nil when pairing was not done; it is written only for files whose name
// contains "-round-2.txt". In native mode the object also carries
// "aborted" (S15), and r2 carries "pair_confidence" and "warning" (S6, S10).
func CanonicalStats(st *Stats, parseErr error, r2 *R2) []byte {
	size := 4096
	if st != nil {
		size += 4096 * len(st.Players) // a player object is about 2.5 KB
		if r2 != nil {
			size += 6144 * len(r2.Players)
		}
	}
	w := &jw{b: make([]byte, 0, size)}
	var meta FileMeta
	mode := Native
	if st != nil {
		meta = st.File
		mode = st.Mode
	} else {
		var pe *ParseError
		if errors.As(parseErr, &pe) {
			meta.Name = pe.File
		}
	}
	ok := parseErr == nil && st != nil
	w.open()
	if mode == Native {
		w.key("aborted")
		w.bool(ok && st.Aborted)
	}
	w.key("error")
	if ok {
		w.null()
	} else {
		w.str(string(errorCode(parseErr)))
	}
	w.key("error_detail")
	if ok {
		w.null()
	} else {
		w.str(errorDetail(parseErr))
	}
	w.key("file")
	w.fileMeta(&meta)
	w.key("header")
	if ok {
		w.header(&st.Header)
	} else {
		w.null()
	}
	w.key("kind")
	w.str("stats")
	w.key("ok")
	w.bool(ok)
	w.key("players")
	w.openArr()
	if ok {
		for i := range st.Players {
			w.player(&st.Players[i])
		}
	}
	w.closeArr()
	w.key("r2")
	if r2 != nil && meta.IsRound2ByName {
		w.r2(r2, mode)
	} else {
		w.null()
	}
	w.key("round")
	if ok {
		w.round(&st.Round)
	} else {
		w.null()
	}
	w.key("schema")
	w.str(StatsSchema)
	w.key("skipped_lines")
	w.openArr()
	if ok {
		for _, n := range st.SkippedLines() {
			w.int(int64(n))
		}
	}
	w.closeArr()
	w.close()
	return w.b
}

func errorCode(err error) ErrorCode {
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return "other"
}

func errorDetail(err error) string {
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe.Msg
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// CanonicalEndstats returns the canonical JSON object of one endstats file.
// link is the result of LinkEndstats (nil when linking was not done or the
// file failed); it is written as {stats_file, delta_seconds}.
func CanonicalEndstats(es *Endstats, parseErr error, link *Link) []byte {
	w := &jw{b: make([]byte, 0, 4096)}
	var meta FileMeta
	if es != nil {
		meta = es.File
	} else {
		var pe *ParseError
		if errors.As(parseErr, &pe) {
			meta.Name = pe.File
		}
		meta.IsEndstats = true
	}
	ok := parseErr == nil && es != nil
	w.open()
	w.key("awards")
	w.openArr()
	if ok {
		for i := range es.Awards {
			a := &es.Awards[i]
			w.open()
			w.key("name")
			w.str(a.Title)
			w.key("numeric")
			if a.HasNumber {
				w.float(a.Number)
			} else {
				w.null()
			}
			w.key("player")
			w.str(a.Player)
			w.key("value")
			w.str(a.Value)
			w.close()
		}
	}
	w.closeArr()
	w.key("error")
	if ok {
		w.null()
	} else {
		w.str(string(errorCode(parseErr)))
	}
	w.key("file")
	w.fileMeta(&meta)
	w.key("kind")
	w.str("endstats")
	w.key("link")
	if ok && link != nil {
		w.open()
		w.key("delta_seconds")
		if link.Found {
			w.int(int64(link.DeltaSeconds))
		} else {
			w.null()
		}
		w.key("stats_file")
		if link.Found {
			w.str(link.StatsFile.Raw)
		} else {
			w.null()
		}
		w.close()
	} else {
		w.null()
	}
	w.key("meta")
	if ok {
		w.open()
		w.key("date")
		w.str(meta.Date)
		w.key("map")
		w.str(meta.Map)
		w.key("match_id")
		w.str(es.MatchID)
		w.key("round")
		w.int(int64(meta.Round))
		w.key("time")
		w.str(meta.Time)
		w.close()
	} else {
		w.null()
	}
	w.key("ok")
	w.bool(ok)
	w.key("schema")
	w.str(EndstatsSchema)
	w.key("vs")
	w.openArr()
	if ok {
		for i := range es.Versus {
			v := &es.Versus[i]
			w.open()
			w.key("deaths")
			w.int(int64(v.Deaths))
			w.key("kills")
			w.int(int64(v.Kills))
			w.key("player")
			w.str(v.Player)
			w.key("subject")
			if v.HasSubject {
				w.str(v.Subject)
			} else {
				w.null()
			}
			w.key("subject_guid")
			if v.HasSubjectGUID {
				w.str(v.SubjectGUID)
			} else {
				w.null()
			}
			w.close()
		}
	}
	w.closeArr()
	w.close()
	return w.b
}

// jw is a minimal JSON writer; the caller writes keys in sorted order.
type jw struct {
	b    []byte
	need bool // a comma is needed before the next value or key
}

func (w *jw) sep() {
	if w.need {
		w.b = append(w.b, ',')
	}
}

func (w *jw) open()     { w.sep(); w.b = append(w.b, '{'); w.need = false }
func (w *jw) close()    { w.b = append(w.b, '}'); w.need = true }
func (w *jw) openArr()  { w.sep(); w.b = append(w.b, '['); w.need = false }
func (w *jw) closeArr() { w.b = append(w.b, ']'); w.need = true }

func (w *jw) key(k string) {
	w.sep()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	w.need = false
}

func (w *jw) null()       { w.sep(); w.b = append(w.b, "null"...); w.need = true }
func (w *jw) int(v int64) { w.sep(); w.b = strconv.AppendInt(w.b, v, 10); w.need = true }

func (w *jw) bool(v bool) {
	w.sep()
	w.b = strconv.AppendBool(w.b, v)
	w.need = true
}

func (w *jw) float(f float64) {
	switch {
	case math.IsNaN(f):
		w.str("NaN")
		return
	case math.IsInf(f, 1):
		w.str("Infinity")
		return
	case math.IsInf(f, -1):
		w.str("-Infinity")
		return
	}
	w.sep()
	w.b = strconv.AppendFloat(w.b, f, 'g', -1, 64)
	w.need = true
}

const hexDigits = "0123456789abcdef"

// str writes a JSON string; invalid UTF-8 becomes U+FFFD so the output is
// always valid JSON.
func (w *jw) str(s string) {
	w.sep()
	w.b = append(w.b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				w.b = append(w.b, '\\', c)
			case c == '\n':
				w.b = append(w.b, '\\', 'n')
			case c == '\t':
				w.b = append(w.b, '\\', 't')
			case c == '\r':
				w.b = append(w.b, '\\', 'r')
			case c < 0x20 || c == 0x7f:
				w.b = append(w.b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				w.b = append(w.b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			w.b = append(w.b, "\uFFFD"...)
		} else {
			w.b = append(w.b, s[i:i+n]...)
		}
		i += n
	}
	w.b = append(w.b, '"')
	w.need = true
}

func (w *jw) fileMeta(m *FileMeta) {
	w.open()
	w.key("date")
	w.optStr(m.Date, m.FilenameOK)
	w.key("filename_ok")
	w.bool(m.FilenameOK)
	w.key("is_endstats")
	w.bool(m.IsEndstats)
	w.key("is_round2_by_name")
	w.bool(m.IsRound2ByName)
	w.key("map")
	w.optStr(m.Map, m.FilenameOK)
	w.key("name")
	w.str(m.Name)
	w.key("round")
	if m.FilenameOK {
		w.int(int64(m.Round))
	} else {
		w.null()
	}
	w.key("sha256")
	w.str(m.SHA256)
	w.key("size_bytes")
	w.int(int64(m.Size))
	w.key("time")
	w.optStr(m.Time, m.FilenameOK)
	w.close()
}

// strs writes ss as an array of strings ([] when empty).
func (w *jw) strs(ss []string) {
	w.openArr()
	for _, s := range ss {
		w.str(s)
	}
	w.closeArr()
}

func (w *jw) optStr(s string, ok bool) {
	if ok {
		w.str(s)
	} else {
		w.null()
	}
}

func (w *jw) header(h *Header) {
	w.open()
	w.key("actual_time")
	w.str(h.ActualTime)
	w.key("config")
	w.str(h.Config)
	w.key("defender_raw")
	w.str(h.DefenderRaw)
	w.key("defender_team")
	w.int(int64(h.DefenderTeam))
	w.key("defender_team_normalized")
	w.int(int64(h.DefenderNormalized))
	w.key("field_count")
	w.int(int64(h.FieldCount))
	w.key("map")
	w.str(h.Map)
	w.key("playtime_raw")
	w.optStr(h.PlaytimeRaw, h.HasPlaytime)
	w.key("playtime_seconds")
	if h.PlaytimeKnown {
		w.float(h.PlaytimeSeconds)
	} else {
		w.null()
	}
	w.key("round")
	w.int(int64(h.Round))
	w.key("round_raw")
	w.str(h.RoundRaw)
	w.key("round_time_seconds")
	w.int(int64(h.RoundTimeSeconds))
	w.key("server_name")
	w.str(h.ServerName)
	w.key("side_reasons")
	w.strs(h.SideReasons)
	w.key("timelimit")
	w.str(h.Timelimit)
	w.key("winner_raw")
	w.str(h.WinnerRaw)
	w.key("winner_team")
	w.int(int64(h.WinnerTeam))
	w.key("winner_team_normalized")
	w.int(int64(h.WinnerNormalized))
	w.close()
}

func (w *jw) weapons(ws []Weapon) {
	w.openArr()
	for i := range ws {
		x := &ws[i]
		w.open()
		w.key("accuracy")
		w.float(x.Accuracy)
		w.key("deaths")
		w.int(int64(x.Deaths))
		w.key("headshots")
		w.int(int64(x.Headshots))
		w.key("hits")
		w.int(int64(x.Hits))
		w.key("id")
		w.int(int64(x.ID))
		w.key("kills")
		w.int(int64(x.Kills))
		w.key("name")
		w.str(x.Name)
		w.key("shots")
		w.int(int64(x.Shots))
		w.close()
	}
	w.closeArr()
}

// extendedOrder lists T indexes in sorted key order.
var extendedOrder = func() [38]int {
	var idx [38]int
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx[:], func(a, b int) bool { return ExtendedKeys[idx[a]] < ExtendedKeys[idx[b]] })
	return idx
}()

// extendedJSON writes e; onlyDeadRatio writes the single key the reader
// adds to a differential row without a TAB section; nullRatios writes the
// native S4 unknowns (dpm, tank_meatshield) as null.
func (w *jw) extended(e *Extended, onlyDeadRatio, nullRatios bool) {
	if e == nil {
		w.null()
		return
	}
	w.open()
	if onlyDeadRatio {
		w.key("time_dead_ratio")
		w.float(e.TimeDeadRatio)
		w.close()
		return
	}
	for _, i := range extendedOrder {
		w.key(ExtendedKeys[i])
		switch {
		case nullRatios && (i == 21 || i == 23):
			w.null()
		case extIsFloat[i]:
			w.float(e.Float(i))
		default:
			w.int(int64(e.Int(i)))
		}
	}
	w.close()
}

// playerRow is what the canonical form writes for a player, a stats line
// (Player) or a differential row (DiffPlayer). The two objects share most
// keys; one writer (playerObj) keeps them in one sorted order. stats selects
// the keys only a stats line has (guid_raw, is_bot, line_no, name_raw,
// rounds, time_display, weapon_mask); otherwise the row has the differential
// keys (reset_fields, source).
type playerRow struct {
	stats bool

	accuracy, dpm, efficiency, kdRatio, minutes float64
	damageGiven, damageReceived, deaths         int
	headshots, hitsTotal, kills, shotsTotal     int
	team, seconds                               int
	guid, name                                  string
	weapons                                     []Weapon
	extended                                    *Extended
	onlyDeadRatio, nullRatios                   bool

	guidRaw, nameRaw, timeDisplay string
	isBot                         bool
	lineNo, rounds                int
	weaponMask                    int64

	resetFields []string
	source      DiffSource
}

func (w *jw) player(p *Player) {
	w.playerObj(&playerRow{
		stats:    true,
		accuracy: p.Accuracy, dpm: p.DPM, efficiency: p.Efficiency, kdRatio: p.KDRatio, minutes: p.TimePlayedMinutes,
		damageGiven: p.DamageGiven, damageReceived: p.DamageReceived, deaths: p.Deaths,
		headshots: p.Headshots, hitsTotal: p.HitsTotal, kills: p.Kills, shotsTotal: p.ShotsTotal,
		team: p.Team, seconds: p.TimePlayedSeconds,
		guid: p.GUID, name: p.Name, weapons: p.Weapons, extended: p.Extended,
		guidRaw: p.GUIDRaw, nameRaw: p.NameRaw, timeDisplay: p.TimeDisplay,
		isBot: p.IsBot, lineNo: p.LineNo, rounds: p.Rounds, weaponMask: p.WeaponMask,
	})
}

func (w *jw) diffPlayer(p *DiffPlayer) {
	w.playerObj(&playerRow{
		accuracy: p.Accuracy, dpm: p.DPM, efficiency: p.Efficiency, kdRatio: p.KDRatio, minutes: p.TimePlayedMinutes,
		damageGiven: p.DamageGiven, damageReceived: p.DamageReceived, deaths: p.Deaths,
		headshots: p.Headshots, hitsTotal: p.HitsTotal, kills: p.Kills, shotsTotal: p.ShotsTotal,
		team: p.Team, seconds: p.TimePlayedSeconds,
		guid: p.GUID, name: p.Name, weapons: p.Weapons, extended: p.Extended,
		onlyDeadRatio: p.ExtendedOnlyDeadRatio, nullRatios: p.RatiosUnknown,
		resetFields: p.ResetFields, source: p.Source,
	})
}

func (w *jw) playerObj(r *playerRow) {
	w.open()
	w.key("accuracy")
	w.float(r.accuracy)
	w.key("damage_given")
	w.int(int64(r.damageGiven))
	w.key("damage_received")
	w.int(int64(r.damageReceived))
	w.key("deaths")
	w.int(int64(r.deaths))
	w.key("dpm")
	w.float(r.dpm)
	w.key("efficiency")
	w.float(r.efficiency)
	w.key("extended")
	w.extended(r.extended, r.onlyDeadRatio, r.nullRatios)
	w.key("guid")
	w.str(r.guid)
	if r.stats {
		w.key("guid_raw")
		w.str(r.guidRaw)
	}
	w.key("headshots")
	w.int(int64(r.headshots))
	w.key("hits_total")
	w.int(int64(r.hitsTotal))
	if r.stats {
		w.key("is_bot")
		w.bool(r.isBot)
	}
	w.key("kd_ratio")
	w.float(r.kdRatio)
	w.key("kills")
	w.int(int64(r.kills))
	if r.stats {
		w.key("line_no")
		w.int(int64(r.lineNo))
	}
	w.key("name")
	w.str(r.name)
	if r.stats {
		w.key("name_raw")
		w.str(r.nameRaw)
		w.key("rounds")
		w.int(int64(r.rounds))
	} else {
		w.key("reset_fields")
		w.strs(r.resetFields)
	}
	w.key("shots_total")
	w.int(int64(r.shotsTotal))
	if !r.stats {
		w.key("source")
		w.str(string(r.source))
	}
	w.key("team")
	w.int(int64(r.team))
	if r.stats {
		w.key("time_display")
		w.str(r.timeDisplay)
	}
	w.key("time_played_minutes")
	w.float(r.minutes)
	w.key("time_played_seconds")
	w.int(int64(r.seconds))
	if r.stats {
		w.key("weapon_mask")
		w.int(r.weaponMask)
	}
	w.key("weapons")
	w.weapons(r.weapons)
	w.close()
}

func (w *jw) round(r *RoundDerived) {
	w.open()
	w.key("bot_player_count")
	w.int(int64(r.BotPlayerCount))
	w.key("human_player_count")
	w.int(int64(r.HumanPlayerCount))
	w.key("is_bot_round")
	w.bool(r.IsBotRound)
	w.key("mvp")
	w.optStr(r.MVP, r.HasMVP)
	w.key("next_timelimit_minutes")
	if r.HasNextTimelimit {
		w.int(int64(r.NextTimelimitMinutes))
	} else {
		w.null()
	}
	w.key("round_outcome")
	w.str(r.RoundOutcome)
	w.key("round_stopwatch_state")
	w.optStr(r.StopwatchState, r.StopwatchState != "")
	w.key("score_confidence")
	w.str(r.ScoreConfidence)
	w.key("time_to_beat_seconds")
	if r.HasTimeToBeat {
		w.int(int64(r.TimeToBeatSeconds))
	} else {
		w.null()
	}
	w.key("total_players")
	w.int(int64(r.TotalPlayers))
	w.close()
}

func (w *jw) r2(r *R2, mode Mode) {
	w.open()
	w.key("error")
	w.optStr(r.Error, r.Error != "")
	w.key("error_detail")
	w.optStr(r.ErrorDetail, r.ErrorDetail != "")
	w.key("match_summary")
	if r.Status == StatusDifferential {
		w.openArr()
		for i := range r.MatchSummary {
			m := &r.MatchSummary[i]
			w.open()
			w.key("extended")
			w.extended(m.Extended, m.ExtendedOnlyDeadRatio, false)
			w.key("guid")
			w.str(m.GUID)
			w.close()
		}
		w.closeArr()
	} else {
		w.null()
	}
	if mode == Native {
		w.key("pair_confidence")
		w.optStr(r.PairConfidence, r.PairConfidence != "")
	}
	w.key("players")
	if r.Status == StatusDifferential {
		w.openArr()
		for i := range r.Players {
			w.diffPlayer(&r.Players[i])
		}
		w.closeArr()
	} else {
		w.null()
	}
	w.key("r1_file")
	w.optStr(r.R1File, r.R1File != "")
	w.key("round")
	if r.HasRound {
		w.round(&r.Round)
	} else {
		w.null()
	}
	w.key("status")
	w.str(r.Status)
	if mode == Native {
		w.key("warning")
		w.optStr(r.Warning, r.Warning != "")
	}
	w.close()
}
