package parser

import (
	"errors"
	"go/parser"
	"go/token"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestImportsStandardLibraryOnly keeps parser a leaf: no module of ours and
// nothing outside the standard library (DESIGN.md, "Layout").
func TestImportsStandardLibraryOnly(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s, outside the standard library", f, p)
			}
			if p == "unsafe" || p == "os" || p == "net" || p == "io/fs" {
				t.Errorf("%s imports %s: parser is pure (no I/O, no unsafe)", f, p)
			}
		}
	}
}

func TestDiagnostics(t *testing.T) {
	data := strings.Join([]string{
		`Srv\m\cfg\1\2\1\12:00\7:35\455000`,
		`no backslash here`,
		``,
		`   `,
		`A\B\C`,
		`AAAA1111\short\0\1\16 1 2 3`,
		`AAAA1111\mask\0\1\x 1 2 3 4 5`,
		`AAAA1111\value\0\1\16 1 2 x 4 5`,
		"AAAA1111\\partial\\0\\1\\48 1 2 3 4 5\tabc\t7",
		`AAAA1111\ok\0\1\16 1 2 3 4 5`,
	}, "\n") + "\n"
	st, err := ParseStats("2026-01-15-200000-m-round-1.txt", []byte(data), nativeOpt)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.SkippedLines(); !equalInts(got, []int{2, 5, 6, 7, 8}) {
		t.Errorf("skipped lines %v, want [2 5 6 7 8]", got)
	}
	want := []struct {
		line    int
		field   string
		dropped bool
	}{
		{2, "", true}, {5, "", true}, {6, "weapons", true}, {7, "weapon mask", true}, {8, "WS_MP40", true},
		{9, "WS_THOMPSON", false}, {9, "damage_given", false}, {9, "extended", false},
	}
	if len(st.Diagnostics) != len(want) {
		t.Fatalf("diagnostics %+v", st.Diagnostics)
	}
	for i, w := range want {
		d := st.Diagnostics[i]
		if d.Line != w.line || d.Field != w.field || d.Dropped != w.dropped || d.Reason == "" {
			t.Errorf("diagnostic %d = %+v, want line %d field %q dropped %v", i, d, w.line, w.field, w.dropped)
		}
	}
	if len(st.Players) != 2 || st.Players[0].LineNo != 9 || st.Players[1].LineNo != 10 {
		t.Errorf("players %+v", st.Players)
	}
	p := st.Players[0]
	if len(p.Weapons) != 1 || p.Extended == nil || p.Extended.DamageReceived != 7 || p.Extended.DamageGiven != 0 {
		t.Errorf("partial line: %+v %+v", p.Weapons, p.Extended)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFileErrorsNameFileLineField(t *testing.T) {
	tests := []struct {
		data  string
		opt   Options
		code  ErrorCode
		line  int
		field string
	}{
		{"", nativeOpt, CodeInsufficientLines, 0, ""},
		{"a\\b\n", compatOpt, CodeInsufficientLines, 0, ""},
		{"a\\b\nx\n", compatOpt, CodeInvalidHeader, 1, "header"},
		{"\n" + hdrR1 + "\n", compatOpt, CodeInvalidHeader, 1, "header"},
		{`Srv\m\cfg\1\2\1\inf\7:35\455000` + "\nx\n", compatOpt, CodeNonFiniteTime, 1, "H7 timelimit"},
		{`Srv\m\cfg\1\2\1\12:00\1e999\455000` + "\nx\n", compatOpt, CodeNonFiniteTime, 1, "H8 actual_time"},
		{`Srv\m\cfg\1\2\1\12:00\1.5e999` + "\nx\n", compatOpt, CodeNonFiniteTime, 1, "H8 actual_time"},
	}
	for _, tc := range tests {
		_, err := ParseStats("f.txt", []byte(tc.data), tc.opt)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%q: error %v, want *ParseError", tc.data, err)
			continue
		}
		if pe.File != "f.txt" || pe.Code != tc.code || pe.Line != tc.line || pe.Field != tc.field {
			t.Errorf("%q: %+v, want code %s line %d field %q", tc.data, pe, tc.code, tc.line, tc.field)
		}
		if !strings.Contains(pe.Error(), "f.txt") || !strings.Contains(pe.Error(), string(tc.code)) {
			t.Errorf("error text %q lacks the file or code", pe.Error())
		}
	}
	// Native reads an infinite header time as unknown instead (S7).
	st, err := ParseStats("f.txt", []byte(`Srv\m\cfg\1\2\1\inf\7:35\455000`+"\nx\n"), nativeOpt)
	if err != nil || st.Round.StopwatchState != "" {
		t.Errorf("native: %v, %q", err, st.Round.StopwatchState)
	}
}

func TestTooLarge(t *testing.T) {
	data := make([]byte, DefaultMaxSize+1)
	for _, f := range []func() error{
		func() error { _, err := ParseStats("s.txt", data, Options{}); return err },
		func() error {
			_, err := ParseEndstats("2026-01-15-200000-m-round-1-endstats.txt", data, Options{})
			return err
		},
		func() error { _, err := ParseStats("s.txt", data[:11], Options{MaxSize: 10}); return err },
	} {
		err := f()
		var pe *ParseError
		if !errors.Is(err, ErrTooLarge) || !errors.As(err, &pe) || pe.Code != CodeTooLarge {
			t.Errorf("error %v, want too_large matching ErrTooLarge", err)
		}
	}
	st, err := ParseStats("s.txt", data, Options{})
	if err == nil || st.File.Size != len(data) || st.File.SHA256 != "" {
		t.Errorf("refused file meta %+v", st.File)
	}
	if _, err := ParseStats("s.txt", data[:DefaultMaxSize], Options{}); errors.Is(err, ErrTooLarge) {
		t.Error("a file of exactly the limit was refused")
	}
}

func TestLineEndings(t *testing.T) {
	line := pl{guid: "AAAA1111", name: "A", team: 1, kills: 2, deaths: 1}.line()
	lf := hdrR1 + "\n" + line + line
	crlf := strings.ReplaceAll(lf, "\n", "\r\n")
	cr := strings.ReplaceAll(lf, "\n", "\r")
	for _, data := range []string{lf, crlf, cr, strings.TrimSuffix(lf, "\n")} {
		for _, opt := range []Options{compatOpt, nativeOpt} {
			st := mustParse(t, "2026-01-15-200000-m-round-1.txt", []byte(data), opt)
			if len(st.Players) != 2 || st.Players[1].LineNo != 3 || st.Players[0].Extended.TimePlayedMinutes != 10 {
				t.Errorf("%q: %d players", data[len(data)-3:], len(st.Players))
			}
		}
	}
}

func TestEndstatsFailures(t *testing.T) {
	_, err := ParseEndstats("2026-06-01-124200-badround_map-round-x-endstats.txt", []byte("x\ty\tz\n"), Options{})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Code != CodeBadFilename {
		t.Errorf("bad name: %v", err)
	}
	_, err = ParseEndstats("2026-01-15-200000-m-round-1.txt", nil, Options{})
	if !errors.As(err, &pe) || pe.Code != CodeBadFilename {
		t.Errorf("a stats name given to ParseEndstats: %v", err)
	}
	es, err := ParseEndstats(endName, []byte("only\ttwo\nMost damage given\tvid\t5\nvid\tx\t1\n"), Options{})
	if err != nil || len(es.Awards) != 1 || len(es.Diagnostics) != 2 || es.Diagnostics[0].Line != 1 || es.Diagnostics[1].Line != 3 {
		t.Errorf("%v %+v", err, es)
	}
}

func TestPyInt(t *testing.T) {
	tests := []struct {
		in string
		v  int64
		ok bool
	}{
		{"0", 0, true}, {"42", 42, true}, {" 42\n", 42, true}, {"+7", 7, true}, {"-7", -7, true},
		{"1_000", 1000, true}, {"1__0", 0, false}, {"_1", 0, false}, {"1_", 0, false},
		{"", 0, false}, {" ", 0, false}, {"-", 0, false}, {"5.0", 0, false}, {"0x10", 0, false},
		{"9223372036854775807", math.MaxInt64, true}, {"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false}, {"\x1c12\x1f", 12, true}, {"\u00a012\u2028", 12, true},
		{"1 2", 0, false},
	}
	for _, tc := range tests {
		v, ok := pyInt(tc.in)
		if v != tc.v || ok != tc.ok {
			t.Errorf("pyInt(%q) = %d, %v; want %d, %v", tc.in, v, ok, tc.v, tc.ok)
		}
	}
}

func TestPyFloat(t *testing.T) {
	tests := []struct {
		in string
		v  float64
		ok bool
	}{
		{"81.5", 81.5, true}, {"0.0", 0, true}, {"5.", 5, true}, {".5", 0.5, true}, {".", 0, false},
		{"1e3", 1000, true}, {"1E-2", 0.01, true}, {"-2.5", -2.5, true}, {"+2", 2, true},
		{"1_0.5", 10.5, true}, {"1_", 0, false}, {"inf", math.Inf(1), true}, {"-Infinity", math.Inf(-1), true},
		{"1e999", math.Inf(1), true}, {"-1e999", math.Inf(-1), true}, {"0x1p3", 0, false},
		{"1e", 0, false}, {"e5", 0, false}, {"", 0, false}, {" 3.25\n", 3.25, true}, {"infinit", 0, false},
		{"0.1", 0.1, true}, {"123456789012345.6", 123456789012345.6, true}, {"1.7976931348623157e308", math.MaxFloat64, true},
	}
	for _, tc := range tests {
		v, ok := pyFloat(tc.in)
		if v != tc.v || ok != tc.ok {
			t.Errorf("pyFloat(%q) = %v, %v; want %v, %v", tc.in, v, ok, tc.v, tc.ok)
		}
	}
	for _, s := range []string{"nan", "NaN", "-nan", "+NAN"} {
		if v, ok := pyFloat(s); !ok || !math.IsNaN(v) {
			t.Errorf("pyFloat(%q) = %v, %v", s, v, ok)
		}
	}
}

func TestTimeParsers(t *testing.T) {
	class := []struct {
		in  string
		v   int64
		inf bool
	}{
		{"7:35", 455, false}, {"90:00", 5400, false}, {"1:02:03", 62, false}, {"7.5", 450, false},
		{"455", 455, false}, {"x", 0, false}, {"", 0, false}, {"inf", 0, false}, {"1.5e999", 0, true}, {"nan.", 0, false},
	}
	for _, tc := range class {
		v, inf := classTimeSeconds(tc.in)
		if v != tc.v || inf != tc.inf {
			t.Errorf("classTimeSeconds(%q) = %d %v", tc.in, v, inf)
		}
	}
	contract := []struct {
		in      string
		v       int64
		ok, inf bool
	}{
		{"7:35", 455, true, false}, {"1:02:03", 3723, true, false}, {"1:2:3:4", 0, false, false},
		{"7.5", 450, true, false}, {"455", 455, true, false}, {"455.0e0", 27300, true, false},
		{"nan", 0, false, false}, {"inf", 0, false, true}, {"", 0, false, false}, {"Unknown", 0, false, false},
	}
	for _, tc := range contract {
		v, ok, inf := contractTimeSeconds(tc.in)
		if v != tc.v || ok != tc.ok || inf != tc.inf {
			t.Errorf("contractTimeSeconds(%q) = %d %v %v", tc.in, v, ok, inf)
		}
	}
}

func TestUTF8Decoding(t *testing.T) {
	tests := []struct {
		in, drop, replace string
	}{
		{"ok ü", "ok ü", "ok ü"},
		{"a\xffb", "ab", "a\uFFFDb"},
		{"a\xff\xfeb", "ab", "a\uFFFD\uFFFDb"},
		{"a\xe2\x82b", "ab", "a\uFFFDb"},                 // truncated 3-byte sequence: one maximal subpart
		{"a\xed\xa0\x80b", "ab", "a\uFFFD\uFFFD\uFFFDb"}, // surrogate: ED then two lone continuations
		{"a\xf0\x9f\x98", "a", "a\uFFFD"},
		{"\xc0\xaf", "", "\uFFFD\uFFFD"},
	}
	for _, tc := range tests {
		if got := string(dropInvalidUTF8([]byte(tc.in))); got != tc.drop {
			t.Errorf("drop(%q) = %q, want %q", tc.in, got, tc.drop)
		}
		if got := string(replaceInvalidUTF8([]byte(tc.in))); got != tc.replace {
			t.Errorf("replace(%q) = %q, want %q", tc.in, got, tc.replace)
		}
	}
}

func TestPyStripAndSplit(t *testing.T) {
	if got := pyStrip("\x1c\t a b \u3000\u0085"); got != "a b" {
		t.Errorf("pyStrip = %q", got)
	}
	var toks []string
	for r := "1\u00a02\x1f3  4\v"; ; {
		var tok string
		tok, r = nextField(r)
		if tok == "" {
			break
		}
		toks = append(toks, tok)
	}
	if strings.Join(toks, ",") != "1,2,3,4" {
		t.Errorf("tokens %q", toks)
	}
}

// TestMemoryIsLinear parses a hostile file of the largest size accepted,
// made only of minimal player lines, and checks the allocation stays a
// bounded multiple of the input.
func TestMemoryIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a 4 MiB input")
	}
	line := "\\\\\\\\1 0 0 0 0 0\t\n"
	data := []byte(hdrR1 + "\n" + strings.Repeat(line, (DefaultMaxSize-64)/len(line)))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	st, err := ParseStats("2026-01-15-200000-m-round-1.txt", data, nativeOpt)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Players) < 200000 {
		t.Fatalf("%d players", len(st.Players))
	}
	allocs := after.Mallocs - before.Mallocs
	bytes := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d bytes in: %d players, %d allocations, %d bytes allocated (%.0fx)",
		len(data), len(st.Players), allocs, bytes, float64(bytes)/float64(len(data)))
	if bytes > 128*uint64(len(data)) {
		t.Errorf("allocated %d bytes for a %d-byte input", bytes, len(data))
	}
	// Chunked stores: a few allocations per 4096 players, not one per player.
	if allocs > uint64(len(st.Players)/400+100) {
		t.Errorf("%v allocations for %d players", allocs, len(st.Players))
	}
}

