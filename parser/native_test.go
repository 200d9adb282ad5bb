package parser

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// One test per item of reader-differences.md: each shows how compat
// reproduces the reference reader and how native differs (or, for the items
// marked "same as compat", that both modes agree).

var (
	compatOpt = Options{Mode: Compat}
	nativeOpt = Options{Mode: Native}
)

// pl describes one player line for the test builder.
type pl struct {
	guid, name            string
	team                  int
	kills, deaths         int
	hits, shots           int
	dmg, dmgRecv          int
	minutes, kd, tank, wd string // T22, T26, T23, T21 as written
	extra                 map[int]string
	noExt                 bool
}

func (p pl) line() string {
	hits, shots := p.hits, p.shots
	if shots == 0 {
		hits, shots = 10, 40
	}
	s := fmt.Sprintf("%s\\%s\\0\\%d\\16 %d %d %d %d 1 ", p.guid, p.name, p.team, hits, shots, p.kills, p.deaths)
	if p.noExt {
		return s + "\n"
	}
	f := make([]string, 38)
	for i := range f {
		if extIsFloat[i] {
			f[i] = "0.0"
		} else {
			f[i] = "0"
		}
	}
	f[0], f[1] = fmt.Sprint(p.dmg), fmt.Sprint(p.dmgRecv)
	f[8] = "80.0"
	f[22] = "10.0"
	if p.minutes != "" {
		f[22] = p.minutes
	}
	if p.kd != "" {
		f[26] = p.kd
	}
	if p.tank != "" {
		f[23] = p.tank
	}
	if p.wd != "" {
		f[21] = p.wd
	}
	for i, v := range p.extra {
		f[i] = v
	}
	return s + "\t" + strings.Join(f, "\t") + "\n"
}

func statsFile(header string, players ...pl) []byte {
	var b strings.Builder
	b.WriteString(header + "\n")
	for _, p := range players {
		b.WriteString(p.line())
	}
	return []byte(b.String())
}

const (
	hdrR1 = `Srv\m\cfg\1\2\1\12:00\7:35\455000`
	hdrR2 = `Srv\m\cfg\2\1\1\7:35\74:00\455000`
)

func mustParse(t *testing.T, name string, data []byte, opt Options) *Stats {
	t.Helper()
	st, err := ParseStats(name, data, opt)
	if err != nil {
		t.Fatalf("%s (%v): %v", name, opt.Mode, err)
	}
	return st
}

// canonicalMap decodes a canonical object for inspection.
func canonicalMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("canonical JSON does not decode: %v\n%s", err, b)
	}
	return m
}

func diffByName(r *R2, name string) *DiffPlayer {
	for i := range r.Players {
		if r.Players[i].Name == name {
			return &r.Players[i]
		}
	}
	return nil
}

func TestS1BotsWithoutPrefix(t *testing.T) {
	r1 := statsFile(hdrR1,
		pl{guid: "OMNIBOT0", name: "^1Hawk", team: 1, kills: 5, deaths: 5},
		pl{guid: "OMNIBOT0", name: "Eagle", team: 2, kills: 20, deaths: 1})
	r2 := statsFile(hdrR2,
		pl{guid: "OMNIBOT0", name: "^1Hawk", team: 1, kills: 9, deaths: 8},
		pl{guid: "OMNIBOT0", name: "Eagle", team: 2, kills: 30, deaths: 3})
	for _, tc := range []struct {
		opt          Options
		bots         int
		hawkKills    int
		hawkSource   DiffSource
		distinctGUID bool
	}{
		// The reader sees two humans with one key: Hawk is diffed against
		// Eagle's R1 row (9 < 20 kills: reset fallback, raw values).
		{compatOpt, 0, 9, SourceResetFallback, false},
		// Native: OMNIBOT guid => bot, keyed by name: Hawk 9-5 = 4.
		{nativeOpt, 2, 4, SourceDifferential, true},
	} {
		s1 := mustParse(t, "2026-01-15-200000-m-round-1.txt", r1, tc.opt)
		s2 := mustParse(t, "2026-01-15-201000-m-round-2.txt", r2, tc.opt)
		if s2.Round.BotPlayerCount != tc.bots {
			t.Errorf("%v: bots = %d, want %d", tc.opt.Mode, s2.Round.BotPlayerCount, tc.bots)
		}
		if (s2.Players[0].GUID != s2.Players[1].GUID) != tc.distinctGUID {
			t.Errorf("%v: GUIDs %q %q", tc.opt.Mode, s2.Players[0].GUID, s2.Players[1].GUID)
		}
		d := diffByName(Differential(s1, s2, tc.opt), "Hawk")
		if d.Kills != tc.hawkKills || d.Source != tc.hawkSource {
			t.Errorf("%v: Hawk kills %d source %s, want %d %s", tc.opt.Mode, d.Kills, d.Source, tc.hawkKills, tc.hawkSource)
		}
	}
}

