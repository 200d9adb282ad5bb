package harness

import (
	"math/rand/v2"
	"time"

	"github.com/roundfeed/roundfeed/internal/statsgen"
)

// File is one generated stats or endstats file (internal/statsgen).
type File = statsgen.File

// genMatches returns n matches of files in the order the game writes them:
// R1 endstats, R1 stats, R2 endstats, R2 stats. Match i starts at
// start + i*30 min; round 2 is 12 minutes after round 1.
func genMatches(rng *rand.Rand, start time.Time, n, players int) []File {
	return statsgen.Matches(rng, start, n, players, true)
}
