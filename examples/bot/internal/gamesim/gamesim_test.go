package gamesim

import (
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/parser"
)

// TestFilesFollowTheFormat checks the written files against the structure of
// stats-format.md sections 4 and 5 and endstats-format.md section 2.
func TestFilesFollowTheFormat(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := New(DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 15, 21, 0, 0, 0, time.UTC)
	for i := range 4 {
		r, err := s.WriteRound(at.Add(time.Duration(i) * 15 * time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if r.Round != 1+i%2 {
			t.Errorf("round %d is R%d", i, r.Round)
		}
		for _, name := range []string{r.Stats, r.Endstats} {
			if _, err := parser.ValidateName(name); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		checkStats(t, filepath.Join(dir, r.Stats), r)
		checkEndstats(t, filepath.Join(dir, r.Endstats))
	}
	name, err := s.WriteCorrupt(at.Add(2 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.ValidateName(name); err != nil {
		t.Errorf("corrupt file's name must be valid: %v", err)
	}
}

func checkStats(t *testing.T, path string, r Round) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(b), "\n") {
		t.Errorf("%s: no final LF", path)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	h := strings.Split(lines[0], `\`)
	if len(h) != 9 || h[1] != r.Map || h[3] != strconv.Itoa(r.Round) {
		t.Fatalf("%s: header %q", path, lines[0])
	}
	if len(lines) < 2 {
		t.Fatalf("%s: no players", path)
	}
	for _, l := range lines[1:] {
		parts := strings.Split(l, `\`)
		if len(parts) != 5 {
			t.Fatalf("%s: player line has %d parts: %q", path, len(parts), l)
		}
		weapons, ext, ok := strings.Cut(parts[4], " \t")
		if !ok {
			t.Fatalf("%s: no space+TAB separator: %q", path, l)
		}
		tok := strings.Fields(weapons)
		mask, err := strconv.Atoi(tok[0])
		if err != nil || mask < 1 || len(tok) != 1+5*bits.OnesCount(uint(mask)) {
			t.Errorf("%s: mask %q with %d tuple values", path, tok[0], len(tok)-1)
		}
		if n := len(strings.Split(ext, "\t")); n != 38 {
			t.Errorf("%s: %d extended fields", path, n)
		}
	}
}

func checkEndstats(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vs := 0
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 3 {
			t.Errorf("%s: %q has %d fields", path, l, len(f))
		}
		for i := 0; i < len(l); i++ {
			if l[i] != '\t' && (l[i] < 0x20 || l[i] > 0x7e || l[i] == '^') {
				t.Errorf("%s: uncleaned byte in %q", path, l)
				break
			}
		}
		if f[0] == "VS_HEADER" {
			vs++
			if len(f[2]) != 32 {
				t.Errorf("%s: GUID %q", path, f[2])
			}
		}
	}
	if vs == 0 {
		t.Errorf("%s: no versus blocks", path)
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 15, 21, 0, 0, 0, time.UTC)
	var out [2]string
	for i := range out {
		dir := t.TempDir()
		s, _ := New(DefaultConfig(dir))
		r, err := s.WriteRound(at)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, r.Stats))
		out[i] = string(b)
	}
	if out[0] != out[1] {
		t.Error("same seed, different files")
	}
}
