package parser

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file reproduces the few Python text rules the reference reader relies
// on (str.isspace, str.strip, str.split(), int(), float(), universal
// newlines), over Go strings, without allocating on the common ASCII path.

// isPySpaceASCII reports Python str.isspace for one ASCII byte: TAB, LF, VT,
// FF, CR, the separators 0x1c–0x1f and space.
func isPySpaceASCII(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f)
}

// isPySpace reports Python str.isspace for one rune. Go's unicode.IsSpace is
// the White_Space property; Python adds the four ASCII separators 0x1c–0x1f.
func isPySpace(r rune) bool {
	if r < utf8.RuneSelf {
		return isPySpaceASCII(byte(r))
	}
	return unicode.IsSpace(r)
}

// pyStrip is Python str.strip().
func pyStrip(s string) string {
	return pyStripRight(pyStripLeft(s))
}

func pyStripLeft(s string) string {
	for len(s) > 0 {
		c := s[0]
		if c < utf8.RuneSelf {
			if !isPySpaceASCII(c) {
				return s
			}
			s = s[1:]
			continue
		}
		r, n := utf8.DecodeRuneInString(s)
		if !unicode.IsSpace(r) {
			return s
		}
		s = s[n:]
	}
	return s
}

func pyStripRight(s string) string {
	for len(s) > 0 {
		c := s[len(s)-1]
		if c < utf8.RuneSelf {
			if !isPySpaceASCII(c) {
				return s
			}
			s = s[:len(s)-1]
			continue
		}
		r, n := utf8.DecodeLastRuneInString(s)
		if !unicode.IsSpace(r) {
			return s
		}
		s = s[:len(s)-n]
	}
	return s
}

// isBlank reports whether s is empty or only Python whitespace.
func isBlank(s string) bool { return pyStripLeft(s) == "" }

// nextField returns the next token of Python str.split() (runs of
// whitespace) starting at s, and the rest after it. tok is "" at the end.
func nextField(s string) (tok, rest string) {
	s = pyStripLeft(s)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if isPySpaceASCII(c) {
				return s[:i], s[i:]
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			return s[:i], s[i:]
		}
		i += n
	}
	return s, ""
}

// isASCIIDigits reports a non-empty string of ASCII digits (Python isdigit,
// restricted to ASCII; see the package notes on Unicode digits).
func isASCIIDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// maxPyInt bounds integers: Python's are unbounded, ours saturate-free fail
// beyond ±9.2e18 (parseInt reports !ok).
const maxPyInt = math.MaxInt64

// pyInt is Python int(s) for ASCII input: surrounding whitespace allowed, an
// optional sign, digits with single underscores between them. ok is false
// where Python raises ValueError, and for values outside int64.
func pyInt(s string) (int64, bool) {
	// Fast path: plain ASCII digits, the writer's format.
	if n := len(s); n > 0 && n <= 18 {
		var v int64
		i := 0
		for ; i < n; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				break
			}
			v = v*10 + int64(c-'0')
		}
		if i == n {
			return v, true
		}
	}
	s = pyStrip(s)
	if s == "" {
		return 0, false
	}
	neg := false
	switch s[0] {
	case '+':
		s = s[1:]
	case '-':
		neg = true
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var v uint64
	prevDigit := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			if !prevDigit || i+1 >= len(s) {
				return 0, false
			}
			prevDigit = false
			continue
		}
		if c < '0' || c > '9' {
			return 0, false
		}
		prevDigit = true
		if v > (1<<63)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
		if v > 1<<63 {
			return 0, false
		}
	}
	if !prevDigit {
		return 0, false
	}
	if neg {
		return -int64(v), true // v == 1<<63 wraps to MinInt64, which is exact
	}
	if v > maxPyInt {
		return 0, false
	}
	return int64(v), true
}

