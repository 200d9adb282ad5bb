// Package parser reads ET:Legacy round stats files and their endstats
// (awards) files, validates their names, pairs a round-2 file with its round
// 1 and computes the round-2 differential.
//
// It is pure: bytes in, values out. It does no I/O, scans no directories and
// imports only the standard library. The formats are specified in the
// project's spec folder (stats-format.md, endstats-format.md).
//
// # Entry points
//
//   - ValidateName / ParseFileName: file names (strict for names from the
//     network or a listing; lenient as the reference reader).
//   - ParseStats, ParseEndstats: one file's bytes to typed values. A file-level
//     failure is a *ParseError naming the file, line and field; a bad line is
//     skipped and recorded as a Diagnostic, never an error.
//   - PairR1, PairAll, Differential, Orphan, PairFailed: round 2 against
//     round 1, over names and parsed files the caller supplies.
//   - LinkEndstats: an awards file to its stats file.
//   - ParseFiles: all of the above for a set of files, as for a folder.
//   - CanonicalStats, CanonicalEndstats: the canonical JSON of the format
//     specification, computed only when asked for.
//
// # Modes
//
// Native (the default) does what reader-differences.md recommends. Compat
// reproduces the reference reader (slomix at commit 9bf6b566d858) so that
// its canonical JSON equals the reference output for every sample file.
// Native differs from compat only in the items of reader-differences.md
// whose native column is not "same as compat": S1–S7, S9, S10, S12, S15
// and E1–E4. S7 covers every infinite time the reader would convert to an
// integer (T22, and H7/H8 in the round contract); native reads them as 0
// or unknown.
//
// # Limits
//
// Inputs above Options.MaxSize (4 MiB by default) are refused before any
// parsing. Memory is linear in the input: the worst case, a file made only
// of minimal player lines, allocates about 70 bytes per input byte (the
// stores grow by chunks, never by copying). Every function is safe for
// concurrent use; results share nothing with the input bytes.
//
// Known departures from the reference reader that no sample exercises and
// no real writer produces: integers are 64-bit (Python's are unbounded; a
// longer number is treated as not a number), and only ASCII digits count
// as digits (Python's int() and isdigit() also accept other Unicode decimal
// digits).
//
// # Speed
//
// A 24-player stats file parses without splitting into per-field strings:
// numbers are read in place, weapon names are shared constants, and every
// derived string (clean names, bot GUIDs, time displays) lives in one arena,
// so a file costs a constant number of allocations (about 16), not a number
// per player.
package parser
