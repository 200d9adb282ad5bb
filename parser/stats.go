package parser

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseStats parses a round stats file (stats-format.md sections 3–5 and 9).
//
// name is the file's base name; it fills Stats.File and names the file in
// errors. data is not retained: every string of the result is a copy.
//
// The error is non-nil only for a file-level failure, a *ParseError whose
// Code is one of CodeTooLarge (checked first, before any parsing; matches
// ErrTooLarge), CodeInsufficientLines, CodeInvalidHeader or
// CodeNonFiniteTime. The *Stats is then still returned with File filled in,
// so a caller can report the file. Line-level problems never fail the file:
// the line is skipped and recorded in Stats.Diagnostics.
//
// ParseStats is safe for concurrent use.
func ParseStats(name string, data []byte, opt Options) (*Stats, error) {
	st := &Stats{Mode: opt.Mode}
	if len(data) > opt.maxSize() {
		st.File = newFileMeta(name, nil, false)
		st.File.Size = len(data)
		return st, tooLarge(name, len(data), opt.maxSize())
	}
	st.File = newFileMeta(name, data, !opt.SkipDigest)
	var text string
	if utf8.Valid(data) {
		text = string(data)
	} else {
		// Python's errors="ignore" (stats-format.md section 3, S18).
		text = string(dropInvalidUTF8(data))
	}
	p := statsParser{opt: opt, st: st, name: name}
	if err := p.parse(text); err != nil {
		st.Header = Header{}
		st.Players = nil
		st.Round = RoundDerived{}
		return st, err
	}
	return st, nil
}

// newFileMeta fills the file metadata of section 11; without hash (a
// refused file) SHA256 stays empty.
func newFileMeta(name string, data []byte, hash bool) FileMeta {
	m := FileMeta{
		Name:           name,
		Size:           len(data),
		IsEndstats:     strings.HasSuffix(name, endstatsSuffix),
		IsRound2ByName: strings.Contains(name, "-round-2.txt"),
	}
	if hash {
		sum := sha256.Sum256(data)
		m.SHA256 = hex.EncodeToString(sum[:])
	}
	if fn, err := ParseFileName(name); err == nil {
		m.FilenameOK = true
		m.Parsed = fn
		m.Date = name[:10]
		m.Time = name[11:17]
		m.Map = fn.Map
		m.Round = fn.Round
	}
	return m
}

// statsParser holds the state of one ParseStats call.
type statsParser struct {
	opt  Options
	st   *Stats
	name string

	// arena holds every derived string (clean names, bot GUIDs, time
	// displays). strings.Builder never rewrites bytes it has handed out,
	// so substrings of its String() stay valid as it grows.
	arena strings.Builder

	players chunks[Player]
	weapons chunks[Weapon]   // backing store for all players' Weapons
	exts    chunks[Extended] // backing store for all players' Extended
	diags   chunks[Diagnostic]

	// Weapon tokens of the current line (reused, not cleared: only the
	// first ntok entries are meaningful; bad only when !fast).
	vals [maxWeaponTokens]int64
	bad  [maxWeaponTokens]bool
}

func (p *statsParser) fail(line int, field string, code ErrorCode, msg string) error {
	return &ParseError{File: p.name, Line: line, Field: field, Code: code, Msg: msg}
}

func (p *statsParser) diag(line int, field, reason string, dropped bool) {
	p.diags.add(Diagnostic{Line: line, Field: field, Reason: reason, Dropped: dropped})
}

