package parser

import (
	"path"
	"sort"
	"strings"
	"time"
)

// PairR1 chooses the round-1 stats file for a round-2 stats file among
// candidates supplied by the caller (stats-format.md section 8). It never
// looks at a directory or the working directory (S8): candidates are all the
// names the caller wants searched.
//
// Compat reproduces the reader: an exact sibling with the same timestamp
// wins; otherwise names matching the shell globs "<date>-*-<map>-round-1.txt"
// and "<previous date>-*-<map>-round-1.txt" (so "*" may span hyphens and
// map "b" matches map "x-b", S9) whose time is strictly before r2's and at
// most the pairing window earlier; the latest wins. r2 is taken by the
// reader's rule (split on "-"), so it need not satisfy the grammar.
//
// Native requires an exact map match, round 1, stats kind, and either the
// same timestamp or strictly earlier within the window; the latest wins. (The header checks of S10 need
// parsed files: see PairAll.)
func PairR1(r2 FileName, candidates []FileName, opt Options) (FileName, bool) {
	if opt.Mode == Compat {
		return pairCompat(r2.Raw, candidates, opt.pairWindow())
	}
	if r2.Kind != KindStats || r2.Raw == "" {
		return FileName{}, false
	}
	// The reader's first step, an R1 with the very same timestamp, is kept
	// (reader-differences.md does not list it).
	for _, c := range candidates {
		if c.Kind == KindStats && c.Round == 1 && c.Map == r2.Map && c.Time.Equal(r2.Time) {
			return c, true
		}
	}
	var best FileName
	found := false
	for _, c := range candidates {
		if !nativeCandidate(r2, c, opt.pairWindow()) {
			continue
		}
		if !found || c.Time.After(best.Time) {
			best, found = c, true
		}
	}
	return best, found
}

func nativeCandidate(r2, c FileName, window time.Duration) bool {
	if c.Kind != KindStats || c.Round != 1 || c.Map != r2.Map {
		return false
	}
	if !c.Time.Before(r2.Time) {
		return false
	}
	return r2.Time.Sub(c.Time) <= window
}

