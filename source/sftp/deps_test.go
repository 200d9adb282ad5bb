package sftp

import (
	"slices"
	"testing"

	"github.com/roundfeed/roundfeed/internal/testutil"
)

// TestDeps keeps the arrows of DESIGN.md: a source imports neither the
// pipeline nor the examples, and links neither Discord nor SQLite.
func TestDeps(t *testing.T) {
	t.Parallel()
	deps := testutil.Deps(t)
	if slices.Contains(deps, "testing") {
		t.Errorf("source/sftp links the testing package")
	}
	testutil.ForbidDeps(t, "source/sftp", deps,
		"discordgo", "sqlite", "roundfeed/ingest", "roundfeed/examples", "roundfeed/tracker", "roundfeed/source/sftp/sftptest")
}
