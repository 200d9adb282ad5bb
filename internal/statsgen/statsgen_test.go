package statsgen

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/parser"
)

// The generated files are what the parser reads without a single
// diagnostic: valid names, 12 players a stats file, 3 awards and a versus
// row an endstats file; the same seed gives the same bytes.
func TestGeneratedFilesParse(t *testing.T) {
	start := time.Date(2026, 1, 15, 20, 0, 0, 0, time.UTC)
	files := Matches(rand.New(rand.NewPCG(1, 1)), start, 2, 12, true)
	if len(files) != 8 {
		t.Fatalf("%d files, want 8", len(files))
	}
	again := Matches(rand.New(rand.NewPCG(1, 1)), start, 2, 12, true)
	for i := range files {
		if files[i].Name != again[i].Name || string(files[i].Data) != string(again[i].Data) {
			t.Fatalf("%s: not deterministic", files[i].Name)
		}
	}
	for _, f := range files {
		n, err := parser.ValidateName(f.Name)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if n.Kind == parser.KindEndstats {
			es, err := parser.ParseEndstats(f.Name, f.Data, parser.Options{})
			if err != nil || len(es.Awards) != 3 || len(es.Versus) != 1 {
				t.Fatalf("%s: %v, %+v", f.Name, err, es)
			}
			continue
		}
		st, err := parser.ParseStats(f.Name, f.Data, parser.Options{})
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if len(st.Players) != 12 || len(st.Diagnostics) != 0 {
			t.Fatalf("%s: %d players, diagnostics %+v", f.Name, len(st.Players), st.Diagnostics)
		}
	}
}