func (p *statsParser) parse(text string) error {
	compat := p.opt.Mode == Compat
	it := newLineIter(text)
	first, _, ok := it.next()
	if !ok {
		return p.fail(0, "", CodeInsufficientLines, "insufficient lines")
	}
	if compat && it.pos >= len(it.s) {
		// readlines() gave one line: the reader refuses a header-only
		// file (S5); native accepts it as a round with no players.
		return p.fail(0, "", CodeInsufficientLines, "insufficient lines")
	}
	if err := p.parseHeader(first); err != nil {
		return err
	}

	// Size the stores for the common case in one allocation each: a player
	// line has four backslashes. The estimate is capped so that a hostile
	// file (say, 4 MiB of backslashes) costs memory only for the players it
	// really yields; beyond the cap the stores add chunks (chunks.go).
	est := strings.Count(text[it.pos:], "\\")/4 + 1
	if est > maxPrealloc {
		est = maxPrealloc
	}
	p.players = newChunks[Player](est)
	p.exts = newChunks[Extended](est)
	p.weapons = newChunks[Weapon](est * 12)

	for {
		line, term, ok := it.next()
		if !ok {
			break
		}
		if isBlank(line) {
			continue
		}
		if strings.IndexByte(line, '\\') < 0 {
			p.diag(it.no, "", "no backslash-separated fields", true)
			continue
		}
		p.parsePlayer(line, term, it.no)
	}
	p.st.Players = p.players.all()
	p.st.Diagnostics = p.diags.all()
	if err := p.playerTimes(); err != nil {
		return err
	}
	return p.deriveRound()
}

// parseHeader reads line 1 (section 4).
func (p *statsParser) parseHeader(line string) error {
	h := &p.st.Header
	line = pyStrip(line)
	var parts [9]string
	n := 0
	rest := line
	for {
		i := strings.IndexByte(rest, '\\')
		if n < len(parts) {
			if i < 0 {
				parts[n] = rest
			} else {
				parts[n] = rest[:i]
			}
		}
		n++
		if i < 0 {
			break
		}
		rest = rest[i+1:]
	}
	if n < 8 {
		return p.fail(1, "header", CodeInvalidHeader, "invalid header format")
	}
	h.FieldCount = n
	h.ServerName = parts[0]
	h.Map = parts[1]
	h.Config = parts[2]
	h.RoundRaw = parts[3]
	h.Round = 1
	if isASCIIDigits(parts[3]) {
		h.Round = int(saturatingInt(parts[3]))
	}

	h.DefenderRaw = pyStrip(parts[4])
	h.WinnerRaw = pyStrip(parts[5])
	h.DefenderTeam = 1
	switch {
	case h.DefenderRaw == "":
		h.SideReasons = append(h.SideReasons, "defender_missing")
	case !isASCIIDigits(h.DefenderRaw):
		h.SideReasons = append(h.SideReasons, "defender_non_numeric")
	default:
		h.DefenderTeam = int(saturatingInt(h.DefenderRaw))
		if h.DefenderTeam != 1 && h.DefenderTeam != 2 {
			h.SideReasons = append(h.SideReasons, "defender_out_of_range")
		}
	}
	h.WinnerTeam = 0
	switch {
	case h.WinnerRaw == "":
		h.SideReasons = append(h.SideReasons, "winner_missing")
	case !isASCIIDigits(h.WinnerRaw):
		h.SideReasons = append(h.SideReasons, "winner_non_numeric")
	default:
		h.WinnerTeam = int(saturatingInt(h.WinnerRaw))
		if h.WinnerTeam < 0 || h.WinnerTeam > 2 {
			h.SideReasons = append(h.SideReasons, "winner_out_of_range")
		}
	}
	h.DefenderNormalized = normalizeSide(h.DefenderTeam)
	h.WinnerNormalized = normalizeSide(h.WinnerTeam)
	h.Timelimit = parts[6]
	h.ActualTime = parts[7]

	if n >= 9 {
		h.HasPlaytime = true
		h.PlaytimeRaw = parts[8]
		if v, ok := pyFloat(parts[8]); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			if v > 0 {
				h.PlaytimeKnown = true
				if v > 10000 {
					v /= 1000
				}
				h.PlaytimeSeconds = v
			} else if v < 0 && p.opt.Mode == Native {
				// S15: the shutdown save path never set roundEnd.
				p.st.Aborted = true
			}
		}
	}

	// round_time_seconds (section 4).
	compat := p.opt.Mode == Compat
	if h.PlaytimeKnown {
		rt, _ := pyTrunc(h.PlaytimeSeconds)
		if h.PlaytimeSeconds >= 9.2e18 {
			rt = math.MaxInt64
		}
		h.RoundTimeSeconds = int(rt)
	} else {
		rt, inf := classTimeSeconds(h.ActualTime)
		if inf && compat {
			return p.fail(1, "H8 actual_time", CodeNonFiniteTime, "exception: cannot convert float infinity to integer")
		}
		if rt == 0 {
			rt = 300
		}
		h.RoundTimeSeconds = int(rt)
	}
	tl, inf := classTimeSeconds(h.Timelimit)
	if inf && compat {
		return p.fail(1, "H7 timelimit", CodeNonFiniteTime, "exception: cannot convert float infinity to integer")
	}
	if tl > 0 && int64(h.RoundTimeSeconds) > tl {
		h.RoundTimeSeconds = int(tl)
	}
	return nil
}