// realTime parses "YYYY-MM-DD" and "HHMMSS" as strptime would: a real date
// and time, or false.
func realTime(date, hms string) (time.Time, bool) {
	t, err := time.Parse("2006-01-02 150405", date+" "+hms)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

func pairCompat(r2 string, candidates []FileName, window time.Duration) (FileName, bool) {
	parts := strings.Split(r2, "-")
	if len(parts) < 6 {
		return FileName{}, false
	}
	date := strings.Join(parts[:3], "-")
	hms := parts[3]
	mapName := strings.Join(parts[4:len(parts)-2], "-")

	exact := date + "-" + hms + "-" + mapName + "-round-1.txt"
	for _, c := range candidates {
		if c.Raw == exact {
			return c, true
		}
	}
	patterns := []string{date + "-*-" + mapName + "-round-1.txt"}
	if d, err := time.Parse("2006-01-02", date); err == nil {
		patterns = append(patterns, d.AddDate(0, 0, -1).Format("2006-01-02")+"-*-"+mapName+"-round-1.txt")
	}
	r2t, ok := realTime(date, hms)
	if !ok {
		return FileName{}, false
	}
	var best FileName
	var bestT time.Time
	found := false
	for _, pat := range patterns {
		for _, c := range candidates {
			if !globMatch(pat, c.Raw) {
				continue
			}
			cp := strings.Split(c.Raw, "-")
			if len(cp) < 4 {
				continue
			}
			ct, ok := realTime(strings.Join(cp[:3], "-"), cp[3])
			if !ok || !ct.Before(r2t) || r2t.Sub(ct) > window {
				continue
			}
			if !found || ct.After(bestT) {
				best, bestT, found = c, ct, true
			}
		}
	}
	return best, found
}

// globMatch is the shell glob of the reader's lookup. Map names are not
// escaped, so their metacharacters are live (S9). A malformed pattern
// matches only itself, as fnmatch treats an unclosed "[" literally.
func globMatch(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	if err != nil {
		return pattern == name
	}
	return ok
}

// StatsFile is one parsed stats file handed to PairAll.
type StatsFile struct {
	// Name is the base file name.
	Name string
	// Stats is ParseStats' result (it may carry only File when Err is set).
	Stats *Stats
	// Err is ParseStats' error.
	Err error
}

// PairAll pairs every file whose name marks it as round 2 (FileMeta.
// IsRound2ByName) with its round-1 file among the same files, and returns
// the R2 result for each such file (nil for the others), in input order.
// It is what a caller does with a whole folder: the reference output was
// produced this way.
//
// Native mode adds S6, S10 and S15: an R1 saved on the shutdown path, or
// whose header map differs from the R2's, or whose header round is not 1, is
// not a candidate; an R1 that fails to parse makes the R2 an orphan with a
// warning instead of an error; each R1
// is used by at most one R2 (files are processed in name-time order); and
// PairConfidence says whether the R2's timelimit (H7, the R1's elapsed
// time) confirms the R1's actual time (H8).
func PairAll(files []StatsFile, opt Options) []*R2 {
	out := make([]*R2, len(files))
	byName := make(map[string]int, len(files))
	var names []FileName
	for i, f := range files {
		byName[f.Name] = i
		if f.Stats != nil && f.Stats.File.FilenameOK && !f.Stats.File.IsEndstats {
			names = append(names, f.Stats.File.Parsed)
		}
	}
	if opt.Mode == Compat {
		for i, f := range files {
			if f.Stats == nil || !f.Stats.File.IsRound2ByName {
				continue
			}
			r1, ok := pairCompat(f.Name, names, opt.pairWindow())
			out[i] = resolve(f, r1, ok, files, byName, opt)
		}
		return out
	}

	// Native: R2 files in time order, each R1 used once.
	var order []int
	for i, f := range files {
		if f.Stats != nil && f.Stats.File.IsRound2ByName {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		return files[order[a]].Stats.File.Parsed.Time.Before(files[order[b]].Stats.File.Parsed.Time)
	})
	used := map[string]bool{}
	for _, i := range order {
		f := files[i]
		if f.Err != nil {
			out[i] = PairFailed(nil, "", opt)
			continue
		}
		if f.Stats.Aborted {
			out[i] = Orphan(f.Stats, "saved on the shutdown path (negative playtime); not paired")
			continue
		}
		var cands []FileName
		for _, c := range names {
			j := byName[c.Raw]
			r1 := files[j]
			if used[c.Raw] {
				continue
			}
			// A failed R1 stays a candidate by name: if it is the one chosen,
			// the R2 becomes an orphan with a warning (S6).
			if r1.Err == nil && (r1.Stats.Aborted || r1.Stats.Header.Map != f.Stats.Header.Map || r1.Stats.Header.Round != 1) {
				continue
			}
			cands = append(cands, c)
		}
		r1, ok := PairR1(f.Stats.File.Parsed, cands, opt)
		if ok {
			used[r1.Raw] = true
		}
		out[i] = resolve(f, r1, ok, files, byName, opt)
	}
	return out
}

func resolve(f StatsFile, r1 FileName, ok bool, files []StatsFile, byName map[string]int, opt Options) *R2 {
	if !ok {
		if f.Err != nil {
			return PairFailed(nil, "", opt)
		}
		return Orphan(f.Stats, "")
	}
	r1f := files[byName[r1.Raw]]
	if r1f.Err != nil || f.Err != nil {
		if f.Err != nil {
			return PairFailed(nil, r1.Raw, opt)
		}
		return PairFailed(f.Stats, r1.Raw, opt)
	}
	res := Differential(r1f.Stats, f.Stats, opt)
	if opt.Mode == Native {
		res.PairConfidence = pairConfidence(r1f.Stats, f.Stats)
	}
	return res
}

// pairConfidence compares the R2's H7 (set by the engine from R1's elapsed
// time) with the R1's H8 (that elapsed time): "confirmed" when they agree
// within a second, "unconfirmed" otherwise (S10).
func pairConfidence(r1, r2 *Stats) string {
	a, okA, _ := contractTimeSeconds(r2.Header.Timelimit)
	b, okB, _ := contractTimeSeconds(r1.Header.ActualTime)
	if okA && okB && a-b <= 1 && b-a <= 1 {
		return "confirmed"
	}
	return "unconfirmed"
}

// LinkEndstats finds the stats file an endstats file belongs to among
// stats names supplied by the caller (endstats-format.md section 5): same
// map and round, and the smallest time difference within 30 seconds (ties:
// the earliest name). Compat also requires the same date string and
// compares seconds of the day, so a round straddling midnight never links;
// native compares full timestamps (E4).
func LinkEndstats(end FileName, stats []FileName, opt Options) (Link, bool) {
	if end.Kind != KindEndstats || len(end.Raw) < 18 {
		return Link{}, false
	}
	var best Link
	bestAbs := 0
	for _, s := range stats {
		if s.Kind != KindStats || s.Map != end.Map || s.Round != end.Round || len(s.Raw) < 18 {
			continue
		}
		var delta int
		if opt.Mode == Compat {
			if s.Raw[:10] != end.Raw[:10] {
				continue
			}
			delta = secondsOfDay(s.Raw[11:17]) - secondsOfDay(end.Raw[11:17])
		} else {
			delta = int(s.Time.Sub(end.Time) / time.Second)
		}
		abs := delta
		if abs < 0 {
			abs = -abs
		}
		if abs > 30 {
			continue
		}
		if !best.Found || abs < bestAbs || (abs == bestAbs && s.Raw < best.StatsFile.Raw) {
			best = Link{Found: true, StatsFile: s, DeltaSeconds: delta}
			bestAbs = abs
		}
	}
	return best, best.Found
}

// secondsOfDay reads "HHMMSS" digits as written (no range check, like the
// reader's arithmetic on the digits).
func secondsOfDay(hms string) int {
	return atoi(hms[0:2])*3600 + atoi(hms[2:4])*60 + atoi(hms[4:6])
}