func TestS2HumanNamedBot(t *testing.T) {
	data := statsFile(hdrR1, pl{guid: "1234ABCD", name: "^7[BOT]Fake", team: 1, kills: 3, deaths: 2})
	c := mustParse(t, "2026-01-15-200000-m-round-1.txt", data, compatOpt).Players[0]
	n := mustParse(t, "2026-01-15-200000-m-round-1.txt", data, nativeOpt).Players[0]
	if !c.IsBot || len(c.GUID) != 32 || !strings.HasPrefix(c.GUID, "1234ABCD") {
		t.Errorf("compat: is_bot %v guid %q, want a bot with a name-hash GUID", c.IsBot, c.GUID)
	}
	if n.IsBot || n.GUID != "1234ABCD" {
		t.Errorf("native: is_bot %v guid %q, want a human keyed by its GUID", n.IsBot, n.GUID)
	}
}

func TestS3SharedGUIDPrefix(t *testing.T) {
	r1 := statsFile(hdrR1,
		pl{guid: "AAAA1111", name: "Alice", team: 1, kills: 10, deaths: 2, dmg: 1000, dmgRecv: 500},
		pl{guid: "AAAA1111", name: "Bob", team: 2, kills: 1, deaths: 9, dmg: 100, dmgRecv: 900})
	r2 := statsFile(hdrR2,
		pl{guid: "AAAA1111", name: "Alice", team: 1, kills: 15, deaths: 4, dmg: 1800, dmgRecv: 900, minutes: "20.0"},
		pl{guid: "AAAA1111", name: "Bob", team: 2, kills: 4, deaths: 12, dmg: 300, dmgRecv: 1300, minutes: "20.0"})
	run := func(opt Options) *R2 {
		return Differential(mustParse(t, "2026-01-15-200000-m-round-1.txt", r1, opt),
			mustParse(t, "2026-01-15-201000-m-round-2.txt", r2, opt), opt)
	}
	c, n := run(compatOpt), run(nativeOpt)
	// Compat: both diffed against Bob's row (the last R1 line of the key):
	// Alice's deaths "dropped" (4 < 9), so she falls into the reset fallback
	// with her cumulative 15/4.
	if a := diffByName(c, "Alice"); a.Kills != 15 || a.Deaths != 4 || a.Source != SourceResetFallback {
		t.Errorf("compat Alice %d/%d %s, want 15/4 reset_fallback (diffed against Bob)", a.Kills, a.Deaths, a.Source)
	}
	if a := diffByName(n, "Alice"); a.Kills != 5 || a.Deaths != 2 {
		t.Errorf("native Alice %d/%d, want 5/2", a.Kills, a.Deaths)
	}
	if b := diffByName(n, "Bob"); b.Kills != 3 || b.Deaths != 3 {
		t.Errorf("native Bob %d/%d, want 3/3", b.Kills, b.Deaths)
	}
}

