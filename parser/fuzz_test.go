package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fuzz targets for every parser of untrusted bytes. The corpus under
// testdata/fuzz is run as seeds by a plain go test.

func addSampleSeeds(f *testing.F, endstats bool) {
	ents, _ := os.ReadDir(filepath.Join("testdata", "samples", "files"))
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), "-endstats.txt") != endstats {
			continue
		}
		b, err := os.ReadFile(filepath.Join("testdata", "samples", "files", e.Name()))
		if err == nil {
			f.Add(b, uint8(0))
			f.Add(b, uint8(1))
		}
	}
}

func modeOf(m uint8) Options {
	if m%2 == 1 {
		return Options{Mode: Compat}
	}
	return Options{Mode: Native}
}

func FuzzParseStats(f *testing.F) {
	addSampleSeeds(f, false)
	f.Add(buildStats(3, 1), uint8(0))
	f.Add([]byte("a\\b\\c\\1\\1\\2\\1:00\\inf\\-1\r\n\\\\\\\\-1 1 1 1 1 1\t1e999\t\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		opt := modeOf(mode)
		const name = "2026-01-15-201000-m-round-2.txt"
		st, err := ParseStats(name, data, opt)
		if st == nil {
			t.Fatal("nil *Stats")
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != name {
				t.Fatalf("error %v is not a *ParseError naming the file", err)
			}
			switch pe.Code {
			case CodeInsufficientLines, CodeInvalidHeader, CodeNonFiniteTime:
			default:
				t.Fatalf("unexpected code %q", pe.Code)
			}
			if pe.Code == CodeNonFiniteTime && opt.Mode == Native {
				t.Fatal("native mode failed a file on an infinite time (S7)")
			}
		} else {
			checkStatsInvariants(t, st)
		}
		out := CanonicalStats(st, err, nil)
		if !json.Valid(out) {
			t.Fatalf("canonical JSON is not valid:\n%s", out)
		}
		// Deterministic.
		st2, err2 := ParseStats(name, data, opt)
		if !bytes.Equal(CanonicalStats(st2, err2, nil), out) {
			t.Fatal("two parses of the same bytes differ")
		}
		// The differential of a file with itself and its canonical form.
		if err == nil {
			r := Differential(st, st, opt)
			if len(r.Players) != len(st.Players) {
				t.Fatalf("self differential has %d players, want %d", len(r.Players), len(st.Players))
			}
			if !json.Valid(CanonicalStats(st, nil, r)) {
				t.Fatal("canonical JSON with r2 is not valid")
			}
		}
		// The size limit is checked first (MaxSize 0 means the default,
		// so only inputs of 2 bytes or more can be made too large).
		if len(data) > 1 {
			_, err := ParseStats(name, data, Options{Mode: opt.Mode, MaxSize: len(data) - 1})
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("MaxSize %d: error %v, want ErrTooLarge", len(data)-1, err)
			}
		}
	})
}

func checkStatsInvariants(t *testing.T, st *Stats) {
	prev := 1
	for i := range st.Players {
		p := &st.Players[i]
		if p.LineNo <= prev {
			t.Fatalf("player line numbers not increasing: %d after %d", p.LineNo, prev)
		}
		prev = p.LineNo
		lastID := -1
		k := 0
		for _, w := range p.Weapons {
			if w.ID <= lastID || w.ID >= WeaponCount || w.Name != WeaponNames[w.ID] {
				t.Fatalf("line %d: weapons out of order or unknown: %+v", p.LineNo, p.Weapons)
			}
			lastID = w.ID
			k += w.Kills
		}
		if k != p.Kills {
			t.Fatalf("line %d: kills %d != weapon sum %d", p.LineNo, p.Kills, k)
		}
		want := fmt.Sprintf("%d:%02d", floorDiv(int64(p.TimePlayedSeconds), 60), floorMod(int64(p.TimePlayedSeconds), 60))
		if p.TimeDisplay != want {
			t.Fatalf("line %d: time display %q for %d s", p.LineNo, p.TimeDisplay, p.TimePlayedSeconds)
		}
		if p.GUID == "" {
			t.Fatalf("line %d: empty effective GUID", p.LineNo)
		}
	}
	if st.Round.TotalPlayers != len(st.Players) || st.Round.BotPlayerCount+st.Round.HumanPlayerCount != len(st.Players) {
		t.Fatalf("round counts %+v for %d players", st.Round, len(st.Players))
	}
	sk := st.SkippedLines()
	for i := 1; i < len(sk); i++ {
		if sk[i] <= sk[i-1] {
			t.Fatalf("skipped lines not increasing: %v", sk)
		}
	}
	for _, d := range st.Diagnostics {
		if d.Line < 2 || d.Reason == "" {
			t.Fatalf("bad diagnostic %+v", d)
		}
	}
}

