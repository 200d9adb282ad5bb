package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/internal/testutil"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
)

func TestList(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now()
	writeFile(t, filepath.Join(dir, nameB), "bb", now.Add(-time.Hour))
	writeFile(t, filepath.Join(dir, nameA), "a", now.Add(-2*time.Hour))
	writeFile(t, filepath.Join(dir, "2025-06-01-120000-supply-round-1.txt"), "old", now.Add(-30*24*time.Hour))
	writeFile(t, filepath.Join(dir, "readme.md"), "x", now)
	tests := []struct {
		name     string
		lookback time.Duration
		want     []string
	}{
		{"lookback filters old files", 7 * 24 * time.Hour, []string{nameA, nameB}},
		{"zero lookback lists all", 0, []string{"2025-06-01-120000-supply-round-1.txt", nameA, nameB}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig(dir)
			cfg.Lookback = tt.lookback
			w, err := NewWatcher(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := w.List(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range got {
				names = append(names, e.Name.Raw)
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("List = %v, want %v", names, tt.want)
			}
			if got[len(got)-1].Size != 2 {
				t.Errorf("size of %s = %d, want 2", got[len(got)-1].Name.Raw, got[len(got)-1].Size)
			}
			if w.Counters().SkippedNames != 1 {
				t.Errorf("skipped %d, want 1", w.Counters().SkippedNames)
			}
		})
	}
}

func TestFetch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clk := testutil.NewClock(time.Now())
	writeFile(t, filepath.Join(dir, nameA), "complete", clk.Now().Add(-time.Minute))
	writeFile(t, filepath.Join(dir, nameB), strings.Repeat("x", 101), clk.Now().Add(-time.Minute))
	writeFile(t, filepath.Join(dir, nameC), "being written", clk.Now().Add(-time.Second))
	w, err := NewWatcher(Config{Dir: dir, Settle: 2 * time.Second, MaxFileSize: 100, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	mustName := func(s string) parser.FileName {
		fn, err := parser.ValidateName(s)
		if err != nil {
			t.Fatal(err)
		}
		return fn
	}
	tests := []struct {
		name    string
		file    parser.FileName
		want    string
		wantErr error
	}{
		{"complete file", mustName(nameA), "complete", nil},
		{"over the limit", mustName(nameB), "", source.ErrTooLarge},
		{"modified within settle", mustName(nameC), "", source.ErrIncomplete},
		{"missing", mustName("2026-01-16-010101-supply-round-1.txt"), "", source.ErrNotFound},
		{"forged name", parser.FileName{Raw: "../" + nameA}, "", parser.ErrBadName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := w.Fetch(context.Background(), tt.file)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Fetch error %v, want %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Fatalf("Fetch = %q, want %q", got, tt.want)
			}
		})
	}
	// Two seconds later the file being written is complete.
	clk.Advance(2 * time.Second)
	if got, err := w.Fetch(context.Background(), mustName(nameC)); err != nil || string(got) != "being written" {
		t.Fatalf("Fetch after settle = %q, %v", got, err)
	}
}

func TestFetchCanceled(t *testing.T) {
	t.Parallel()
	w, err := NewWatcher(DefaultConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.Fetch(ctx, parser.FileName{Raw: nameA}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch on a canceled context: %v", err)
	}
	if _, err := w.List(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("List on a canceled context: %v", err)
	}
	if err := os.RemoveAll(w.dir); err != nil {
		t.Fatal(err)
	}
	if _, err := w.List(context.Background()); err == nil {
		t.Fatal("List of a missing folder succeeded")
	}
}