func TestS4RatioFields(t *testing.T) {
	r1 := statsFile(hdrR1, pl{guid: "AAAA1111", name: "A", team: 1, kills: 10, deaths: 5, kd: "2.0", tank: "3.5", wd: "120.0"})
	r2 := statsFile(hdrR2, pl{guid: "AAAA1111", name: "A", team: 1, kills: 13, deaths: 11, minutes: "20.0", kd: "1.2", tank: "4.0", wd: "150.0"})
	run := func(opt Options) (DiffPlayer, map[string]any) {
		r := Differential(mustParse(t, "2026-01-15-200000-m-round-1.txt", r1, opt),
			mustParse(t, "2026-01-15-201000-m-round-2.txt", r2, opt), opt)
		st := mustParse(t, "2026-01-15-201000-m-round-2.txt", r2, opt)
		m := canonicalMap(t, CanonicalStats(st, nil, r))
		ext := m["r2"].(map[string]any)["players"].([]any)[0].(map[string]any)["extended"].(map[string]any)
		return r.Players[0], ext
	}
	c, cext := run(compatOpt)
	if c.Extended.KDRatio != 0 || math.Abs(c.Extended.TankMeatshield-0.5) > 1e-9 || c.Extended.DPM != 30 {
		t.Errorf("compat ratios kd %v tank %v dpm %v, want max(0, R2-R1): 0 0.5 30", c.Extended.KDRatio, c.Extended.TankMeatshield, c.Extended.DPM)
	}
	if cext["dpm"] == nil || cext["tank_meatshield"] == nil {
		t.Error("compat canonical must carry numeric dpm and tank_meatshield")
	}
	n, next := run(nativeOpt)
	// 3 kills, 6 deaths in R2: kd 0.5 (writer's T26 definition).
	if !n.RatiosUnknown || n.Extended.KDRatio != 0.5 {
		t.Errorf("native: RatiosUnknown %v kd %v, want true 0.5", n.RatiosUnknown, n.Extended.KDRatio)
	}
	if next["dpm"] != nil || next["tank_meatshield"] != nil || next["kd_ratio"] != 0.5 {
		t.Errorf("native canonical: dpm %v tank %v kd %v, want null null 0.5", next["dpm"], next["tank_meatshield"], next["kd_ratio"])
	}
}

func TestS5HeaderOnlyFile(t *testing.T) {
	data := []byte(hdrR1 + "\n")
	_, err := ParseStats("2026-01-15-200000-m-round-1.txt", data, compatOpt)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Code != CodeInsufficientLines {
		t.Errorf("compat: error %v, want insufficient_lines", err)
	}
	st, err := ParseStats("2026-01-15-200000-m-round-1.txt", data, nativeOpt)
	if err != nil || len(st.Players) != 0 || st.Header.Map != "m" {
		t.Errorf("native: %v, %+v; want a valid round with no players", err, st)
	}
	// An empty file has no header in either mode.
	if _, err := ParseStats("2026-01-15-200000-m-round-1.txt", nil, nativeOpt); err == nil {
		t.Error("native accepted an empty file")
	}
}

func TestS6UnparseableR1(t *testing.T) {
	files := []File{
		{Name: "2026-01-15-200000-m-round-1.txt", Data: []byte(hdrR1 + "\n")}, // header only
		{Name: "2026-01-15-201000-m-round-2.txt", Data: statsFile(hdrR2, pl{guid: "AAAA1111", name: "A", team: 1, kills: 3, deaths: 1})},
	}
	// The R1 must fail in native too for S6 to apply: truncate it to a bad header.
	files[0].Data = []byte("broken\\header\n")
	c := ParseFiles(files, compatOpt, true)[1].R2
	if c.Status != StatusError || c.Error != "pair_unparseable" || c.HasRound {
		t.Errorf("compat: %+v, want status error pair_unparseable", c)
	}
	n := ParseFiles(files, nativeOpt, true)[1].R2
	if n.Status != StatusOrphan || n.Warning == "" || !n.HasRound {
		t.Errorf("native: %+v, want an orphan with a warning", n)
	}
}

func TestS7InfiniteTimePlayed(t *testing.T) {
	data := statsFile(hdrR1,
		pl{guid: "AAAA1111", name: "A", team: 1, kills: 3, deaths: 1, minutes: "inf", dmg: 600},
		pl{guid: "BBBB2222", name: "B", team: 2, kills: 1, deaths: 3})
	_, err := ParseStats("2026-01-15-200000-m-round-1.txt", data, compatOpt)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Code != CodeNonFiniteTime || pe.Line != 2 {
		t.Errorf("compat: %v, want non_finite_time on line 2", err)
	}
	st, err := ParseStats("2026-01-15-200000-m-round-1.txt", data, nativeOpt)
	if err != nil {
		t.Fatalf("native: %v", err)
	}
	a := st.Players[0]
	if a.Extended.TimePlayedMinutes != 0 || a.TimePlayedSeconds != st.Header.RoundTimeSeconds || len(st.Players) != 2 {
		t.Errorf("native: T22 %v, seconds %d (round %d)", a.Extended.TimePlayedMinutes, a.TimePlayedSeconds, st.Header.RoundTimeSeconds)
	}
	if !hasDiag(st, 2, "time_played_minutes") {
		t.Errorf("native: no diagnostic for the infinite field: %+v", st.Diagnostics)
	}
}