func FuzzParseEndstats(f *testing.F) {
	addSampleSeeds(f, true)
	f.Add(buildEndstats(3, 1), uint8(0))
	f.Add([]byte("VS_HEADER\n\t\t\nMortarmagnet\t1\t2\r\xe2\x82\t-1\t+2\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		opt := modeOf(mode)
		const name = "2026-01-15-200958-m-round-2-endstats.txt"
		es, err := ParseEndstats(name, data, opt)
		if err != nil || es == nil {
			t.Fatalf("a well-named file within the limit must parse: %v", err)
		}
		for _, a := range es.Awards {
			if opt.Mode == Compat && !isAwardTitle(a.Title) {
				t.Fatalf("award %q is not a known title", a.Title)
			}
			if a.Line < 1 {
				t.Fatalf("award without line number: %+v", a)
			}
		}
		link, _ := LinkEndstats(es.File.Parsed, nil, opt)
		out := CanonicalEndstats(es, nil, &link)
		if !json.Valid(out) {
			t.Fatalf("canonical JSON is not valid:\n%s", out)
		}
		es2, _ := ParseEndstats(name, data, opt)
		if !bytes.Equal(CanonicalEndstats(es2, nil, &link), out) {
			t.Fatal("two parses of the same bytes differ")
		}
	})
}

func FuzzValidateName(f *testing.F) {
	ents, _ := os.ReadDir(filepath.Join("testdata", "samples", "files"))
	for _, e := range ents {
		f.Add(e.Name())
	}
	for _, s := range []string{"", "../x-round-1.txt", "2024-02-29-235959-a-b-round-10-endstats.txt",
		"2026-01-15-120000-m-round-1_ws.txt", "2026-01-15-120000-m-round-01.txt\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		lenient, lerr := ParseFileName(name)
		v, err := ValidateName(name)
		if err != nil {
			if !errors.Is(err, ErrBadName) {
				t.Fatalf("error %v does not match ErrBadName", err)
			}
			if len(name) > 64 && strings.Contains(err.Error(), name) {
				t.Fatalf("error echoes the name: %v", err)
			}
			return
		}
		// Accepted names reparse identically with the lenient grammar...
		if lerr != nil || lenient != v {
			t.Fatalf("ParseFileName = %+v, %v; ValidateName = %+v", lenient, lerr, v)
		}
		// ...and are exactly what their fields say.
		suffix := ".txt"
		if v.Kind == KindEndstats {
			suffix = "-endstats.txt"
		}
		rebuilt := fmt.Sprintf("%s-%s-round-%d%s", v.Time.Format("2006-01-02-150405"), v.Map, v.Round, suffix)
		if rebuilt != name || v.Raw != name {
			t.Fatalf("accepted %q but its fields rebuild %q", name, rebuilt)
		}
		if len(name) > MaxNameLen || v.Round < 1 || v.Round > 10 || v.Time.Year() < 2000 || v.Time.Year() > 2099 {
			t.Fatalf("accepted out-of-range name %q: %+v", name, v)
		}
		for i := 0; i < len(name); i++ {
			if c := name[i]; c <= ' ' || c >= 0x7f || c == '/' || c == '\\' {
				t.Fatalf("accepted byte %#x in %q", c, name)
			}
		}
	})
}
