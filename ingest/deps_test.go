package ingest_test

import (
	"testing"

	"github.com/roundfeed/roundfeed/internal/testutil"
)

// TestDeps: the pipeline wires interfaces. It must not choose a database
// driver, link Discord or any concrete source, nor import the store.
func TestDeps(t *testing.T) {
	t.Parallel()
	testutil.ForbidDeps(t, "ingest", testutil.Deps(t),
		"discordgo", "sqlite", "roundfeed/store", "roundfeed/examples", "roundfeed/source/", "pkg/sftp", "x/crypto/ssh")
}