func hasDiag(st *Stats, line int, field string) bool {
	for _, d := range st.Diagnostics {
		if d.Line == line && d.Field == field {
			return true
		}
	}
	return false
}

func TestS8NoWorkingDirectoryLookup(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "local_stats"), 0o755); err != nil {
		t.Fatal(err)
	}
	r1 := "2026-01-15-200000-m-round-1.txt"
	if err := os.WriteFile(filepath.Join(dir, "local_stats", r1), statsFile(hdrR1, pl{guid: "A", name: "A", team: 1, kills: 1}), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	r2, _ := ParseFileName("2026-01-15-201000-m-round-2.txt")
	for _, opt := range []Options{compatOpt, nativeOpt} {
		if f, ok := PairR1(r2, nil, opt); ok {
			t.Errorf("%v: paired with %s from the working directory", opt.Mode, f)
		}
	}
}

func TestS9GlobPairing(t *testing.T) {
	r2, _ := ParseFileName("2026-01-15-201000-b-round-2.txt")
	other, _ := ParseFileName("2026-01-15-200000-x-b-round-1.txt")
	if f, ok := PairR1(r2, []FileName{other}, compatOpt); !ok || f != other {
		t.Errorf("compat: map b should pair with map x-b (shell glob), got %v %v", f, ok)
	}
	if _, ok := PairR1(r2, []FileName{other}, nativeOpt); ok {
		t.Error("native: map b paired with map x-b")
	}
	same, _ := ParseFileName("2026-01-15-195000-b-round-1.txt")
	if f, ok := PairR1(r2, []FileName{other, same}, nativeOpt); !ok || f != same {
		t.Errorf("native: got %v %v, want %v", f, ok, same)
	}
}

func TestS10LostR1(t *testing.T) {
	p := pl{guid: "AAAA1111", name: "A", team: 1, kills: 3, deaths: 1}
	files := []File{
		{Name: "2026-01-15-200000-m-round-1.txt", Data: statsFile(hdrR1, p)},
		{Name: "2026-01-15-201000-m-round-2.txt", Data: statsFile(hdrR2, p)},
		// The next play's R1 upload was lost: its R2 is 30 min after the R1 above.
		{Name: "2026-01-15-203000-m-round-2.txt", Data: statsFile(`Srv\m\cfg\2\1\1\9:10\74:00\550000`, p)},
	}
	c := ParseFiles(files, compatOpt, true)
	if c[1].R2.Status != StatusDifferential || c[2].R2.Status != StatusDifferential || c[2].R2.R1File != files[0].Name {
		t.Errorf("compat: second R2 %+v, want a differential against the same R1", c[2].R2)
	}
	n := ParseFiles(files, nativeOpt, true)
	if n[1].R2.Status != StatusDifferential || n[1].R2.PairConfidence != "confirmed" {
		t.Errorf("native: first R2 %s %q, want differential confirmed (R2 H7 7:35 = R1 H8)", n[1].R2.Status, n[1].R2.PairConfidence)
	}
	if n[2].R2.Status != StatusOrphan {
		t.Errorf("native: second R2 %s, want orphan (R1 already paired)", n[2].R2.Status)
	}
	m := canonicalMap(t, n[1].Canonical())
	if m["r2"].(map[string]any)["pair_confidence"] != "confirmed" {
		t.Error("native canonical lacks pair_confidence")
	}
	// Header map mismatch: the R1 is not a candidate in native mode.
	files[0].Data = statsFile(`Srv\other\cfg\1\2\1\12:00\7:35\455000`, p)
	if r := ParseFiles(files[:2], nativeOpt, true)[1].R2; r.Status != StatusOrphan {
		t.Errorf("native: R1 with another header map paired: %s", r.Status)
	}
	if r := ParseFiles(files[:2], compatOpt, true)[1].R2; r.Status != StatusDifferential {
		t.Errorf("compat: header map must not matter: %s", r.Status)
	}
}

