package parser

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// awardTitles is the writer's title list (endstats-format.md section 3,
// step 6): every title of section 2.A plus the three never written.
var awardTitles = []string{
	"Most damage given", "Most damage received", "Most team damage given",
	"Most team damage received", "Most teamkills", "Most selfkills", "Most deaths",
	"Most kills per minute", "Quickest multikill w/ light weapons", "Farthest riflenade kill",
	"Most light weapon kills", "Most pistol kills", "Most rifle kills", "Most riflenade kills",
	"Most sniper kills", "Most knife kills", "Most air support kills", "Most mine kills",
	"Most grenade kills", "Most panzer kills", "Most mortar kills", "Most panzer deaths",
	"Mortarmagnet", "Most multikills", "Most MG42 kills", "Most MG42 deaths", "Most revives",
	"Most revived", "Best K/D ratio", "Most dynamites planted", "Most dynamites defused",
	"Most doublekills", "Longest killing spree", "Longest death spree", "Most objectives stolen",
	"Most objectives returned", "Most corpse gibs", "Most kill assists", "Most killsteals",
	"Most headshot kills", "Most damage per minute", "Tank/Meatshield (Refuses to die)",
	"Most useful kills (>Half respawn time left)", "Full respawn king",
	"Least time dead (What spawn?)", "Most playtime denied", "Most useless kills",
	"Highest light weapons accuracy", "Highest headshot accuracy", "Most headshots",
	"Most bullets fired",
}

// titlesByFirstByte groups awardTitles by their first byte, so that a
// versus row (an opponent's name) is usually rejected with one lookup.
var titlesByFirstByte = func() map[byte][]string {
	m := map[byte][]string{}
	for _, t := range awardTitles {
		m[t[0]] = append(m[t[0]], t)
	}
	return m
}()

// isAwardTitle is the reader's test: equal to a known title or starting
// with one.
func isAwardTitle(s string) bool {
	if s == "" {
		return false
	}
	for _, t := range titlesByFirstByte[s[0]] {
		if strings.HasPrefix(s, t) {
			return true
		}
	}
	return false
}