// saturatingInt parses ASCII digits, saturating at MaxInt64 (Python's ints
// are unbounded; values this large cannot come from the writer).
func saturatingInt(s string) int64 {
	var v int64
	for i := 0; i < len(s); i++ {
		d := int64(s[i] - '0')
		if v > (math.MaxInt64-d)/10 {
			return math.MaxInt64
		}
		v = v*10 + d
	}
	return v
}

// normalizeSide maps a side to 1 (Axis), 2 (Allies) or 0 (unknown).
func normalizeSide(v int) int {
	if v == 1 || v == 2 {
		return v
	}
	return 0
}

// maxPrealloc caps the player estimate used to preallocate (a server has
// at most 64 client slots).
const maxPrealloc = 64

// maxWeaponTokens is the mask plus 28 five-tuples; tokens beyond are ignored.
const maxWeaponTokens = 1 + 5*WeaponCount

// parsePlayer reads one player line (section 9.1–9.3). A line that yields
// no player gets a Dropped diagnostic.
func (p *statsParser) parsePlayer(line string, terminated bool, lineNo int) {
	compat := p.opt.Mode == Compat
	// Five backslash-separated parts; parts beyond the fifth are ignored.
	var parts [5]string
	rest := line
	for n := 0; n < 4; n++ {
		i := strings.IndexByte(rest, '\\')
		if i < 0 {
			p.diag(lineNo, "", "fewer than 5 backslash-separated fields", true)
			return
		}
		parts[n] = rest[:i]
		rest = rest[i+1:]
	}
	// The reader splits the line with its newline; the newline belongs to
	// the fifth part only when that part is the last one.
	lastPart := true
	if i := strings.IndexByte(rest, '\\'); i >= 0 {
		rest = rest[:i]
		lastPart = false
	}
	parts[4] = rest

	stats := parts[4]
	weaponSec := stats
	extSec := ""
	hasTab := false
	if i := strings.IndexByte(stats, '\t'); i >= 0 {
		hasTab = true
		weaponSec = stats[:i]
		extSec = stats[i+1:]
	}

	// Weapon tokens: a fast path for the writer's format (ASCII digits and
	// single spaces), the general Python rules otherwise.
	vals, bad := &p.vals, &p.bad
	ntok, fast := scanDigitTokens(weaponSec, vals)
	if !fast {
		ntok = 0
		for r := weaponSec; ; {
			var t string
			t, r = nextField(r)
			if t == "" {
				break
			}
			if ntok < maxWeaponTokens {
				v, ok := pyInt(t)
				vals[ntok], bad[ntok] = v, !ok
			}
			ntok++
			if ntok > maxWeaponTokens {
				break // extra tokens are ignored; the count no longer matters
			}
		}
	}
	if ntok < 6 {
		p.diag(lineNo, "weapons", "fewer than 6 weapon tokens", true)
		return
	}
	if ntok > maxWeaponTokens {
		ntok = maxWeaponTokens
	}
	if !fast && bad[0] {
		p.diag(lineNo, "weapon mask", "weapon mask is not an integer", true)
		return
	}
	mask := vals[0]

	var pl Player
	pl.LineNo = lineNo
	pl.WeaponMask = mask
	p.weapons.reserve(WeaponCount)
	wstart := len(p.weapons.cur)
	idx := 1
	var kills, deaths, hs, shots, hits int
	for id := 0; id < WeaponCount; id++ {
		if mask&(1<<uint(id)) == 0 {
			continue
		}
		if idx+4 >= ntok {
			p.diag(lineNo, WeaponNames[id], "weapon bit set but fewer than 5 values left", false)
			continue
		}
		v := vals[idx : idx+5 : idx+5]
		if !fast && (bad[idx] || bad[idx+1] || bad[idx+2] || bad[idx+3] || bad[idx+4]) {
			p.weapons.cur = p.weapons.cur[:wstart]
			p.diag(lineNo, WeaponNames[id], "weapon value is not an integer", true)
			return
		}
		w := Weapon{ID: id, Name: WeaponNames[id], Hits: int(v[0]), Shots: int(v[1]),
			Kills: int(v[2]), Deaths: int(v[3]), Headshots: int(v[4])}
		if w.Shots > 0 {
			w.Accuracy = float64(w.Hits) / float64(w.Shots) * 100
		}
		p.weapons.cur = append(p.weapons.cur, w) // room reserved above
		kills += w.Kills
		deaths += w.Deaths
		hs += w.Headshots
		shots += w.Shots
		hits += w.Hits
		idx += 5
	}
	end := len(p.weapons.cur)
	pl.Weapons = p.weapons.cur[wstart:end:end]
	pl.Kills, pl.Deaths, pl.Headshots, pl.ShotsTotal, pl.HitsTotal = kills, deaths, hs, shots, hits
	if deaths > 0 {
		pl.KDRatio = float64(kills) / float64(deaths)
	} else {
		pl.KDRatio = float64(kills)
	}
	if shots > 0 {
		pl.Accuracy = float64(hits) / float64(shots) * 100
	}
	if kills+deaths > 0 {
		pl.Efficiency = float64(kills) / float64(kills+deaths) * 100
	}

	// Extended section: present when there is a TAB and something after it
	// (the reader's section string still holds the newline).
	if hasTab && (extSec != "" || (terminated && lastPart)) {
		e := p.exts.add(Extended{})
		p.parseExtended(e, extSec, lineNo)
		pl.Extended = e
		pl.DamageGiven = e.DamageGiven
		pl.DamageReceived = e.DamageReceived
	}

	// Identity.
	pl.GUIDRaw = parts[0]
	pl.NameRaw = parts[1]
	if isASCIIDigits(parts[2]) {
		pl.Rounds = int(saturatingInt(parts[2]))
	}
	if isASCIIDigits(parts[3]) {
		pl.Team = int(saturatingInt(parts[3]))
	}
	if compat {
		pl.Name = p.stripColors(pl.NameRaw, compatColorCode)
	} else {
		pl.Name = p.stripColors(pl.NameRaw, etColorCode)
	}
	guid8 := firstRunes(pl.GUIDRaw, 8)
	if compat {
		pl.IsBot = p.botByName(pl.Name)
	} else {
		pl.IsBot = len(guid8) >= 7 && strings.EqualFold(guid8[:7], "OMNIBOT")
	}
	switch {
	case pl.IsBot && (pl.Name != "" || !compat):
		if guid8 == "" {
			guid8 = "?"
		}
		sum := sha256.Sum256([]byte(pl.Name))
		var hx [64]byte
		hex.Encode(hx[:], sum[:])
		start := p.arena.Len()
		p.arena.WriteString(guid8)
		p.arena.Write(hx[:24])
		pl.GUID = p.arena.String()[start:]
	case guid8 == "":
		pl.GUID = "?"
	default:
		pl.GUID = guid8
	}
	p.players.add(pl)
}