func TestS11ResetFallbackSameInBothModes(t *testing.T) {
	r1 := statsFile(hdrR1, pl{guid: "AAAA1111", name: "A", team: 1, kills: 10, deaths: 2, dmg: 900})
	r2 := statsFile(hdrR2, pl{guid: "AAAA1111", name: "A", team: 1, kills: 12, deaths: 5, dmg: 800, minutes: "20.0"})
	var got [2]DiffPlayer
	for i, opt := range []Options{compatOpt, nativeOpt} {
		got[i] = Differential(mustParse(t, "2026-01-15-200000-m-round-1.txt", r1, opt),
			mustParse(t, "2026-01-15-201000-m-round-2.txt", r2, opt), opt).Players[0]
		d := got[i]
		if d.Source != SourceResetFallback || d.Kills != 12 || d.DamageGiven != 800 ||
			strings.Join(d.ResetFields, ",") != "damage_given,objective.damage_given" {
			t.Errorf("%v: %s kills %d dmg %d fields %v", opt.Mode, d.Source, d.Kills, d.DamageGiven, d.ResetFields)
		}
	}
	if got[0].Kills != got[1].Kills || got[0].TimePlayedSeconds != got[1].TimePlayedSeconds {
		t.Error("modes differ on the reset fallback")
	}
}

func TestS12ColourCodes(t *testing.T) {
	data := statsFile(hdrR1, pl{guid: "AAAA1111", name: "^*st^1ar^!bang^^7x", team: 1, kills: 1})
	c := mustParse(t, "2026-01-15-200000-m-round-1.txt", data, compatOpt).Players[0].Name
	n := mustParse(t, "2026-01-15-200000-m-round-1.txt", data, nativeOpt).Players[0].Name
	if c != "^*star^!bang^x" {
		t.Errorf("compat name %q", c)
	}
	if n != "starbang^x" {
		t.Errorf("native name %q", n)
	}
}

func TestS13KDWithoutDeathsSameInBothModes(t *testing.T) {
	data := statsFile(hdrR1, pl{guid: "AAAA1111", name: "A", team: 1, kills: 5, deaths: 0, kd: "6.0"})
	for _, opt := range []Options{compatOpt, nativeOpt} {
		p := mustParse(t, "2026-01-15-200000-m-round-1.txt", data, opt).Players[0]
		if p.KDRatio != 5 || p.Extended.KDRatio != 6 {
			t.Errorf("%v: kd %v, T26 %v; want 5 (kills) and 6 (writer's kills+1)", opt.Mode, p.KDRatio, p.Extended.KDRatio)
		}
	}
}

func TestS14HeaderDefaultsSameInBothModes(t *testing.T) {
	data := statsFile(`Srv\m\cfg\x\\2\12:00\7:35\455000`, pl{guid: "AAAA1111", name: "A", team: 1, kills: 1})
	for _, opt := range []Options{compatOpt, nativeOpt} {
		st := mustParse(t, "2026-01-15-200000-m-round-1.txt", data, opt)
		h := st.Header
		if h.Round != 1 || h.DefenderTeam != 1 || strings.Join(h.SideReasons, ",") != "defender_missing" ||
			st.Round.ScoreConfidence != "ambiguous" || st.Round.RoundOutcome != "Completed" {
			t.Errorf("%v: round %d defender %d reasons %v confidence %s outcome %s", opt.Mode,
				h.Round, h.DefenderTeam, h.SideReasons, st.Round.ScoreConfidence, st.Round.RoundOutcome)
		}
	}
}

