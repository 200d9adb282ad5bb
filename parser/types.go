package parser

// FileMeta describes an input file: its name as given, size, SHA-256 and what
// the name says (stats-format.md section 11, "FileMeta").
type FileMeta struct {
	// Name is the base file name handed to the parse function.
	Name string
	// Size is the length of the input in bytes.
	Size int
	// SHA256 is the lower-case hex SHA-256 of the input bytes.
	SHA256 string
	// IsEndstats reports a name ending in "-endstats.txt".
	IsEndstats bool
	// FilenameOK reports whether the name matches the grammar of
	// stats-format.md section 2 (or endstats-format.md section 1). When it
	// is false, Parsed is zero and Date, Time, Map and Round are empty.
	FilenameOK bool
	// Parsed is the parsed name (ParseFileName) when FilenameOK.
	Parsed FileName
	// Date is "YYYY-MM-DD" and Time "HHMMSS" from the name.
	Date, Time string
	// Map is the map part of the name.
	Map string
	// Round is N of "-round-N".
	Round int
	// IsRound2ByName is the reference reader's round-2 test: the name
	// contains "-round-2.txt" (S19).
	IsRound2ByName bool
}

// Diagnostic says why a line produced no player, or what was repaired or
// dropped inside a line that did.
type Diagnostic struct {
	// Line is the 1-based line number.
	Line int
	// Field names the part of the line concerned ("" for the whole line).
	Field string
	// Reason is fixed text; it never echoes the line's bytes.
	Reason string
	// Dropped is true when the line produced no player (it is then listed
	// in the canonical skipped_lines).
	Dropped bool
}

// Header is the first line of a stats file (stats-format.md section 4).
type Header struct {
	// FieldCount is the number of backslash-separated fields (8, 9, or more).
	FieldCount int
	// ServerName is H1, Map H2, Config H3, verbatim.
	ServerName, Map, Config string
	// RoundRaw is H4 verbatim; Round is its value, 1 when not all digits.
	RoundRaw string
	Round    int // see RoundRaw
	// DefenderRaw and WinnerRaw are H5 and H6, stripped.
	DefenderRaw, WinnerRaw string
	// DefenderTeam and WinnerTeam are the reader's values (defaults 1 and
	// 0; out-of-range digits kept).
	DefenderTeam, WinnerTeam int
	// DefenderNormalized and WinnerNormalized are 1 (Axis), 2 (Allies) or 0.
	DefenderNormalized, WinnerNormalized int
	// SideReasons lists why a side field fell back ("defender_missing",
	// "winner_non_numeric", …), in the reader's order.
	SideReasons []string
	// Timelimit is H7 and ActualTime H8, verbatim.
	Timelimit, ActualTime string
	// HasPlaytime reports a ninth field; PlaytimeRaw is H9 verbatim.
	HasPlaytime bool
	PlaytimeRaw string // see HasPlaytime
	// PlaytimeKnown reports a usable H9; PlaytimeSeconds is then H9 in
	// seconds (milliseconds above 10000 are divided by 1000).
	PlaytimeKnown   bool
	PlaytimeSeconds float64 // see PlaytimeKnown
	// RoundTimeSeconds is the per-player time fallback of section 4.
	RoundTimeSeconds int
}

// WeaponCount is the number of weapon ids the mask covers (0–27).
const WeaponCount = 28

// WeaponNames are the names of weapon ids 0–27 (stats-format.md section 6).
var WeaponNames = [WeaponCount]string{
	"WS_KNIFE", "WS_KNIFE_KBAR", "WS_LUGER", "WS_COLT", "WS_MP40", "WS_THOMPSON", "WS_STEN",
	"WS_FG42", "WS_PANZERFAUST", "WS_BAZOOKA", "WS_FLAMETHROWER", "WS_GRENADE", "WS_MORTAR", "WS_MORTAR2",
	"WS_DYNAMITE", "WS_AIRSTRIKE", "WS_ARTILLERY", "WS_SATCHEL", "WS_GRENADELAUNCHER", "WS_LANDMINE", "WS_MG42",
	"WS_BROWNING", "WS_CARBINE", "WS_KAR98", "WS_GARAND", "WS_K43", "WS_MP34", "WS_SYRINGE",
}