// ParseEndstats parses an endstats (awards) file (endstats-format.md).
//
// name is the base file name. The error is non-nil only for a file-level
// failure: a *ParseError with CodeTooLarge (checked first; matches
// ErrTooLarge) or CodeBadFilename (the name does not match the endstats
// grammar; the reader refuses such files). The *Endstats is then still
// returned with File filled in. Lines that are neither an award nor a
// versus row are skipped and recorded in Diagnostics.
//
// Compat reproduces the reader (E1–E3): every line is stripped before it
// is split on TAB, an award is recognised by title prefix anywhere in the
// file, and the numeric value is the leading [0-9.]+ prefix. Native splits
// without stripping TABs, reads every line after the first VS_HEADER as a
// versus row, and parses values per title.
//
// ParseEndstats is safe for concurrent use.
func ParseEndstats(name string, data []byte, opt Options) (*Endstats, error) {
	es := &Endstats{Mode: opt.Mode}
	if len(data) > opt.maxSize() {
		es.File = newFileMeta(name, nil, false)
		es.File.Size = len(data)
		return es, tooLarge(name, len(data), opt.maxSize())
	}
	es.File = newFileMeta(name, data, !opt.SkipDigest)
	if !es.File.FilenameOK || es.File.Parsed.Kind != KindEndstats {
		return es, &ParseError{File: name, Code: CodeBadFilename, Msg: "name does not match the endstats grammar"}
	}
	es.MatchID = es.File.Date + "-" + es.File.Time + "-" + es.File.Map
	var text string
	if utf8.Valid(data) {
		text = string(data)
	} else {
		text = string(replaceInvalidUTF8(data)) // S18: replaced, not dropped
	}
	native := opt.Mode == Native
	// Chunked stores (see chunks.go): one allocation for a normal file,
	// memory linear in the input for a hostile one.
	est := strings.Count(text, "\n") + 1
	if est > 512 {
		est = 512
	}
	awards := newChunks[Award](64)
	versus := newChunks[Versus](est)
	var diags chunks[Diagnostic]
	var subject, guid string
	hasSubject, hasGUID := false, false
	inVersus := false
	var fields [3]string
	it := newLineIter(text)
	for {
		line, _, ok := it.next()
		if !ok {
			break
		}
		if isBlank(line) {
			continue
		}
		if !native {
			line = pyStrip(line)
		}
		// Split on TAB into at most 3 used fields, counting all.
		n := 0
		rest := line
		for {
			i := strings.IndexByte(rest, '\t')
			if n < 3 {
				if i < 0 {
					fields[n] = rest
				} else {
					fields[n] = rest[:i]
				}
			}
			n++
			if i < 0 {
				break
			}
			rest = rest[i+1:]
		}
		first := pyStrip(fields[0])
		if first == "VS_HEADER" {
			inVersus = true
			hasSubject, hasGUID = n > 1, n > 2
			subject, guid = "", ""
			if hasSubject {
				subject = pyStrip(fields[1])
			}
			if hasGUID {
				guid = pyStrip(fields[2])
				if native && guid == "" {
					hasGUID = false
				}
			}
			continue
		}
		if n < 3 {
			diags.add(Diagnostic{Line: it.no, Reason: "fewer than 3 TAB-separated fields", Dropped: true})
			continue
		}
		award := !(native && inVersus) && isAwardTitle(first) // E1
		if award {
			a := Award{Line: it.no, Title: first, Player: pyStrip(fields[1]), Value: pyStrip(fields[2])}
			if native {
				a.Number, a.HasNumber = nativeAwardNumber(a.Title, a.Value)
			} else {
				a.Number, a.HasNumber = compatAwardNumber(a.Value)
			}
			awards.add(a)
			continue
		}
		k, ok1 := pyInt(fields[1])
		d, ok2 := pyInt(fields[2])
		if !ok1 || !ok2 || k != int64(int(k)) || d != int64(int(d)) {
			diags.add(Diagnostic{Line: it.no, Reason: "neither an award nor a versus row", Dropped: true})
			continue
		}
		versus.add(Versus{Line: it.no, HasSubject: hasSubject, Subject: subject,
			HasSubjectGUID: hasGUID, SubjectGUID: guid, Player: first, Kills: int(k), Deaths: int(d)})
	}
	es.Awards = awards.all()
	es.Versus = versus.all()
	es.Diagnostics = diags.all()
	return es, nil
}

// compatAwardNumber is the reader's value parse: the float of a leading
// [0-9.]+ prefix ("1.2.3" and "-5" give none).
func compatAwardNumber(v string) (float64, bool) {
	i := 0
	for i < len(v) && (v[i] == '.' || (v[i] >= '0' && v[i] <= '9')) {
		i++
	}
	if i == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(v[:i], 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// nativeAwardNumber parses the number a title's value format carries (E3):
// the ratio of the tank award, the kill count of "n kills in s", otherwise
// a leading signed decimal number followed by the end or a space.
func nativeAwardNumber(title, v string) (float64, bool) {
	if strings.HasPrefix(title, "Tank/Meatshield") {
		const p = "Damage received vs death ratio: "
		if !strings.HasPrefix(v, p) {
			return 0, false
		}
		return leadingNumber(strings.TrimSuffix(v[len(p):], "x"))
	}
	return leadingNumber(v)
}

// leadingNumber reads [+-]digits[.digits] at the start of v, which must be
// followed by the end of v or a space.
func leadingNumber(v string) (float64, bool) {
	i := 0
	if i < len(v) && (v[i] == '-' || v[i] == '+') {
		i++
	}
	start := i
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == start {
		return 0, false
	}
	if i < len(v) && v[i] == '.' {
		j := i + 1
		for j < len(v) && v[j] >= '0' && v[j] <= '9' {
			j++
		}
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(v) && v[i] != ' ' {
		return 0, false
	}
	f, err := strconv.ParseFloat(v[:i], 64)
	if err != nil {
		return 0, false
	}
	return f, true
}