var pow10tab = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// pyFloat is Python float(s): surrounding whitespace, sign, decimal digits
// with an optional fraction and exponent (single underscores between
// digits), or "inf", "infinity", "nan" in any case with an optional sign.
// Overflow gives ±Inf like Python. ok is false where Python raises.
func pyFloat(s string) (float64, bool) {
	// Fast path: [digits][.digits] with at most 15 significant digits is
	// exact: an integer below 2^53 divided by an exact power of ten rounds
	// once, correctly.
	if n := len(s); n > 0 && n <= 16 {
		var m uint64
		digits, frac := 0, -1
		i := 0
		for ; i < n; i++ {
			c := s[i]
			if c >= '0' && c <= '9' {
				m = m*10 + uint64(c-'0')
				digits++
				if frac >= 0 {
					frac++
				}
				continue
			}
			if c == '.' && frac < 0 {
				frac = 0
				continue
			}
			break
		}
		if i == n && digits > 0 && digits <= 15 {
			if frac <= 0 {
				return float64(m), true
			}
			return float64(m) / pow10tab[frac], true
		}
	}
	s = pyStrip(s)
	if s == "" {
		return 0, false
	}
	body := s
	sign := 1.0
	switch body[0] {
	case '+':
		body = body[1:]
	case '-':
		sign = -1
		body = body[1:]
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		return math.Inf(int(sign)), true
	case "nan":
		return math.NaN(), true
	}
	if !validPyFloat(body) {
		return 0, false
	}
	if strings.IndexByte(body, '_') >= 0 {
		body = strings.ReplaceAll(body, "_", "")
	}
	f, err := strconv.ParseFloat(body, 64)
	if err != nil {
		// Only ErrRange can remain: f is ±Inf or 0, as in Python.
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return sign * f, true
}

// validPyFloat checks the unsigned decimal grammar of Python float():
// digitpart ["." [digitpart]] | "." digitpart, then an optional exponent.
func validPyFloat(s string) bool {
	i := 0
	digitpart := func() bool {
		start := i
		prev := false
		for i < len(s) {
			c := s[i]
			if c >= '0' && c <= '9' {
				prev = true
				i++
				continue
			}
			if c == '_' && prev && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
				prev = false
				i++
				continue
			}
			break
		}
		return i > start
	}
	intPart := digitpart()
	fracPart := false
	if i < len(s) && s[i] == '.' {
		i++
		fracPart = digitpart()
	}
	if !intPart && !fracPart {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digitpart() {
			return false
		}
	}
	return i == len(s)
}

// pyTrunc is Python int(f) for a float: truncation toward zero. ok is false
// where Python raises (NaN: ValueError; ±Inf: OverflowError) and, beyond
// Python, where the result does not fit in int64.
func pyTrunc(f float64) (int64, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	t := math.Trunc(f)
	if t >= 9.2e18 || t <= -9.2e18 {
		return 0, false
	}
	return int64(t), true
}

// pyRound1 is Python round(x, 1): the correctly rounded decimal of the
// exact binary value, ties to even.
func pyRound1(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	var buf [64]byte
	b := strconv.AppendFloat(buf[:0], x, 'f', 1, 64)
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return x
	}
	return f
}

// floorDiv and floorMod are Python's // and % for ints.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m != 0 && ((m < 0) != (b < 0)) {
		m += b
	}
	return m
}

// dropInvalidUTF8 is Python's decode("utf-8", errors="ignore").
func dropInvalidUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			out = append(out, b[i])
			i++
			continue
		}
		n := validSeqLen(b[i:])
		if n > 0 {
			out = append(out, b[i:i+n]...)
			i += n
			continue
		}
		i += maximalSubpart(b[i:])
	}
	return out
}

// replaceInvalidUTF8 is Python's decode("utf-8", errors="replace"): one
// U+FFFD per maximal subpart of an ill-formed sequence (Unicode 3.9, the
// rule CPython follows), which is not the same as one per byte or per run.
func replaceInvalidUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			out = append(out, b[i])
			i++
			continue
		}
		n := validSeqLen(b[i:])
		if n > 0 {
			out = append(out, b[i:i+n]...)
			i += n
			continue
		}
		out = append(out, "\uFFFD"...)
		i += maximalSubpart(b[i:])
	}
	return out
}

// validSeqLen returns the length of the valid UTF-8 sequence at b[0], or 0.
func validSeqLen(b []byte) int {
	r, n := utf8.DecodeRune(b)
	if r == utf8.RuneError && n <= 1 {
		return 0
	}
	return n
}

// maximalSubpart returns how many bytes of the ill-formed sequence at b[0]
// form one maximal subpart (at least 1).
func maximalSubpart(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	i := 1
	for k := 0; k < need && i < len(b); k++ {
		x := b[i]
		if k == 0 {
			if x < lo || x > hi {
				break
			}
		} else if x < 0x80 || x > 0xBF {
			break
		}
		i++
	}
	return i
}

// lineIter splits text by Python universal newlines (\n, \r\n, lone \r),
// the way readlines() on a text file does: a final line without terminator
// counts, an empty final segment does not.
type lineIter struct {
	s     string
	pos   int
	no    int
	hasCR bool // s contains '\r' somewhere; otherwise split on '\n' only
}

func newLineIter(s string) lineIter {
	return lineIter{s: s, hasCR: strings.IndexByte(s, '\r') >= 0}
}

// next returns the next line without its terminator, whether it had one,
// and false at the end.
func (it *lineIter) next() (line string, terminated, ok bool) {
	if it.pos >= len(it.s) {
		return "", false, false
	}
	rest := it.s[it.pos:]
	var i int
	if it.hasCR {
		i = strings.IndexAny(rest, "\r\n")
	} else {
		i = strings.IndexByte(rest, '\n')
	}
	it.no++
	if i < 0 {
		it.pos = len(it.s)
		return rest, false, true
	}
	line = rest[:i]
	adv := i + 1
	if rest[i] == '\r' && i+1 < len(rest) && rest[i+1] == '\n' {
		adv++
	}
	it.pos += adv
	return line, true, true
}
