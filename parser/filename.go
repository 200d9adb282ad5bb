package parser

import (
	"errors"
	"math"
	"strings"
	"time"
)

// Kind says which of the two files of a round a name denotes.
type Kind uint8

const (
	// KindStats is the round stats file, "…-round-N.txt".
	KindStats Kind = iota + 1
	// KindEndstats is the awards file, "…-round-N-endstats.txt".
	KindEndstats
)

// String returns "stats" or "endstats".
func (k Kind) String() string {
	switch k {
	case KindStats:
		return "stats"
	case KindEndstats:
		return "endstats"
	}
	return "unknown"
}

// FileName is a parsed and validated stats or endstats file name. Inside
// roundfeed a name is always carried as a FileName: it is checked once, at the
// edge, by ParseFileName or ValidateName.
type FileName struct {
	// Raw is the name exactly as given ("2026-01-15-222119-te_escape2-round-1.txt").
	Raw string
	// Time is the naive server-local wall-clock time of the name, carried in UTC.
	// Attach the server's zone with time.Date when a real instant is needed.
	Time time.Time
	// Map is everything between the time and the last "-round-".
	Map string
	// Round is N of "-round-N".
	Round int
	// Kind is stats or endstats.
	Kind Kind
}

// String returns the raw name.
func (f FileName) String() string { return f.Raw }

// IsZero reports whether f is the zero FileName.
func (f FileName) IsZero() bool { return f.Raw == "" }

// StatsName returns the name of the stats file that an endstats name of the
// same timestamp would belong to. It is used only for display; linking is done
// by the rule of endstats-format.md section 5.
func (f FileName) StatsName() string {
	if f.Kind != KindEndstats {
		return f.Raw
	}
	return strings.TrimSuffix(f.Raw, "-endstats.txt") + ".txt"
}

// ErrBadName is matched by every error that ParseFileName and ValidateName return.
var ErrBadName = errors.New("invalid file name")

// NameError says why a name was refused. Reason is fixed text and never echoes
// the refused bytes, so it is safe to log for names that came from the network;
// Name holds the raw input for callers that trust its origin.
type NameError struct {
	// Name is the refused input, verbatim.
	Name string
	// Reason is fixed text saying which rule failed.
	Reason string
}

// Error returns "parser: invalid file name: REASON" (never the name).
func (e *NameError) Error() string { return "parser: invalid file name: " + e.Reason }

// Is makes errors.Is(err, ErrBadName) true.
func (e *NameError) Is(target error) bool { return target == ErrBadName }

func nameErr(name, reason string) error { return &NameError{Name: name, Reason: reason} }

// MaxNameLen is the longest name ValidateName accepts, in bytes.
const MaxNameLen = 255

const (
	statsSuffix    = ".txt"
	endstatsSuffix = "-endstats.txt"
	roundMarker    = "-round-"
)

// ParseFileName parses a name by the grammar of stats-format.md section 2 and
// endstats-format.md section 1:
//
//	^([0-9]{4})-([0-9]{2})-([0-9]{2})-([0-9]{6})-(.+)-round-([0-9]+)(-endstats)?\.txt$
//
// The map is everything between the time and the last "-round-". It is the
// lenient rule the reference reader applies to files it is handed (the date
// and time are checked for digits only, the map for being non-empty); names
// from the network or from a listing go through ValidateName instead.
func ParseFileName(name string) (FileName, error) {
	return parseName(name, false)
}

// ValidateName is the strict validator of webhook-protocol.md section 4 for
// names from the network and from folder listings. It accepts a name only if
// it is at most 255 bytes of printable ASCII without "/", "\", "..", leading
// "." or "-", or surrounding whitespace; matches the grammar; has a real date
// and time in the years 2000-2099; a round 1 to 10 without a leading zero; and
// a map of 1 to 64 characters of [A-Za-z0-9_-] with at least one letter or
// digit. Sidecars such as "_ws.txt" are refused.
func ValidateName(name string) (FileName, error) {
	if len(name) == 0 {
		return FileName{}, nameErr(name, "empty")
	}
	if len(name) > MaxNameLen {
		return FileName{}, nameErr(name, "longer than 255 bytes")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 0x80:
			return FileName{}, nameErr(name, "non-ASCII byte")
		case c == 0:
			return FileName{}, nameErr(name, "NUL byte")
		case c < 0x20 || c == 0x7f:
			return FileName{}, nameErr(name, "control character")
		case c == '/' || c == '\\':
			return FileName{}, nameErr(name, "path separator")
		case c == ' ':
			return FileName{}, nameErr(name, "space")
		}
	}
	if strings.Contains(name, "..") {
		return FileName{}, nameErr(name, `contains ".."`)
	}
	if name[0] == '.' || name[0] == '-' {
		return FileName{}, nameErr(name, `leading "." or "-"`)
	}
	return parseName(name, true)
}

