package testutil

import (
	"slices"
	"testing"
)

// TestDeps checks Deps on this package, which must stay standard-library only.
func TestDeps(t *testing.T) {
	t.Parallel()
	deps := Deps(t)
	for _, want := range []string{"github.com/roundfeed/roundfeed/internal/testutil", "os/exec", "testing"} {
		if !slices.Contains(deps, want) {
			t.Errorf("deps lack %s: %v", want, deps)
		}
	}
	ForbidDeps(t, "internal/testutil", deps, "github.com/bwmarrin", "github.com/pkg", "x/crypto/ssh", "modernc.org/", "roundfeed/source", "roundfeed/examples")
}

func TestForbidDepsReports(t *testing.T) {
	t.Parallel()
	tests := []struct {
		deps, bad []string
		want      bool
	}{
		{[]string{"fmt", "modernc.org/sqlite"}, []string{"sqlite"}, true},
		{[]string{"fmt", "os"}, []string{"sqlite", "discordgo"}, false},
		{nil, []string{"x"}, false},
	}
	for _, tc := range tests {
		rec := &recorder{TB: t}
		ForbidDeps(rec, "pkg", tc.deps, tc.bad...)
		if rec.failed != tc.want {
			t.Errorf("ForbidDeps(%v, %v) failed=%v, want %v", tc.deps, tc.bad, rec.failed, tc.want)
		}
	}
}

// recorder notes Errorf calls instead of failing the real test.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
