package sftptest

import (
	"strings"
	"testing"

	"github.com/roundfeed/roundfeed/internal/testutil"
)

// TestDeps: the bot's demo mode links this package, so it must not link
// "testing" (whose flags and weight do not belong in a server binary).
func TestDeps(t *testing.T) {
	t.Parallel()
	for _, dep := range testutil.Deps(t) {
		if dep == "testing" || strings.Contains(dep, "roundfeed/source/sftp") && !strings.HasSuffix(dep, "/sftptest") {
			t.Errorf("sftptest depends on %s", dep)
		}
	}
}
