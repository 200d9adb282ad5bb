package sftptest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps: the bot's demo mode links this package, so it must not link
// "testing" (whose flags and weight do not belong in a server binary).
func TestDeps(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "testing" || strings.Contains(dep, "roundfeed/source/sftp") && !strings.HasSuffix(dep, "/sftptest") {
			t.Errorf("sftptest depends on %s", dep)
		}
	}
}
