package ingest_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/internal/statsgen"
)

// genFile is one generated file.
type genFile struct {
	name string
	data []byte
}

// genMatches writes n matches (R1, R2 and, when withEndstats, the two
// endstats files) into dir, starting at start, and returns the files in
// name-time order.
func genMatches(t testing.TB, dir string, seed uint64, start time.Time, n, players int, withEndstats bool) []genFile {
	t.Helper()
	var out []genFile
	for _, f := range statsgen.Matches(rand.New(rand.NewPCG(seed, 1)), start, n, players, withEndstats) {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, genFile{f.Name, f.Data})
	}
	return out
}