// Weapon is one weapon 5-tuple of a player line.
type Weapon struct {
	// ID is the weapon id 0–27; Name its WS_ name.
	ID   int
	Name string // see ID
	// Hits, Shots, Kills, Deaths, Headshots in the reader's meaning
	// (Headshots are head hits, not kills).
	Hits, Shots, Kills, Deaths, Headshots int
	// Accuracy is Hits/Shots×100, 0 when Shots is 0.
	Accuracy float64
}

// Extended holds the 38 TAB-separated fields T0–T37 (stats-format.md
// section 5.1). Missing or unparsable fields are 0.
type Extended struct {
	DamageGiven          int     // T0
	DamageReceived       int     // T1
	TeamDamageGiven      int     // T2
	TeamDamageReceived   int     // T3
	Gibs                 int     // T4
	SelfKills            int     // T5
	TeamKills            int     // T6
	TeamGibs             int     // T7
	TimePlayedPercent    float64 // T8
	XP                   int     // T9
	KillingSpree         int     // T10
	DeathSpree           int     // T11
	KillAssists          int     // T12
	KillSteals           int     // T13
	HeadshotKills        int     // T14
	ObjectivesStolen     int     // T15
	ObjectivesReturned   int     // T16
	DynamitesPlanted     int     // T17
	DynamitesDefused     int     // T18
	TimesRevived         int     // T19
	BulletsFired         int     // T20
	DPM                  float64 // T21 (writer DPM, normally 0.0)
	TimePlayedMinutes    float64 // T22
	TankMeatshield       float64 // T23
	TimeDeadRatio        float64 // T24
	TimeDeadMinutes      float64 // T25
	KDRatio              float64 // T26 (kills+1 when no deaths)
	UsefulKills          int     // T27
	DeniedPlaytime       int     // T28 (seconds)
	Multikill2x          int     // T29
	Multikill3x          int     // T30
	Multikill4x          int     // T31
	Multikill5x          int     // T32
	Multikill6x          int     // T33
	UselessKills         int     // T34
	FullSelfkills        int     // T35
	RepairsConstructions int     // T36
	RevivesGiven         int     // T37
}

// Player is one parsed player line with the reader's derived values
// (stats-format.md sections 9.1–9.4).
type Player struct {
	// LineNo is the 1-based line number.
	LineNo int
	// GUIDRaw is the first field verbatim; GUID is the effective GUID
	// (section 9.1), the R1/R2 join key.
	GUIDRaw, GUID string
	// NameRaw is the netname verbatim; Name has colour codes removed.
	NameRaw, Name string
	// IsBot is the bot classification (compat: "[BOT]" name prefix;
	// native: OMNIBOT guid prefix, S1/S2).
	IsBot bool
	// Rounds and Team are the third and fourth fields (0 when not digits).
	Rounds, Team int
	// WeaponMask is the mask token's value.
	WeaponMask int64
	// Weapons are the weapons read, ascending id.
	Weapons []Weapon
	// Sums over Weapons.
	Kills, Deaths, Headshots, ShotsTotal, HitsTotal int
	// Accuracy = HitsTotal/ShotsTotal×100; KDRatio = Kills/Deaths (Kills
	// when no deaths); Efficiency = Kills/(Kills+Deaths)×100.
	Accuracy, KDRatio, Efficiency float64
	// DamageGiven and DamageReceived are T0 and T1 (0 without Extended).
	DamageGiven, DamageReceived int
	// TimePlayedSeconds is int(T22×60) when T22 > 0, else the round time.
	TimePlayedSeconds int
	// TimePlayedMinutes is TimePlayedSeconds/60.
	TimePlayedMinutes float64
	// TimeDisplay is TimePlayedSeconds as "M:SS".
	TimeDisplay string
	// DPM is DamageGiven×60/TimePlayedSeconds.
	DPM float64
	// Extended is nil when the line has no (or an empty) TAB section.
	Extended *Extended
}

