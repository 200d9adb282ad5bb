// Package parser reads ET:Legacy round stats files and their endstats
// (awards) files, validates their names, pairs a round-2 file with its round
// 1 and computes the round-2 differential.
//
// It is pure: bytes in, values out. It does no I/O, scans no directories and
// imports only the standard library. The formats are specified in the
// project's spec folder (stats-format.md, endstats-format.md).
package parser
