//go:build race

package ingest_test

// raceEnabled: the race detector slows SQLite (pure Go) several times; the
// crash test imports fewer files then.
const raceEnabled = true