func TestS15AbortedShutdownFile(t *testing.T) {
	p := pl{guid: "AAAA1111", name: "A", team: 1, kills: 3, deaths: 1}
	files := []File{
		{Name: "2026-01-15-200000-m-round-1.txt", Data: statsFile(`Srv\m\cfg\1\2\1\12:00\12:00\-8804123`, p)},
		{Name: "2026-01-15-201000-m-round-2.txt", Data: statsFile(hdrR2, p)},
	}
	c := ParseFiles(files, compatOpt, true)
	if c[0].Stats.Aborted || c[1].R2.Status != StatusDifferential {
		t.Errorf("compat: aborted %v, R2 %s; want the file taken at face value", c[0].Stats.Aborted, c[1].R2.Status)
	}
	if c[0].Stats.Header.PlaytimeKnown {
		t.Error("a negative H9 is unknown playtime in both modes")
	}
	n := ParseFiles(files, nativeOpt, true)
	if !n[0].Stats.Aborted || n[1].R2.Status != StatusOrphan {
		t.Errorf("native: aborted %v, R2 %s; want aborted and not used for pairing", n[0].Stats.Aborted, n[1].R2.Status)
	}
	if m := canonicalMap(t, n[0].Canonical()); m["aborted"] != true {
		t.Error("native canonical lacks aborted: true")
	}
}

func TestS16DiffRowsCarryIdentity(t *testing.T) {
	r1 := statsFile(hdrR1, pl{guid: "OMNIBOT0", name: "^o[BOT]^7Hawk", team: 1, kills: 3})
	r2 := statsFile(hdrR2, pl{guid: "OMNIBOT0", name: "^o[BOT]^7Hawk", team: 1, kills: 5})
	for _, opt := range []Options{compatOpt, nativeOpt} {
		s2 := mustParse(t, "2026-01-15-201000-m-round-2.txt", r2, opt)
		r := Differential(mustParse(t, "2026-01-15-200000-m-round-1.txt", r1, opt), s2, opt)
		d := r.Players[0]
		if d.NameRaw != "^o[BOT]^7Hawk" || !d.IsBot {
			t.Errorf("%v: Go record lacks raw name or bot flag: %+v", opt.Mode, d)
		}
		row := canonicalMap(t, CanonicalStats(s2, nil, r))["r2"].(map[string]any)["players"].([]any)[0].(map[string]any)
		for _, k := range []string{"name_raw", "is_bot", "rounds"} {
			if _, ok := row[k]; ok {
				t.Errorf("%v: canonical differential row has %q", opt.Mode, k)
			}
		}
	}
}

func TestS17RoundTimeFallbacksSameInBothModes(t *testing.T) {
	tests := []struct {
		header string
		want   int
	}{
		{`Srv\m\cfg\1\2\1\12:00\garbage`, 300},    // 8 fields, H8 unparsable
		{`Srv\m\cfg\1\2\1\12:00\7:35\900`, 720},   // H9 ≤ 10000: seconds, capped at H7
		{`Srv\m\cfg\1\2\1\12:00\7:35\455`, 455},   // H9 ≤ 10000 taken as seconds
		{`Srv\m\cfg\1\2\1\4:00\garbage`, 240},     // the 300 s default capped at H7
		{`Srv\m\cfg\1\2\1\12:00\7:35\-50`, 455},   // negative H9: from H8
		{`Srv\m\cfg\1\2\1\12:00\7.5\nan`, 450},    // decimal minutes
		{`Srv\m\cfg\1\2\1\12:00\ 1:02:03 \x`, 62}, // first two ":" parts
	}
	for _, tc := range tests {
		for _, opt := range []Options{compatOpt, nativeOpt} {
			data := statsFile(tc.header, pl{guid: "AAAA1111", name: "A", team: 1, kills: 1, noExt: true})
			st := mustParse(t, "2026-01-15-200000-m-round-1.txt", data, opt)
			if st.Header.RoundTimeSeconds != tc.want || st.Players[0].TimePlayedSeconds != tc.want {
				t.Errorf("%v %q: round time %d, player %d, want %d", opt.Mode, tc.header,
					st.Header.RoundTimeSeconds, st.Players[0].TimePlayedSeconds, tc.want)
			}
		}
	}
}

