package parser

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateNameAccepts(t *testing.T) {
	tests := []struct {
		name  string
		kind  Kind
		mapN  string
		round int
		when  time.Time
	}{
		{"2026-01-15-222119-te_escape2-round-1.txt", KindStats, "te_escape2", 1, time.Date(2026, 1, 15, 22, 21, 19, 0, time.UTC)},
		{"2026-01-15-223838-te_escape2-round-2-endstats.txt", KindEndstats, "te_escape2", 2, time.Date(2026, 1, 15, 22, 38, 38, 0, time.UTC)},
		{"2026-01-19-001730-1944_beach-round-1.txt", KindStats, "1944_beach", 1, time.Date(2026, 1, 19, 0, 17, 30, 0, time.UTC)},
		{"2026-03-01-120000-goldrush-ga-round-2.txt", KindStats, "goldrush-ga", 2, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		{"2026-03-01-120000-x-round-1-round-2.txt", KindStats, "x-round-1", 2, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		{"2024-02-29-235959-leap-round-10.txt", KindStats, "leap", 10, time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)},
		{"2000-01-01-000000-a-round-1.txt", KindStats, "a", 1, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2099-12-31-235959-Z-round-1.txt", KindStats, "Z", 1, time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"2026-01-15-222119-" + strings.Repeat("m", 64) + "-round-1.txt", KindStats, strings.Repeat("m", 64), 1, time.Date(2026, 1, 15, 22, 21, 19, 0, time.UTC)},
		{"2026-01-15-222119-_-9-round-1.txt", KindStats, "_-9", 1, time.Date(2026, 1, 15, 22, 21, 19, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ValidateName(tc.name)
			if err != nil {
				t.Fatalf("ValidateName: %v", err)
			}
			if f.Raw != tc.name || f.Kind != tc.kind || f.Map != tc.mapN || f.Round != tc.round || !f.Time.Equal(tc.when) {
				t.Errorf("got %+v", f)
			}
			g, err := ParseFileName(tc.name)
			if err != nil || g != f {
				t.Errorf("ParseFileName = %+v, %v; want the same as ValidateName", g, err)
			}
		})
	}
}

func TestValidateNameRefuses(t *testing.T) {
	long := "2026-01-15-222119-" + strings.Repeat("m", 240) + "-round-1.txt"
	tests := []struct {
		label, name string
	}{
		{"empty", ""},
		{"longer than 255 bytes", long},
		{"map of 65 characters", "2026-01-15-222119-" + strings.Repeat("m", 65) + "-round-1.txt"},
		{"path traversal", "../2026-01-15-222119-m-round-1.txt"},
		{"absolute path", "/etc/2026-01-15-222119-m-round-1.txt"},
		{"backslash", `a\2026-01-15-222119-m-round-1.txt`},
		{"dot dot inside", "2026-01-15-222119-m..x-round-1.txt"},
		{"NUL", "2026-01-15-222119-m\x00-round-1.txt"},
		{"trailing newline", "2026-01-15-222119-m-round-1.txt\n"},
		{"CR", "2026-01-15-222119-m-round-1.txt\r"},
		{"tab", "2026-01-15-222119-m\t-round-1.txt"},
		{"DEL", "2026-01-15-222119-m\x7f-round-1.txt"},
		{"leading space", " 2026-01-15-222119-m-round-1.txt"},
		{"trailing space", "2026-01-15-222119-m-round-1.txt "},
		{"space in map", "2026-01-15-222119-m x-round-1.txt"},
		{"leading dot", ".2026-01-15-222119-m-round-1.txt"},
		{"leading dash", "-2026-01-15-222119-m-round-1.txt"},
		{"non-ASCII map", "2026-01-15-222119-mé-round-1.txt"},
		{"fullwidth digit", "２026-01-15-222119-m-round-1.txt"},
		{"round 0", "2026-01-15-222119-m-round-0.txt"},
		{"round 11", "2026-01-15-222119-m-round-11.txt"},
		{"round with leading zero", "2026-01-15-222119-m-round-01.txt"},
		{"round not a number", "2026-01-15-222119-m-round-x.txt"},
		{"round missing", "2026-01-15-222119-m-round-.txt"},
		{"no round", "2026-01-15-222119-m.txt"},
		{"upper-case ROUND", "2026-01-15-222119-m-ROUND-1.txt"},
		{"year 1999", "1999-12-31-235959-m-round-1.txt"},
		{"year 2100", "2100-01-01-000000-m-round-1.txt"},
		{"month 13", "2026-13-01-120000-m-round-1.txt"},
		{"month 00", "2026-00-01-120000-m-round-1.txt"},
		{"day 32", "2026-01-32-120000-m-round-1.txt"},
		{"29 February of a common year", "2023-02-29-120000-m-round-1.txt"},
		{"hour 24", "2026-01-15-240000-m-round-1.txt"},
		{"minute 60", "2026-01-15-126000-m-round-1.txt"},
		{"second 60", "2026-01-15-120060-m-round-1.txt"},
		{"short time", "2026-01-15-12000-m-round-1.txt"},
		{"letters in date", "2026-0a-15-120000-m-round-1.txt"},
		{"empty map", "2026-01-15-120000--round-1.txt"},
		{"map without letter or digit", "2026-01-15-120000-_-_-round-1.txt"},
		{"dot in map", "2026-01-15-120000-m.x-round-1.txt"},
		{"percent in map", "2026-01-15-120000-m%2e-round-1.txt"},
		{"glob star in map", "2026-01-15-120000-m*-round-1.txt"},
		{"sidecar", "2026-01-15-120000-m-round-1_ws.txt"},
		{"map ending _ws", "2026-01-15-120000-m_ws-round-1.txt"},
		{"wrong extension", "2026-01-15-120000-m-round-1.log"},
		{"upper-case extension", "2026-01-15-120000-m-round-1.TXT"},
		{"double extension", "2026-01-15-120000-m-round-1.txt.txt"},
		{"extension only", ".txt"},
		{"endstats with bad round", "2026-06-01-124200-badround_map-round-x-endstats.txt"},
		{"too short", "2026-01-15.txt"},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			_, err := ValidateName(tc.name)
			if err == nil {
				t.Fatalf("ValidateName(%q) accepted", tc.name)
			}
			if !errors.Is(err, ErrBadName) {
				t.Errorf("error %v does not match ErrBadName", err)
			}
			var ne *NameError
			if !errors.As(err, &ne) || ne.Name != tc.name {
				t.Errorf("error %v is not a *NameError carrying the name", err)
			}
			if tc.name != "" && len(tc.name) > 3 && strings.Contains(err.Error(), tc.name) {
				t.Errorf("error text echoes the refused name: %v", err)
			}
		})
	}
}

