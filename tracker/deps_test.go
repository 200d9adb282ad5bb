package tracker_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps: the tracker imports only the standard library: nothing else of
// roundfeed and no database driver (the SQL implementation works over any
// database/sql driver).
func TestDeps(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/roundfeed/roundfeed/tracker" {
			continue
		}
		t.Errorf("tracker depends on %s", dep)
	}
}