func TestS18InvalidUTF8SameInBothModes(t *testing.T) {
	stats := []byte(hdrR1 + "\nAAAA1111\\N\xffa\xe2\x82me\\0\\1\\16 1 2 3 4 0 \t100\n")
	end := []byte("Most damage given\tN\xffa\xe2\x82me\t100\n")
	for _, opt := range []Options{compatOpt, nativeOpt} {
		st := mustParse(t, "2026-01-15-200000-m-round-1.txt", stats, opt)
		if st.Players[0].Name != "Name" {
			t.Errorf("%v: stats name %q, want invalid bytes dropped", opt.Mode, st.Players[0].Name)
		}
		es, err := ParseEndstats("2026-01-15-200000-m-round-1-endstats.txt", end, opt)
		if err != nil {
			t.Fatal(err)
		}
		// One U+FFFD per maximal subpart: \xff, then the truncated \xe2\x82.
		if es.Awards[0].Player != "N\uFFFDa\uFFFDme" {
			t.Errorf("%v: endstats name %q, want replacement characters", opt.Mode, es.Awards[0].Player)
		}
	}
}

func TestS19Round2BySubstringSameInBothModes(t *testing.T) {
	name := "2026-06-01-120000-m-round-2.txt-round-1.txt"
	data := statsFile(hdrR1, pl{guid: "AAAA1111", name: "A", team: 1, kills: 1})
	for _, opt := range []Options{compatOpt, nativeOpt} {
		st := mustParse(t, name, data, opt)
		if !st.File.IsRound2ByName || st.File.Round != 1 || st.File.Map != "m-round-2.txt" {
			t.Errorf("%v: %+v", opt.Mode, st.File)
		}
	}
}

const endName = "2026-01-15-200000-m-round-1-endstats.txt"

func TestE1AwardTitleAsOpponentName(t *testing.T) {
	data := []byte("Most damage given\tvid\t2000\nVS_HEADER\tvid\tABCD\nMortarmagnet\t4\t2\nHydra\t3\t1\n")
	c, _ := ParseEndstats(endName, data, compatOpt)
	n, _ := ParseEndstats(endName, data, nativeOpt)
	if len(c.Awards) != 2 || c.Awards[1].Player != "4" || len(c.Versus) != 1 {
		t.Errorf("compat: %d awards (%+v), %d versus rows; want the opponent misread as an award", len(c.Awards), c.Awards, len(c.Versus))
	}
	if len(n.Awards) != 1 || len(n.Versus) != 2 || n.Versus[0].Player != "Mortarmagnet" || n.Versus[0].Kills != 4 {
		t.Errorf("native: %d awards, versus %+v", len(n.Awards), n.Versus)
	}
}

func TestE2EmptyFields(t *testing.T) {
	data := []byte("VS_HEADER\tvid\tABCD\n\t3\t1\nHydra\t2\t0\n")
	c, _ := ParseEndstats(endName, data, compatOpt)
	n, _ := ParseEndstats(endName, data, nativeOpt)
	if len(c.Versus) != 1 {
		t.Errorf("compat: %d versus rows, want the empty-name opponent dropped", len(c.Versus))
	}
	if len(n.Versus) != 2 || n.Versus[0].Player != "" || n.Versus[0].Kills != 3 {
		t.Errorf("native: %+v, want the empty-name opponent kept", n.Versus)
	}
}

func TestE3AwardNumbers(t *testing.T) {
	tests := []struct {
		title, value string
		compatOK     bool
		compat       float64
		nativeOK     bool
		native       float64
	}{
		{"Tank/Meatshield (Refuses to die)", "Damage received vs death ratio: 3.45x", false, 0, true, 3.45},
		{"Most damage given", "-5", false, 0, true, -5},
		{"Most damage given", "1.2.3", false, 0, false, 0},
		{"Quickest multikill w/ light weapons", "3 kills in 1.2s", true, 3, true, 3},
		{"Full respawn king", "10.93 percent, 3.28 min", true, 10.93, true, 10.93},
		{"Most playtime denied", "124 seconds", true, 124, true, 124},
		{"Best K/D ratio", "2.3333333333333", true, 2.3333333333333, true, 2.3333333333333},
		{"Most damage given", ".5", true, 0.5, false, 0},
	}
	for _, tc := range tests {
		data := []byte(tc.title + "\tvid\t" + tc.value + "\n")
		c, _ := ParseEndstats(endName, data, compatOpt)
		n, _ := ParseEndstats(endName, data, nativeOpt)
		ca, na := c.Awards[0], n.Awards[0]
		if ca.HasNumber != tc.compatOK || ca.Number != tc.compat {
			t.Errorf("compat %q: %v %v", tc.value, ca.HasNumber, ca.Number)
		}
		if na.HasNumber != tc.nativeOK || na.Number != tc.native {
			t.Errorf("native %q: %v %v", tc.value, na.HasNumber, na.Number)
		}
	}
}