// TestManyPlayersAcrossChunks parses a file with more players than the
// preallocated stores hold and checks every player against the same line
// parsed alone.
func TestManyPlayersAcrossChunks(t *testing.T) {
	data := buildStats(5000, 3)
	st, err := ParseStats("2026-01-18-220832-supply-round-1.txt", data, nativeOpt)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Players) != 5000 {
		t.Fatalf("%d players", len(st.Players))
	}
	lines := strings.Split(string(data), "\n")
	for i, p := range st.Players {
		if i%97 != 0 && i < 4990 {
			continue
		}
		one, err := ParseStats("2026-01-18-220832-supply-round-1.txt", []byte(lines[0]+"\n"+lines[i+1]+"\n"), nativeOpt)
		if err != nil {
			t.Fatal(err)
		}
		q := one.Players[0]
		if p.GUID != q.GUID || p.Name != q.Name || p.Kills != q.Kills || len(p.Weapons) != len(q.Weapons) ||
			*p.Extended != *q.Extended || p.TimeDisplay != q.TimeDisplay {
			t.Fatalf("player %d differs when parsed alone:\n%+v\n%+v", i, p, q)
		}
		for k := range p.Weapons {
			if p.Weapons[k] != q.Weapons[k] {
				t.Fatalf("player %d weapon %d: %+v != %+v", i, k, p.Weapons[k], q.Weapons[k])
			}
		}
	}
}

func TestEndstatsMemoryIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a 4 MiB input")
	}
	data := []byte(strings.Repeat("a\t1\t2\n", (DefaultMaxSize-64)/6))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	es, err := ParseEndstats(endName, data, nativeOpt)
	runtime.ReadMemStats(&after)
	if err != nil || len(es.Versus) != len(data)/6 {
		t.Fatalf("%v, %d rows", err, len(es.Versus))
	}
	bytes := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d bytes in: %d rows, %d bytes allocated (%.0fx)", len(data), len(es.Versus), bytes, float64(bytes)/float64(len(data)))
	if bytes > 128*uint64(len(data)) {
		t.Errorf("allocated %d bytes for a %d-byte input", bytes, len(data))
	}
}

// TestAllocationsPerPlayer checks the allocation budget: a constant per
// file plus at most two per player (in fact none up to 64 players).
func TestAllocationsPerPlayer(t *testing.T) {
	count := func(n int) float64 {
		data := buildStats(n, 5)
		return testing.AllocsPerRun(20, func() {
			if _, err := ParseStats("2026-01-18-220832-supply-round-1.txt", data, nativeOpt); err != nil {
				t.Fatal(err)
			}
		})
	}
	a1, a24, a60 := count(1), count(24), count(60)
	t.Logf("allocations: 1 player %v, 24 players %v, 60 players %v", a1, a24, a60)
	if a24-a1 > 2*23 || a60-a1 > 2*59 {
		t.Errorf("more than two allocations per player")
	}
	if a24 > 32 {
		t.Errorf("%v allocations for 24 players, want a small constant", a24)
	}
}
