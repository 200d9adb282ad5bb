package parser

import "testing"

// BenchmarkParseStats parses a 24-player stats file (native mode).
func BenchmarkParseStats(b *testing.B) {
	data := buildStats(24, 1)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseStats("2026-01-18-220832-supply-round-1.txt", data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseStatsNoDigest is BenchmarkParseStats without the SHA-256
// of the input (Options.SkipDigest).
func BenchmarkParseStatsNoDigest(b *testing.B) {
	data := buildStats(24, 1)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseStats("2026-01-18-220832-supply-round-1.txt", data, Options{SkipDigest: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseStatsCompat is the same file in compat mode.
func BenchmarkParseStatsCompat(b *testing.B) {
	data := buildStats(24, 1)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseStats("2026-01-18-220832-supply-round-1.txt", data, Options{Mode: Compat}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseEndstats parses a 24-player endstats file.
func BenchmarkParseEndstats(b *testing.B) {
	data := buildEndstats(24, 1)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseEndstats("2026-01-18-220830-supply-round-1-endstats.txt", data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCanonicalStats renders the canonical JSON of a parsed 24-player file.
func BenchmarkCanonicalStats(b *testing.B) {
	data := buildStats(24, 1)
	st, err := ParseStats("2026-01-18-220832-supply-round-1.txt", data, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		CanonicalStats(st, nil, nil)
	}
}

// BenchmarkBaselineByteSum reads every byte of the same file once and does
// nothing else: the machine's floor, to read the MB/s above against.
func BenchmarkBaselineByteSum(b *testing.B) {
	data := buildStats(24, 1)
	b.SetBytes(int64(len(data)))
	var sum int
	for b.Loop() {
		for _, c := range data {
			sum += int(c)
		}
	}
	if sum == 42 {
		b.Log(sum)
	}
}

// BenchmarkParseFilesSamples parses, pairs and links the 58 sample files.
func BenchmarkParseFilesSamples(b *testing.B) {
	files := loadSamples(b, samplesDir(b))
	var n int64
	for _, f := range files {
		n += int64(len(f.Data))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		ParseFiles(files, Options{Mode: Compat}, true)
	}
}