func parseName(name string, strict bool) (FileName, error) {
	var f FileName
	f.Raw = name
	rest := name
	switch {
	case strings.HasSuffix(rest, endstatsSuffix):
		f.Kind = KindEndstats
		rest = rest[:len(rest)-len(endstatsSuffix)]
	case strings.HasSuffix(rest, statsSuffix):
		f.Kind = KindStats
		rest = rest[:len(rest)-len(statsSuffix)]
	default:
		return FileName{}, nameErr(name, `does not end in ".txt"`)
	}
	// date "-" time "-" = 18 bytes: YYYY-MM-DD-HHMMSS-
	if len(rest) < 18 {
		return FileName{}, nameErr(name, "too short for date and time")
	}
	ts := rest[:18]
	for i := 0; i < 17; i++ {
		c := ts[i]
		if i == 4 || i == 7 || i == 10 {
			if c != '-' {
				return FileName{}, nameErr(name, "date is not YYYY-MM-DD-HHMMSS")
			}
			continue
		}
		if c < '0' || c > '9' {
			return FileName{}, nameErr(name, "date is not YYYY-MM-DD-HHMMSS")
		}
	}
	if ts[17] != '-' {
		return FileName{}, nameErr(name, "date is not YYYY-MM-DD-HHMMSS")
	}
	rest = rest[18:]
	i := strings.LastIndex(rest, roundMarker)
	if i < 0 {
		return FileName{}, nameErr(name, `no "-round-N"`)
	}
	f.Map = rest[:i]
	roundStr := rest[i+len(roundMarker):]
	if f.Map == "" {
		return FileName{}, nameErr(name, "empty map")
	}
	if strings.IndexByte(f.Map, '\n') >= 0 {
		// The grammar's "." does not match a newline.
		return FileName{}, nameErr(name, "newline in map")
	}
	if roundStr == "" {
		return FileName{}, nameErr(name, "round is not a number")
	}
	round := 0
	for j := 0; j < len(roundStr); j++ {
		c := roundStr[j]
		if c < '0' || c > '9' {
			return FileName{}, nameErr(name, "round is not a number")
		}
		// Exact up to 18 digits, then saturated (no real round is that
		// large; the value must only never overflow).
		if round <= (math.MaxInt-9)/10 {
			round = round*10 + int(c-'0')
		} else {
			round = math.MaxInt
		}
	}
	f.Round = round

	year := atoi(ts[0:4])
	month := atoi(ts[5:7])
	day := atoi(ts[8:10])
	hour := atoi(ts[11:13])
	minute := atoi(ts[13:15])
	sec := atoi(ts[15:17])
	if strict {
		if roundStr[0] == '0' || round < 1 || round > 10 {
			return FileName{}, nameErr(name, "round is not 1 to 10")
		}
		if year < 2000 || year > 2099 {
			return FileName{}, nameErr(name, "year is not 2000 to 2099")
		}
		if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
			return FileName{}, nameErr(name, "date is not a real date")
		}
		if hour > 23 || minute > 59 || sec > 59 {
			return FileName{}, nameErr(name, "time is not a real time")
		}
		if len(f.Map) > 64 {
			return FileName{}, nameErr(name, "map longer than 64 characters")
		}
		alnum := false
		for j := 0; j < len(f.Map); j++ {
			c := f.Map[j]
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
				alnum = true
			case c == '_' || c == '-':
			default:
				return FileName{}, nameErr(name, "map has a character outside [A-Za-z0-9_-]")
			}
		}
		if !alnum {
			return FileName{}, nameErr(name, "map has no letter or digit")
		}
		if strings.HasSuffix(f.Map, "_ws") || strings.HasSuffix(roundStr, "_ws") {
			return FileName{}, nameErr(name, "sidecar file")
		}
	}
	// time.Date normalises out-of-range values; the lenient grammar accepts
	// them (the reference reader only checks for digits).
	f.Time = time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	return f, nil
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