func TestParseFileNameLenient(t *testing.T) {
	tests := []struct {
		name     string
		ok       bool
		mapN     string
		round    int
		endstats bool
	}{
		// The reference grammar only asks for digits and a non-empty map.
		{"2026-13-45-999999-odd map!-round-7.txt", true, "odd map!", 7, false},
		{"2026-01-15-120000-m-round-01.txt", true, "m", 1, false},
		{"2026-01-15-120000-m-round-123456789012.txt", true, "m", 123456789012, false},
		{"2026-01-15-120000-m-round-99999999999999999999999.txt", true, "m", int(^uint(0) >> 1), false},
		{"2026-06-01-124200-badround_map-round-2-endstats.txt", true, "badround_map", 2, true},
		{"2026-06-01-124200-badround_map-round-x-endstats.txt", false, "", 0, true},
		{"2026-01-15-120000-m\nx-round-1.txt", false, "", 0, false},
		{"2026-01-15-120000--round-1.txt", false, "", 0, false},
		{"2026-01-15-12000a-m-round-1.txt", false, "", 0, false},
		{"2026-01-15-120000-m-round-1.txt.bak", false, "", 0, false},
	}
	for _, tc := range tests {
		f, err := ParseFileName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ParseFileName(%q) error = %v, want ok=%v", tc.name, err, tc.ok)
			continue
		}
		if !tc.ok {
			continue
		}
		if f.Map != tc.mapN || f.Round != tc.round || (f.Kind == KindEndstats) != tc.endstats {
			t.Errorf("ParseFileName(%q) = %+v", tc.name, f)
		}
	}
}

func TestFileNameHelpers(t *testing.T) {
	f, err := ValidateName("2026-01-15-223838-te_escape2-round-2-endstats.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.StatsName(); got != "2026-01-15-223838-te_escape2-round-2.txt" {
		t.Errorf("StatsName = %q", got)
	}
	if f.String() != f.Raw || f.IsZero() || !(FileName{}).IsZero() {
		t.Error("String/IsZero")
	}
	if KindStats.String() != "stats" || KindEndstats.String() != "endstats" || Kind(0).String() != "unknown" {
		t.Error("Kind.String")
	}
	s, _ := ValidateName("2026-01-15-223840-te_escape2-round-2.txt")
	if s.StatsName() != s.Raw {
		t.Error("StatsName of a stats file must be itself")
	}
}