// RoundDerived are the round-level values of stats-format.md section 9.5.
type RoundDerived struct {
	// ScoreConfidence is "verified_header", "ambiguous" or "missing".
	ScoreConfidence string
	// RoundOutcome is "Fullhold", "Completed" or "Unknown".
	RoundOutcome string
	// StopwatchState is "FULL_HOLD", "TIME_SET" or "" (null).
	StopwatchState string
	// TimeToBeatSeconds and NextTimelimitMinutes are valid when the Has
	// flags are set.
	HasTimeToBeat        bool
	TimeToBeatSeconds    int  // see HasTimeToBeat
	HasNextTimelimit     bool // see HasTimeToBeat
	NextTimelimitMinutes int  // see HasTimeToBeat
	// MVP is the clean name of the best player; HasMVP is false for null.
	HasMVP bool
	MVP    string // see HasMVP
	// Player counts.
	TotalPlayers, BotPlayerCount, HumanPlayerCount int
	// IsBotRound: bots > 0 and (no humans or more bots than humans).
	IsBotRound bool
}

// Stats is a parsed stats file.
type Stats struct {
	// File describes the input.
	File FileMeta
	// Mode is the mode the file was parsed in.
	Mode Mode
	// Header is the first line.
	Header Header
	// Players are the player lines that parsed, in file order.
	Players []Player
	// Diagnostics lists every line that produced no player (Dropped) and
	// every repair inside a line that did, in line order.
	Diagnostics []Diagnostic
	// Round holds the round-level values.
	Round RoundDerived
	// Aborted (native only, S15) marks a file saved on the shutdown path:
	// its H9 is negative. Such files are never used for pairing.
	Aborted bool
}

// SkippedLines returns the 1-based numbers of non-blank lines after the
// header that produced no player (the canonical skipped_lines).
func (s *Stats) SkippedLines() []int {
	out := []int{}
	for _, d := range s.Diagnostics {
		if d.Dropped && (len(out) == 0 || out[len(out)-1] != d.Line) {
			out = append(out, d.Line)
		}
	}
	return out
}

// DiffSource says how a differential player was computed.
type DiffSource string

// Differential sources (stats-format.md section 7.1).
const (
	SourceDifferential  DiffSource = "differential"
	SourceResetFallback DiffSource = "reset_fallback"
	SourceR2Only        DiffSource = "r2_only"
)

// DiffPlayer is one player of the R2-only differential.
type DiffPlayer struct {
	// GUID is the effective GUID (the join key), Name the clean name.
	GUID, Name string
	// Team is the R2 line's team.
	Team int
	// NameRaw, IsBot and Rounds are carried over from the R2 line (S16);
	// the canonical JSON leaves them out in both modes.
	NameRaw string
	IsBot   bool // see NameRaw
	Rounds  int  // see NameRaw
	// Source says how the numbers were obtained.
	Source DiffSource
	// ResetFields lists the counters that dropped from R1 to R2
	// ("kills", "objective.time_played_minutes", …) for reset_fallback.
	ResetFields []string
	// R2-only totals (Headshots, ShotsTotal, HitsTotal summed over Weapons).
	Kills, Deaths, Headshots, ShotsTotal, HitsTotal int
	// DamageGiven and DamageReceived are the R2-only player damage.
	DamageGiven, DamageReceived int
	// Accuracy, KDRatio, Efficiency and DPM are recomputed from the
	// R2-only values as for a Player.
	Accuracy, KDRatio, Efficiency, DPM float64
	// TimePlayedSeconds is int(TimePlayedMinutes×60).
	TimePlayedSeconds int
	// TimePlayedMinutes is the R2-only T22.
	TimePlayedMinutes float64
	// Weapons are the R2-only weapon counters, every weapon of the R2 line.
	Weapons []Weapon
	// Extended is the differential extended map, nil for an r2_only player
	// without a TAB section.
	Extended *Extended
	// ExtendedOnlyDeadRatio is set when the R2 line had no TAB section but
	// the player was diffed: the reader then reports only time_dead_ratio
	// (Extended.TimeDeadRatio); the other Extended fields are meaningless.
	ExtendedOnlyDeadRatio bool
	// RatiosUnknown (native, S4): Extended.DPM and Extended.TankMeatshield
	// cannot be derived for R2 alone and are reported as unknown (null);
	// Extended.KDRatio is recomputed from the differential kills/deaths.
	RatiosUnknown bool
}

