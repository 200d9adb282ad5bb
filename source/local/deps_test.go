package local

import (
	"testing"

	"github.com/roundfeed/roundfeed/internal/testutil"
)

// TestDeps keeps the notifier small: it links this package, and must not pull
// in Discord, SQLite or the pipeline.
func TestDeps(t *testing.T) {
	t.Parallel()
	testutil.ForbidDeps(t, "source/local", testutil.Deps(t),
		"discordgo", "sqlite", "roundfeed/ingest", "roundfeed/examples", "roundfeed/tracker", "roundfeed/source/sftp")
}