// extIsFloat says which extended fields are floats (section 5.1).
var extIsFloat = [38]bool{8: true, 21: true, 22: true, 23: true, 24: true, 25: true, 26: true}

// ExtendedKeys are the canonical keys of T0–T37 in field order.
var ExtendedKeys = [38]string{
	"damage_given", "damage_received", "team_damage_given", "team_damage_received", "gibs",
	"self_kills", "team_kills", "team_gibs", "time_played_percent", "xp", "killing_spree",
	"death_spree", "kill_assists", "kill_steals", "headshot_kills", "objectives_stolen",
	"objectives_returned", "dynamites_planted", "dynamites_defused", "times_revived",
	"bullets_fired", "dpm", "time_played_minutes", "tank_meatshield", "time_dead_ratio",
	"time_dead_minutes", "kd_ratio", "useful_kills", "denied_playtime", "multikill_2x",
	"multikill_3x", "multikill_4x", "multikill_5x", "multikill_6x", "useless_kills",
	"full_selfkills", "repairs_constructions", "revives_given",
}

// parseExtended reads the TAB section into e (section 9.3). Fields made of
// ASCII digits with at most one "." and 15 digits are read in place (exact:
// see pyFloat); anything else goes through the Python rules.
func (p *statsParser) parseExtended(e *Extended, sec string, lineNo int) {
	var v [38]float64 // integer fields hold exact small ints or are set below
	var iv [38]int64
	p.scanExtended(sec, lineNo, &iv, &v)
	e.assign(&iv, &v)
}

