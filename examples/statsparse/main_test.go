package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var samples = filepath.Join("..", "..", "parser", "testdata", "samples")

func TestCompatOutputMatchesReferenceShape(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-compat", "-pair", "-out", out, filepath.Join(samples, "files")}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	refs, err := filepath.Glob(filepath.Join(samples, "reference", "*.json"))
	if err != nil || len(refs) != 58 {
		t.Fatalf("%d reference files: %v", len(refs), err)
	}
	for _, ref := range refs {
		want := decode(t, ref)
		got := decode(t, filepath.Join(out, filepath.Base(ref)))
		// The full field-for-field comparison is parser's TestCompatReference;
		// here the CLI must write the same objects for the same files.
		for _, k := range []string{"ok", "error", "kind", "schema", "skipped_lines"} {
			if !jsonEqual(want[k], got[k]) {
				t.Errorf("%s: %s = %v, want %v", filepath.Base(ref), k, got[k], want[k])
			}
		}
		if !jsonEqual(want["link"], got["link"]) {
			t.Errorf("%s: link = %v, want %v", filepath.Base(ref), got["link"], want["link"])
		}
		if w, ok := want["r2"].(map[string]any); ok {
			g, _ := got["r2"].(map[string]any)
			if g == nil || w["status"] != g["status"] || w["r1_file"] != g["r1_file"] {
				t.Errorf("%s: r2 %v, want status %v r1 %v", filepath.Base(ref), g, w["status"], w["r1_file"])
			}
		}
	}
}

func decode(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestStdoutOneObjectPerLine(t *testing.T) {
	var stdout, stderr bytes.Buffer
	files := []string{
		filepath.Join(samples, "files", "2026-01-15-230015-et_ice-round-1.txt"),
		filepath.Join(samples, "files", "2026-01-15-230014-et_ice-round-1-endstats.txt"),
		filepath.Join(samples, "files", "2026-06-01-120000-empty_map-round-1.txt"),
	}
	if code := run(files, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	oks := map[string]bool{}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line is not one JSON object: %v", err)
		}
		oks[m["file"].(map[string]any)["name"].(string)] = m["ok"].(bool)
	}
	// Native mode: an empty file still fails (there is no header), as an
	// ok:false object, and the exit status stays 0.
	if oks["2026-06-01-120000-empty_map-round-1.txt"] || !oks["2026-01-15-230015-et_ice-round-1.txt"] {
		t.Errorf("ok flags %v", oks)
	}
}

func TestUsageAndIOErrors(t *testing.T) {
	tests := [][]string{
		{},
		{"-nope", "x"},
		{filepath.Join(t.TempDir(), "missing.txt")},
		{"-bench", "-1", samples},
	}
	for _, args := range tests {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 1 {
			t.Errorf("%q: exit %d, want 1", args, code)
		}
	}
	// Two inputs with the same base name would overwrite each other.
	dir := t.TempDir()
	for _, sub := range []string{"a", "b"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o755)
		os.WriteFile(filepath.Join(dir, sub, "2026-01-15-200000-m-round-1.txt"), []byte("x\n"), 0o644)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}, &stdout, &stderr); code != 1 {
		t.Errorf("duplicate names: exit %d, want 1", code)
	}
}

func TestBench(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-compat", "-pair", "-bench", "2", filepath.Join(samples, "files")}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	re := regexp.MustCompile(`^go_seconds_per_pass=[0-9.]+ files=58 bytes=86667 mb_per_s=[0-9.]+\n$`)
	if !re.MatchString(stdout.String()) {
		t.Errorf("bench line %q", stdout.String())
	}
}

func TestTooLargeFileIsAnObject(t *testing.T) {
	dir := t.TempDir()
	name := "2026-01-15-200000-m-round-1.txt"
	if err := os.WriteFile(filepath.Join(dir, name), make([]byte, 4<<20+10), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var m map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["ok"] != false || m["error"] != "too_large" || m["file"].(map[string]any)["size_bytes"] != float64(4<<20+10) {
		t.Errorf("got %v", m)
	}
}
