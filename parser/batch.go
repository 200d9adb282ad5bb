package parser

import "strings"

// File is one input of ParseFiles: a base name and its bytes.
type File struct {
	// Name is the base file name; names ending in "-endstats.txt" are
	// parsed as endstats files, all others as stats files.
	Name string
	// Data is the content. A caller may hand in only the first
	// MaxSize+1 bytes of a larger file; the file is refused as too large.
	Data []byte
	// Size, when larger than len(Data), is the file's real size (reported
	// in the canonical "size_bytes" of a refused file).
	Size int
}

// Parsed is the result of ParseFiles for one input: exactly one of Stats and
// Endstats is set (with Err for a file-level failure), plus the pairing
// result.
type Parsed struct {
	// Name is the input's name.
	Name string
	// Stats is set for a stats file (also when Err is set).
	Stats *Stats
	// Endstats is set for an endstats file (also when Err is set).
	Endstats *Endstats
	// Err is the file-level failure, a *ParseError, or nil.
	Err error
	// R2 is the pairing result of a round-2 stats file (nil otherwise or
	// without pairing).
	R2 *R2
	// Link is the link of an endstats file (nil without pairing or when the
	// file failed).
	Link *Link
}

// Canonical returns the canonical JSON object of the result.
func (p *Parsed) Canonical() []byte {
	if p.Endstats != nil || (p.Stats == nil && strings.HasSuffix(p.Name, endstatsSuffix)) {
		return CanonicalEndstats(p.Endstats, p.Err, p.Link)
	}
	return CanonicalStats(p.Stats, p.Err, p.R2)
}

// ParseFiles parses a set of files the way a folder is processed: every
// file on its own, then, with pair set, every round-2 stats file paired
// among them (PairAll) and every endstats file linked to a stats file among
// them (LinkEndstats). Results are in input order.
func ParseFiles(files []File, opt Options, pair bool) []Parsed {
	out := make([]Parsed, len(files))
	var stats []StatsFile
	var statsIdx []int
	for i, f := range files {
		out[i].Name = f.Name
		if strings.HasSuffix(f.Name, endstatsSuffix) {
			out[i].Endstats, out[i].Err = ParseEndstats(f.Name, f.Data, opt)
			fixSize(&out[i].Endstats.File, f)
			continue
		}
		out[i].Stats, out[i].Err = ParseStats(f.Name, f.Data, opt)
		fixSize(&out[i].Stats.File, f)
		stats = append(stats, StatsFile{Name: f.Name, Stats: out[i].Stats, Err: out[i].Err})
		statsIdx = append(statsIdx, i)
	}
	if !pair {
		return out
	}
	for j, r := range PairAll(stats, opt) {
		out[statsIdx[j]].R2 = r
	}
	var names []FileName
	for _, s := range stats {
		if s.Stats.File.FilenameOK {
			names = append(names, s.Stats.File.Parsed)
		}
	}
	for i := range out {
		if out[i].Endstats != nil && out[i].Err == nil {
			l, _ := LinkEndstats(out[i].Endstats.File.Parsed, names, opt)
			out[i].Link = &l
		}
	}
	return out
}

func fixSize(m *FileMeta, f File) {
	if f.Size > m.Size {
		m.Size = f.Size
	}
}