// SummaryPlayer is one row of the match summary (R2 cumulative values, with
// the R2-only extended fields summed with R1).
type SummaryPlayer struct {
	// GUID is the effective GUID of the R2 line.
	GUID string
	// Extended is nil when the R2 line had no TAB section and the player
	// was not in R1.
	Extended *Extended
	// ExtendedOnlyDeadRatio: as in DiffPlayer (no TAB section, player in R1).
	ExtendedOnlyDeadRatio bool
}

// R2 status values.
const (
	StatusDifferential = "differential"
	StatusOrphan       = "orphan"
	StatusError        = "error"
)

// R2 is the result of pairing a round-2 file (stats-format.md section 7.1).
type R2 struct {
	// Status is "differential", "orphan" or "error".
	Status string
	// R1File is the base name of the paired R1 file ("" when none).
	R1File string
	// Error and ErrorDetail are set for status "error" ("pair_unparseable").
	Error, ErrorDetail string
	// Warning (native) says why an R2 became an orphan although an R1 was
	// found (S6), or "" otherwise.
	Warning string
	// PairConfidence (native, S10) is "exact_header" when the R1's header
	// map and round agree and the R1 was not used by another R2, "name_only"
	// otherwise; "" when not paired.
	PairConfidence string
	// Players are the differential players, R2 file order (differential only).
	Players []DiffPlayer
	// MatchSummary is the cumulative match view (differential only).
	MatchSummary []SummaryPlayer
	// Round holds R2-level values (MVP over the differential players);
	// HasRound is false for status "error".
	HasRound bool
	Round    RoundDerived // see HasRound
}

// Award is one award row of an endstats file.
type Award struct {
	// Line is the 1-based line number.
	Line int
	// Title, Player and Value are the three fields, stripped.
	Title, Player, Value string
	// HasNumber reports a numeric value; Number is it (endstats-format.md
	// section 3 step 8 in compat, per-title parsing in native, E3).
	HasNumber bool
	Number    float64 // see HasNumber
}

// Versus is one versus row: Subject killed Player Kills times and was
// killed by them Deaths times.
type Versus struct {
	// Line is the 1-based line number.
	Line int
	// HasSubject is false for rows before any VS_HEADER.
	HasSubject bool
	// Subject is the VS_HEADER's player name.
	Subject string
	// HasSubjectGUID is false when the header's GUID field is absent (or,
	// in native mode, empty).
	HasSubjectGUID bool
	// SubjectGUID is the VS_HEADER's full GUID.
	SubjectGUID string
	// Player is the opponent's name.
	Player string
	// Kills is how often Subject killed Player, Deaths how often Player
	// killed Subject, this round.
	Kills, Deaths int
}

// Endstats is a parsed endstats (awards) file.
type Endstats struct {
	// File describes the input.
	File FileMeta
	// Mode is the mode the file was parsed in.
	Mode Mode
	// MatchID is "<date>-<time>-<map>".
	MatchID string
	// Awards are the award rows in file order (a title may repeat, W5).
	Awards []Award
	// Versus are the versus rows in file order.
	Versus []Versus
	// Diagnostics lists skipped lines.
	Diagnostics []Diagnostic
}

// Link is the result of linking an endstats file to its stats file
// (endstats-format.md section 5).
type Link struct {
	// Found is false when no stats file qualifies.
	Found bool
	// StatsFile is the linked stats file name.
	StatsFile FileName
	// DeltaSeconds is the stats time minus the endstats time, in seconds.
	DeltaSeconds int
}