func (p *statsParser) scanExtended(sec string, lineNo int, ivs *[38]int64, fvs *[38]float64) {
	pos := 0
	for i := 0; i < 38; i++ {
		if pos > len(sec) {
			p.diag(lineNo, "extended", "fewer than 38 extended fields", false)
			return
		}
		start := pos
		var m uint64
		digits, frac := 0, -1
		simple := true
		j := pos
		for ; j < len(sec); j++ {
			c := sec[j]
			if d := c - '0'; d <= 9 {
				m = m*10 + uint64(d)
				digits++
				if frac >= 0 {
					frac++
				}
				continue
			}
			if c == '\t' {
				break
			}
			if c == '.' && frac < 0 {
				frac = 0
				continue
			}
			simple = false
			if k := strings.IndexByte(sec[j:], '\t'); k >= 0 {
				j += k
			} else {
				j = len(sec)
			}
			break
		}
		pos = j + 1
		simple = simple && digits > 0 && digits <= 15
		if extIsFloat[i] {
			var v float64
			if simple {
				v = float64(m)
				if frac > 0 {
					v /= pow10tab[frac]
				}
			} else {
				var ok bool
				v, ok = pyFloat(sec[start:j])
				if !ok {
					p.diag(lineNo, ExtendedKeys[i], "not a number, read as 0", false)
					v = 0
				}
				if i == 22 && math.IsInf(v, 0) && p.opt.Mode == Native {
					// S7: an infinite time would fail the whole file in compat.
					p.diag(lineNo, ExtendedKeys[i], "infinite, read as 0", false)
					v = 0
				}
			}
			fvs[i] = v
			continue
		}
		var v int64
		if simple && frac < 0 {
			v = int64(m)
		} else {
			var ok bool
			v, ok = pyInt(sec[start:j])
			if !ok {
				p.diag(lineNo, ExtendedKeys[i], "not an integer, read as 0", false)
				v = 0
			}
		}
		ivs[i] = v
	}
}

// assign sets all 38 fields from the scanned values (T order).
func (e *Extended) assign(iv *[38]int64, fv *[38]float64) {
	*e = Extended{
		DamageGiven: int(iv[0]), DamageReceived: int(iv[1]), TeamDamageGiven: int(iv[2]),
		TeamDamageReceived: int(iv[3]), Gibs: int(iv[4]), SelfKills: int(iv[5]), TeamKills: int(iv[6]),
		TeamGibs: int(iv[7]), TimePlayedPercent: fv[8], XP: int(iv[9]), KillingSpree: int(iv[10]),
		DeathSpree: int(iv[11]), KillAssists: int(iv[12]), KillSteals: int(iv[13]),
		HeadshotKills: int(iv[14]), ObjectivesStolen: int(iv[15]), ObjectivesReturned: int(iv[16]),
		DynamitesPlanted: int(iv[17]), DynamitesDefused: int(iv[18]), TimesRevived: int(iv[19]),
		BulletsFired: int(iv[20]), DPM: fv[21], TimePlayedMinutes: fv[22], TankMeatshield: fv[23],
		TimeDeadRatio: fv[24], TimeDeadMinutes: fv[25], KDRatio: fv[26], UsefulKills: int(iv[27]),
		DeniedPlaytime: int(iv[28]), Multikill2x: int(iv[29]), Multikill3x: int(iv[30]),
		Multikill4x: int(iv[31]), Multikill5x: int(iv[32]), Multikill6x: int(iv[33]),
		UselessKills: int(iv[34]), FullSelfkills: int(iv[35]), RepairsConstructions: int(iv[36]),
		RevivesGiven: int(iv[37]),
	}
}

