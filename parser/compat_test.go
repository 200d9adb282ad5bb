package parser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The reference comparison of stats-format.md section 11: every sample file
// parsed in compat mode, paired and linked over the whole folder, must equal
// the reference reader's canonical JSON field for field.

// samplesDir returns the folder holding files/ and reference/: the copy in
// testdata (preferred, so the test runs from the repository alone), else a
// shared/samples folder found by walking up from the package directory.
func samplesDir(t testing.TB) string {
	t.Helper()
	if fi, err := os.Stat(filepath.Join("testdata", "samples", "reference")); err == nil && fi.IsDir() {
		return filepath.Join("testdata", "samples")
	}
	if d := sharedSamplesDir(); d != "" {
		return d
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("sample files not found: neither parser/testdata/samples nor a shared/samples folder above the package")
	}
	t.Skip("sample files not found: parser/testdata/samples is missing and no shared/samples folder exists above the package directory")
	return ""
}

// sharedSamplesDir walks up from the working directory (the package
// directory under go test) looking for shared/samples.
func sharedSamplesDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		c := filepath.Join(dir, "shared", "samples")
		if fi, err := os.Stat(filepath.Join(c, "reference")); err == nil && fi.IsDir() {
			return c
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// loadSamples reads every input file of dir/files, sorted by name.
func loadSamples(t testing.TB, dir string) []File {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	var files []File
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "files", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, File{Name: e.Name(), Data: b})
	}
	sort.Slice(files, func(a, b int) bool { return files[a].Name < files[b].Name })
	return files
}

func TestCompatReference(t *testing.T) {
	dir := samplesDir(t)
	files := loadSamples(t, dir)
	if len(files) != 58 {
		t.Fatalf("found %d sample files, want 58", len(files))
	}
	res := ParseFiles(files, Options{Mode: Compat}, true)
	matched := 0
	for i := range res {
		name := res[i].Name
		want, err := os.ReadFile(filepath.Join(dir, "reference", name+".json"))
		if err != nil {
			t.Errorf("%s: no reference: %v", name, err)
			continue
		}
		got := res[i].Canonical()
		diffs := compareCanonical(want, got)
		if len(diffs) > 0 {
			if len(diffs) > 10 {
				diffs = diffs[:10]
			}
			t.Errorf("%s differs from the reference:\n  %s", name, strings.Join(diffs, "\n  "))
			continue
		}
		matched++
	}
	t.Logf("compat: %d/%d files match the reference", matched, len(files))
}

