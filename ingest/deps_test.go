package ingest_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps: the pipeline wires interfaces. It must not choose a database
// driver, link Discord or any concrete source, nor import the store.
func TestDeps(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"discordgo", "sqlite", "roundfeed/store", "roundfeed/examples", "roundfeed/source/", "pkg/sftp", "x/crypto/ssh"} {
			if strings.Contains(dep, bad) {
				t.Errorf("ingest depends on %s", dep)
			}
		}
	}
}
