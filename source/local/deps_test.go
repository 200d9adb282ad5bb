package local

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the notifier small: it links this package, and must not pull
// in Discord, SQLite or the pipeline.
func TestDeps(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"discordgo", "sqlite", "roundfeed/ingest", "roundfeed/examples", "roundfeed/tracker", "roundfeed/source/sftp"} {
			if strings.Contains(dep, bad) {
				t.Errorf("source/local depends on %s", dep)
			}
		}
	}
}
