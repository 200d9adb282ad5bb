package sftp

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the arrows of DESIGN.md: a source imports neither the
// pipeline nor the examples, and links neither Discord nor SQLite.
func TestDeps(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "testing" {
			t.Errorf("source/sftp links the testing package")
		}
		for _, bad := range []string{"discordgo", "sqlite", "roundfeed/ingest", "roundfeed/examples", "roundfeed/tracker", "roundfeed/source/sftp/sftptest"} {
			if strings.Contains(dep, bad) {
				t.Errorf("source/sftp depends on %s", dep)
			}
		}
	}
}