// scanDigitTokens reads s as space-separated runs of at most 18 ASCII
// digits into vals (the first len(vals)), returning the token count. fast
// is false when s holds anything else; the caller then applies the Python
// rules.
func scanDigitTokens(s string, vals *[maxWeaponTokens]int64) (n int, fast bool) {
	i := 0
	for i < len(s) {
		c := s[i]
		if c == ' ' {
			i++
			continue
		}
		d := c - '0' // wraps for bytes below '0': one comparison per byte
		if d > 9 {
			return 0, false
		}
		start := i
		v := int64(d)
		i++
		for i < len(s) {
			d = s[i] - '0'
			if d > 9 {
				break
			}
			v = v*10 + int64(d)
			i++
		}
		if i-start > 18 || (i < len(s) && s[i] != ' ') {
			return 0, false
		}
		if n < maxWeaponTokens {
			vals[n] = v
		}
		n++
		if n > maxWeaponTokens {
			return n, true
		}
	}
	return n, true
}

// playerTimes fills the per-player time and DPM (section 9.4).
func (p *statsParser) playerTimes() error {
	rt := p.st.Header.RoundTimeSeconds
	for i := range p.st.Players {
		pl := &p.st.Players[i]
		secs := int64(rt)
		if pl.Extended != nil && pl.Extended.TimePlayedMinutes > 0 {
			prod := pl.Extended.TimePlayedMinutes * 60
			if math.IsInf(prod, 0) {
				// Only compat gets here (native read +Inf as 0).
				return p.fail(pl.LineNo, "T22 time_played_minutes", CodeNonFiniteTime,
					"exception: cannot convert float infinity to integer")
			}
			v, ok := pyTrunc(prod)
			if !ok {
				v = math.MaxInt64 / 2
			}
			secs = v
		}
		pl.TimePlayedSeconds = int(secs)
		pl.TimePlayedMinutes = float64(secs) / 60
		pl.TimeDisplay = p.timeDisplay(secs)
		if secs > 0 {
			pl.DPM = float64(pl.DamageGiven) * 60 / float64(secs)
		}
	}
	return nil
}

// timeDisplay formats seconds as Python f"{s//60}:{s%60:02d}".
func (p *statsParser) timeDisplay(secs int64) string {
	var buf [32]byte
	b := strconv.AppendInt(buf[:0], floorDiv(secs, 60), 10)
	m := floorMod(secs, 60)
	b = append(b, ':', byte('0'+m/10), byte('0'+m%10))
	start := p.arena.Len()
	p.arena.Write(b)
	return p.arena.String()[start:]
}

// stripColors removes colour codes: each "^" followed by a code, where
// code(rest) gives the length of the code at the start of rest (0: not a
// code, and the "^" is kept), scanning left to right.
func (p *statsParser) stripColors(s string, code func(rest string) int) string {
	i := strings.IndexByte(s, '^')
	if i < 0 {
		return s
	}
	start := p.arena.Len()
	for i >= 0 {
		if n := code(s[i+1:]); n > 0 {
			p.arena.WriteString(s[:i])
			s = s[i+1+n:]
		} else {
			p.arena.WriteString(s[:i+1])
			s = s[i+1:]
		}
		i = strings.IndexByte(s, '^')
	}
	p.arena.WriteString(s)
	return p.arena.String()[start:]
}

