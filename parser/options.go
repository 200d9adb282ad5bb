package parser

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Mode selects how closely the parser follows the reference reader.
type Mode uint8

const (
	// Native is the default: it does what reader-differences.md recommends
	// and differs from Compat only in the items listed there (S1–S7, S9,
	// S10, S12, S15, E1–E4).
	Native Mode = iota
	// Compat reproduces the reference reader (slomix at commit 9bf6b566d858)
	// exactly, for communities migrating existing data.
	Compat
)

// String returns "native" or "compat".
func (m Mode) String() string {
	if m == Compat {
		return "compat"
	}
	return "native"
}

// DefaultMaxSize is the size limit used when Options.MaxSize is 0: 4 MiB.
const DefaultMaxSize = 4 << 20

// DefaultPairWindow is the R1/R2 pairing window of stats-format.md section 8.
const DefaultPairWindow = 45 * time.Minute

// Options configure the parser. The zero value is valid: native mode, a
// 4 MiB size limit, the "[BOT]" name rule and a 45-minute pairing window.
type Options struct {
	// Mode is Native (default) or Compat.
	Mode Mode
	// MaxSize is the largest input accepted, in bytes; 0 means DefaultMaxSize.
	// Larger inputs are refused before any parsing with an error matching
	// ErrTooLarge.
	MaxSize int
	// BotName, when set, replaces compat mode's bot-name rule (a clean name
	// starting with "[BOT]", case-insensitive) like the reference reader's
	// BOT_NAME_REGEX. It is matched against the trimmed clean name and must
	// be anchored by the caller if a prefix match is meant. Native mode
	// classifies bots by their OMNIBOT GUID prefix instead (S1, S2) and
	// ignores it.
	BotName *regexp.Regexp
	// PairWindow is the longest gap between an R1 and its R2 file name;
	// 0 means DefaultPairWindow.
	PairWindow time.Duration
	// SkipDigest leaves FileMeta.SHA256 empty, for callers that hash the
	// bytes themselves (hashing is about a tenth of the parse time). The
	// canonical JSON then has an empty "sha256".
	SkipDigest bool
}

func (o Options) maxSize() int {
	if o.MaxSize <= 0 {
		return DefaultMaxSize
	}
	return o.MaxSize
}

func (o Options) pairWindow() time.Duration {
	if o.PairWindow <= 0 {
		return DefaultPairWindow
	}
	return o.PairWindow
}

// ErrTooLarge is matched (errors.Is) by the error ParseStats and
// ParseEndstats return for an input larger than Options.MaxSize.
var ErrTooLarge = errors.New("file too large")

// ErrorCode classifies a file-level failure. The values are the canonical
// "error" strings of stats-format.md section 11 and endstats-format.md
// section 6, plus CodeTooLarge.
type ErrorCode string

// File-level failure codes.
const (
	// CodeInsufficientLines: fewer than two lines (compat; native accepts a
	// header-only file, S5).
	CodeInsufficientLines ErrorCode = "insufficient_lines"
	// CodeInvalidHeader: the first line has fewer than 8 backslash fields.
	CodeInvalidHeader ErrorCode = "invalid_header"
	// CodeNonFiniteTime: a time value is infinite where the reference reader
	// converts it to an integer (compat only, S7).
	CodeNonFiniteTime ErrorCode = "non_finite_time"
	// CodeTooLarge: the input exceeds Options.MaxSize.
	CodeTooLarge ErrorCode = "too_large"
	// CodeBadFilename: an endstats name that does not match the grammar.
	CodeBadFilename ErrorCode = "bad_filename"
)

// ParseError is a file-level failure: the file could not be read as a whole.
// Line-level problems are not errors; they are Diagnostics on the result.
type ParseError struct {
	// File is the base file name given to the parse function.
	File string
	// Line is the 1-based line number the failure refers to, 0 for the file.
	Line int
	// Field names the field (e.g. "header", "T22 time_played_minutes"), or "".
	Field string
	// Code classifies the failure.
	Code ErrorCode
	// Msg is a short human-readable explanation. For compat failures it is
	// the reference reader's own message.
	Msg string
	// Err is the underlying sentinel, if any (ErrTooLarge).
	Err error
}

// Error returns "parser: FILE[:LINE][: FIELD]: CODE: MSG".
func (e *ParseError) Error() string {
	s := "parser: " + e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + string(e.Code) + ": " + e.Msg
}

// Unwrap returns the underlying sentinel (ErrTooLarge) or nil.
func (e *ParseError) Unwrap() error { return e.Err }

func tooLarge(name string, size, limit int) error {
	return &ParseError{File: name, Code: CodeTooLarge, Err: ErrTooLarge,
		Msg: fmt.Sprintf("%d bytes exceeds the limit of %d", size, limit)}
}