// TestSamplesCopyMatchesShared guards the testdata copy: when the shared
// folder is present, both must be byte-identical.
func TestSamplesCopyMatchesShared(t *testing.T) {
	shared := sharedSamplesDir()
	if shared == "" {
		t.Skip("no shared/samples folder above the package: nothing to compare the testdata copy with")
	}
	local := filepath.Join("testdata", "samples")
	for _, sub := range []string{"files", "reference"} {
		ents, err := os.ReadDir(filepath.Join(shared, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			a, err := os.ReadFile(filepath.Join(shared, sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(local, sub, e.Name()))
			if err != nil {
				t.Errorf("testdata copy lacks %s/%s: %v", sub, e.Name(), err)
				continue
			}
			if !bytes.Equal(a, b) {
				t.Errorf("testdata copy of %s/%s differs from shared/samples", sub, e.Name())
			}
		}
	}
}

// compareCanonical applies the comparison rules of section 11 and returns
// one line per difference. Numbers compare numerically (ints exactly, floats
// with a relative tolerance of 1e-9), "NaN"/"Infinity" strings as strings;
// source_commit, harness_checks (top level) and error_detail (any level)
// are ignored.
func compareCanonical(want, got []byte) []string {
	var w, g any
	if err := decodeNumbers(want, &w); err != nil {
		return []string{"reference is not JSON: " + err.Error()}
	}
	if err := decodeNumbers(got, &g); err != nil {
		return []string{"output is not JSON: " + err.Error()}
	}
	var out []string
	walkCompare(w, g, "", &out)
	return out
}

func decodeNumbers(b []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

func ignoredKey(path, key string) bool {
	if key == "error_detail" {
		return true
	}
	return path == "" && (key == "source_commit" || key == "harness_checks")
}

func walkCompare(w, g any, path string, out *[]string) {
	switch wv := w.(type) {
	case map[string]any:
		gv, ok := g.(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: object != %T", path, g))
			return
		}
		keys := map[string]bool{}
		for k := range wv {
			keys[k] = true
		}
		for k := range gv {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if ignoredKey(path, k) {
				continue
			}
			p := k
			if path != "" {
				p = path + "." + k
			}
			a, inW := wv[k]
			b, inG := gv[k]
			switch {
			case !inG:
				*out = append(*out, p+": missing in output")
			case !inW:
				*out = append(*out, p+": unexpected in output")
			default:
				walkCompare(a, b, p, out)
			}
		}
	case []any:
		gv, ok := g.([]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: array != %T", path, g))
			return
		}
		if len(wv) != len(gv) {
			*out = append(*out, fmt.Sprintf("%s: length %d != %d", path, len(wv), len(gv)))
		}
		for i := 0; i < len(wv) && i < len(gv); i++ {
			walkCompare(wv[i], gv[i], path+"."+strconv.Itoa(i), out)
		}
	case json.Number:
		gv, ok := g.(json.Number)
		if !ok || !numbersEqual(wv, gv) {
			*out = append(*out, fmt.Sprintf("%s: %v != %v", path, w, g))
		}
	default:
		if w != g {
			*out = append(*out, fmt.Sprintf("%s: %#v != %#v", path, w, g))
		}
	}
}

func numbersEqual(a, b json.Number) bool {
	ai, errA := strconv.ParseInt(string(a), 10, 64)
	bi, errB := strconv.ParseInt(string(b), 10, 64)
	if errA == nil && errB == nil {
		return ai == bi
	}
	af, err1 := strconv.ParseFloat(string(a), 64)
	bf, err2 := strconv.ParseFloat(string(b), 64)
	if err1 != nil || err2 != nil {
		return false
	}
	return math.Abs(af-bf) <= 1e-9*math.Max(1, math.Max(math.Abs(af), math.Abs(bf)))
}

func TestCompareCanonicalRules(t *testing.T) {
	tests := []struct {
		name      string
		want, got string
		diffs     int
	}{
		{"int equals float", `{"a":1}`, `{"a":1.0}`, 0},
		{"relative tolerance", `{"a":1e12}`, `{"a":1.0000000000001e12}`, 0},
		{"beyond tolerance", `{"a":1.0}`, `{"a":1.00001}`, 1},
		{"ints exact", `{"a":9007199254740993}`, `{"a":9007199254740992}`, 1},
		{"NaN strings", `{"a":"NaN"}`, `{"a":"NaN"}`, 0},
		{"NaN vs number", `{"a":"NaN"}`, `{"a":0}`, 1},
		{"error_detail ignored anywhere", `{"error_detail":"x","r2":{"error_detail":"y"}}`, `{"error_detail":"z","r2":{"error_detail":null}}`, 0},
		{"source_commit and harness_checks ignored", `{"source_commit":"abc","harness_checks":{}}`, `{}`, 0},
		{"missing key", `{"a":1,"b":2}`, `{"a":1}`, 1},
		{"extra key", `{"a":1}`, `{"a":1,"b":2}`, 1},
		{"list length", `{"a":[1,2]}`, `{"a":[1]}`, 1},
		{"null vs value", `{"a":null}`, `{"a":0}`, 1},
		{"bool", `{"a":true}`, `{"a":false}`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := compareCanonical([]byte(tc.want), []byte(tc.got)); len(d) != tc.diffs {
				t.Errorf("got %d differences %q, want %d", len(d), d, tc.diffs)
			}
		})
	}
}