// compatColorCode is the reference reader's rule (S12): "^" + [0-9A-Za-z].
func compatColorCode(rest string) int {
	if rest != "" && isAlnum(rest[0]) {
		return 1
	}
	return 0
}

// etColorCode is the engine's rule (native, S12): "^" + any character
// except "^" and NUL. The character is a whole UTF-8 sequence so the result
// stays valid UTF-8.
func etColorCode(rest string) int {
	if rest == "" || rest[0] == '^' || rest[0] == 0 {
		return 0
	}
	_, n := utf8.DecodeRuneInString(rest)
	return n
}

func isAlnum(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// botByName is the reader's rule: the trimmed clean name starts with
// "[BOT]", case-insensitive, or matches Options.BotName.
func (p *statsParser) botByName(name string) bool {
	if name == "" {
		return false
	}
	t := pyStrip(name)
	if p.opt.BotName != nil {
		return p.opt.BotName.MatchString(t)
	}
	return len(t) >= 5 && strings.EqualFold(t[:5], "[BOT]")
}

// firstRunes returns the first n characters of s (Python s[:n]).
func firstRunes(s string, n int) string {
	i := 0
	for k := 0; k < n && i < len(s); k++ {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		_, sz := utf8.DecodeRuneInString(s[i:])
		i += sz
	}
	return s[:i]
}

// classTimeSeconds is the reader's time parser used for the round time:
// "M:SS" (first two parts), decimal minutes when the text has a ".", else
// integer seconds; 0 when unparsable. inf reports the reader's
// OverflowError (an infinite value converted to an integer).
func classTimeSeconds(s string) (secs int64, inf bool) {
	t := pyStrip(s)
	if t == "" {
		return 0, false
	}
	if i := strings.IndexByte(t, ':'); i >= 0 {
		rest := t[i+1:]
		if j := strings.IndexByte(rest, ':'); j >= 0 {
			rest = rest[:j]
		}
		m, ok1 := pyInt(t[:i])
		sec, ok2 := pyInt(rest)
		if !ok1 || !ok2 {
			return 0, false
		}
		return m*60 + sec, false
	}
	if strings.IndexByte(t, '.') >= 0 {
		f, ok := pyFloat(t)
		if !ok {
			return 0, false
		}
		prod := f * 60
		if math.IsInf(prod, 0) {
			return 0, true
		}
		v, ok := pyTrunc(prod)
		if !ok {
			return 0, false
		}
		return v, false
	}
	v, ok := pyInt(t)
	if !ok {
		return 0, false
	}
	return v, false
}

// contractTimeSeconds is the round-contract time parser: "M:SS",
// "H:M:S", decimal minutes or plain (float) seconds; ok is false for null.
// inf reports the reader's OverflowError.
func contractTimeSeconds(s string) (secs int64, ok, inf bool) {
	t := pyStrip(s)
	if t == "" {
		return 0, false, false
	}
	if strings.IndexByte(t, ':') >= 0 {
		parts := strings.Split(t, ":")
		var v [3]int64
		if len(parts) != 2 && len(parts) != 3 {
			return 0, false, false
		}
		for i, x := range parts {
			n, ok := pyInt(x)
			if !ok {
				return 0, false, false
			}
			v[i] = n
		}
		if len(parts) == 2 {
			return v[0]*60 + v[1], true, false
		}
		return v[0]*3600 + v[1]*60 + v[2], true, false
	}
	f, ok := pyFloat(t)
	if !ok {
		return 0, false, false
	}
	if strings.IndexByte(t, '.') >= 0 {
		f *= 60
	}
	if math.IsInf(f, 0) {
		return 0, false, true
	}
	v, ok := pyTrunc(f)
	if !ok {
		return 0, false, false
	}
	return v, true, false
}

// setInt and setFloat assign field i of the T0–T37 order.
func (e *Extended) setInt(i int, v int) {
	switch i {
	case 0:
		e.DamageGiven = v
	case 1:
		e.DamageReceived = v
	case 2:
		e.TeamDamageGiven = v
	case 3:
		e.TeamDamageReceived = v
	case 4:
		e.Gibs = v
	case 5:
		e.SelfKills = v
	case 6:
		e.TeamKills = v
	case 7:
		e.TeamGibs = v
	case 9:
		e.XP = v
	case 10:
		e.KillingSpree = v
	case 11:
		e.DeathSpree = v
	case 12:
		e.KillAssists = v
	case 13:
		e.KillSteals = v
	case 14:
		e.HeadshotKills = v
	case 15:
		e.ObjectivesStolen = v
	case 16:
		e.ObjectivesReturned = v
	case 17:
		e.DynamitesPlanted = v
	case 18:
		e.DynamitesDefused = v
	case 19:
		e.TimesRevived = v
	case 20:
		e.BulletsFired = v
	case 27:
		e.UsefulKills = v
	case 28:
		e.DeniedPlaytime = v
	case 29:
		e.Multikill2x = v
	case 30:
		e.Multikill3x = v
	case 31:
		e.Multikill4x = v
	case 32:
		e.Multikill5x = v
	case 33:
		e.Multikill6x = v
	case 34:
		e.UselessKills = v
	case 35:
		e.FullSelfkills = v
	case 36:
		e.RepairsConstructions = v
	case 37:
		e.RevivesGiven = v
	}
}

func (e *Extended) setFloat(i int, v float64) {
	switch i {
	case 8:
		e.TimePlayedPercent = v
	case 21:
		e.DPM = v
	case 22:
		e.TimePlayedMinutes = v
	case 23:
		e.TankMeatshield = v
	case 24:
		e.TimeDeadRatio = v
	case 25:
		e.TimeDeadMinutes = v
	case 26:
		e.KDRatio = v
	}
}

// Int returns field i (0–37) of an integer field, and Float of a float
// field, in T order; IsFloat says which. They let generic code (the
// canonical JSON, a store) walk the 38 fields without reflection.
func (e *Extended) Int(i int) int {
	switch i {
	case 0:
		return e.DamageGiven
	case 1:
		return e.DamageReceived
	case 2:
		return e.TeamDamageGiven
	case 3:
		return e.TeamDamageReceived
	case 4:
		return e.Gibs
	case 5:
		return e.SelfKills
	case 6:
		return e.TeamKills
	case 7:
		return e.TeamGibs
	case 9:
		return e.XP
	case 10:
		return e.KillingSpree
	case 11:
		return e.DeathSpree
	case 12:
		return e.KillAssists
	case 13:
		return e.KillSteals
	case 14:
		return e.HeadshotKills
	case 15:
		return e.ObjectivesStolen
	case 16:
		return e.ObjectivesReturned
	case 17:
		return e.DynamitesPlanted
	case 18:
		return e.DynamitesDefused
	case 19:
		return e.TimesRevived
	case 20:
		return e.BulletsFired
	case 27:
		return e.UsefulKills
	case 28:
		return e.DeniedPlaytime
	case 29:
		return e.Multikill2x
	case 30:
		return e.Multikill3x
	case 31:
		return e.Multikill4x
	case 32:
		return e.Multikill5x
	case 33:
		return e.Multikill6x
	case 34:
		return e.UselessKills
	case 35:
		return e.FullSelfkills
	case 36:
		return e.RepairsConstructions
	case 37:
		return e.RevivesGiven
	}
	return 0
}

// Float returns float field i (8, 21–26) in T order; 0 for others.
func (e *Extended) Float(i int) float64 {
	switch i {
	case 8:
		return e.TimePlayedPercent
	case 21:
		return e.DPM
	case 22:
		return e.TimePlayedMinutes
	case 23:
		return e.TankMeatshield
	case 24:
		return e.TimeDeadRatio
	case 25:
		return e.TimeDeadMinutes
	case 26:
		return e.KDRatio
	}
	return 0
}

// ExtendedIsFloat reports whether field i (0–37) is a float field.
func ExtendedIsFloat(i int) bool { return i >= 0 && i < 38 && extIsFloat[i] }
