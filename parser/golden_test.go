package parser

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestNativeGolden pins the native-mode output for every sample file
// (paired and linked over the whole folder). Native output differs from
// the reference exactly where reader-differences.md says; the per-item
// tests in native_test.go show each difference, this test catches any
// unintended change. Regenerate with: go test ./parser -run NativeGolden -update
func TestNativeGolden(t *testing.T) {
	dir := samplesDir(t)
	files := loadSamples(t, dir)
	golden := filepath.Join("testdata", "golden", "native")
	if *update {
		if err := os.MkdirAll(golden, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range ParseFiles(files, nativeOpt, true) {
		got := append(r.Canonical(), '\n')
		path := filepath.Join(golden, r.Name+".json")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create the golden files)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: native output changed:\n%s", r.Name, compareCanonicalText(want, got))
		}
	}
}

func compareCanonicalText(want, got []byte) string {
	d := compareCanonical(want, got)
	if len(d) == 0 {
		return "  (same values, different bytes)"
	}
	if len(d) > 10 {
		d = d[:10]
	}
	var b bytes.Buffer
	for _, l := range d {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}