func TestE4MidnightLink(t *testing.T) {
	end, _ := ParseFileName("2026-01-18-235959-m-round-1-endstats.txt")
	st, _ := ParseFileName("2026-01-19-000001-m-round-1.txt")
	if _, ok := LinkEndstats(end, []FileName{st}, compatOpt); ok {
		t.Error("compat linked across midnight")
	}
	l, ok := LinkEndstats(end, []FileName{st}, nativeOpt)
	if !ok || l.DeltaSeconds != 2 || l.StatsFile != st {
		t.Errorf("native: %+v %v, want linked with delta 2", l, ok)
	}
}

func TestPairingWindowAndMidnight(t *testing.T) {
	name := func(s string) FileName {
		f, err := ParseFileName(s)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	tests := []struct {
		r2, r1 string
		ok     bool
	}{
		{"2026-01-19-000500-m-round-2.txt", "2026-01-18-235000-m-round-1.txt", true}, // previous day
		{"2026-01-19-004500-m-round-2.txt", "2026-01-19-000000-m-round-1.txt", true}, // exactly 45 min
		{"2026-01-19-004501-m-round-2.txt", "2026-01-19-000000-m-round-1.txt", false},
		{"2026-01-19-004500-m-round-2.txt", "2026-01-19-004500-m-round-1.txt", true},  // same timestamp
		{"2026-01-19-004500-m-round-2.txt", "2026-01-19-004501-m-round-1.txt", false}, // after
		{"2026-01-19-004500-m-round-2.txt", "2026-01-17-235900-m-round-1.txt", false}, // two days
		{"2026-01-19-004500-m-round-2.txt", "2026-01-19-004000-m-round-2.txt", false}, // not round 1
	}
	for _, tc := range tests {
		for _, opt := range []Options{compatOpt, nativeOpt} {
			f, ok := PairR1(name(tc.r2), []FileName{name(tc.r1)}, opt)
			if ok != tc.ok || (ok && f.Raw != tc.r1) {
				t.Errorf("%v: PairR1(%s, %s) = %v %v, want %v", opt.Mode, tc.r2, tc.r1, f, ok, tc.ok)
			}
		}
	}
	// Latest wins among several.
	cands := []FileName{name("2026-01-19-000000-m-round-1.txt"), name("2026-01-19-002000-m-round-1.txt"), name("2026-01-19-001000-m-round-1.txt")}
	for _, opt := range []Options{compatOpt, nativeOpt} {
		if f, _ := PairR1(name("2026-01-19-003000-m-round-2.txt"), cands, opt); f.Raw != "2026-01-19-002000-m-round-1.txt" {
			t.Errorf("%v: got %s, want the latest", opt.Mode, f)
		}
	}
	// A shorter window.
	if _, ok := PairR1(name("2026-01-19-003000-m-round-2.txt"), cands, Options{PairWindow: 5 * time.Minute}); ok {
		t.Error("a 5-minute window paired a 10-minute gap")
	}
}

func TestBotNameOption(t *testing.T) {
	data := statsFile(hdrR1,
		pl{guid: "OMNIBOT0", name: "^1{bot}Hawk", team: 1, kills: 1},
		pl{guid: "1234ABCD", name: "[BOT]Fake", team: 2, kills: 1})
	opt := Options{Mode: Compat, BotName: regexp.MustCompile(`^\{bot\}`)}
	st := mustParse(t, "2026-01-15-200000-m-round-1.txt", data, opt)
	if !st.Players[0].IsBot || st.Players[1].IsBot {
		t.Errorf("compat with BotName: bots %v %v, want true false", st.Players[0].IsBot, st.Players[1].IsBot)
	}
	opt.Mode = Native
	st = mustParse(t, "2026-01-15-200000-m-round-1.txt", data, opt)
	if !st.Players[0].IsBot || st.Players[1].IsBot {
		t.Errorf("native: bots %v %v, want the OMNIBOT rule", st.Players[0].IsBot, st.Players[1].IsBot)
	}
}
