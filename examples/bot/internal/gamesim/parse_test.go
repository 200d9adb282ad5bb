package gamesim

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/parser"
)

// TestParserReadsEveryFile runs the real parser over a night of simulated
// rounds: every player line parses without a diagnostic, round 2 pairs with
// round 1, awards are read, and the corrupt file is refused.
func TestParserReadsEveryFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := New(DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 15, 21, 0, 0, 0, time.UTC)
	var r1 *parser.Stats
	for i := range 6 {
		r, err := s.WriteRound(at.Add(time.Duration(i) * 12 * time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, r.Stats))
		st, err := parser.ParseStats(r.Stats, b, parser.Options{})
		if err != nil {
			t.Fatalf("%s: %v", r.Stats, err)
		}
		if len(st.Players) != r.Players || len(st.Diagnostics) != 0 {
			t.Errorf("%s: %d players (want %d), diagnostics %v", r.Stats, len(st.Players), r.Players, st.Diagnostics)
		}
		if st.Header.Map != r.Map || st.Header.Round != r.Round {
			t.Errorf("%s: header map %q round %d", r.Stats, st.Header.Map, st.Header.Round)
		}
		if r.Round == 1 {
			r1 = st
		} else {
			d := parser.Differential(r1, st, parser.Options{})
			if d.Status != parser.StatusDifferential {
				t.Errorf("%s: R2 status %q", r.Stats, d.Status)
			}
		}
		eb, _ := os.ReadFile(filepath.Join(dir, r.Endstats))
		es, err := parser.ParseEndstats(r.Endstats, eb, parser.Options{})
		if err != nil {
			t.Fatalf("%s: %v", r.Endstats, err)
		}
		if len(es.Awards) == 0 || len(es.Versus) == 0 || len(es.Diagnostics) != 0 {
			t.Errorf("%s: %d awards, %d versus, diagnostics %v", r.Endstats, len(es.Awards), len(es.Versus), es.Diagnostics)
		}
	}
	name, _ := s.WriteCorrupt(at.Add(3 * time.Hour))
	b, _ := os.ReadFile(filepath.Join(dir, name))
	if _, err := parser.ParseStats(name, b, parser.Options{}); err == nil {
		t.Error("corrupt file parsed")
	}
}
