package sftp_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/roundfeed/roundfeed/source/sftp"
	"github.com/roundfeed/roundfeed/source/sftp/sftptest"
)

// A bot configures the pull path from the environment; here an in-process
// server stands in for the game server.
func ExampleNewClient() {
	root, _ := os.MkdirTemp("", "gameserver")
	defer os.RemoveAll(root)
	stats := filepath.Join(root, "gamestats")
	_ = os.Mkdir(stats, 0o755)
	name := filepath.Join(stats, "2026-01-15-222119-te_escape2-round-1.txt")
	_ = os.WriteFile(name, []byte("round stats"), 0o644)
	old := time.Now().Add(-time.Minute)
	_ = os.Chtimes(name, old, old)

	srv, err := sftptest.NewServer(sftptest.Options{Dir: root})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	env := srv.Env("/gamestats") // SSH_HOST, SSH_PORT, SSH_USER, SSH_KEY_PATH, SSH_HOST_KEY, REMOTE_STATS_DIR
	cfg, err := sftp.ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := sftp.NewClient(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	ctx := context.Background()
	changed, _ := c.Probe(ctx)
	entries, _ := c.List(ctx)
	for _, e := range entries {
		data, err := c.Fetch(ctx, e.Name)
		fmt.Println(changed, e.Name, string(data), err)
	}
	fmt.Println("handshakes:", c.Counters().Handshakes)
	// Output:
	// true 2026-01-15-222119-te_escape2-round-1.txt round stats <nil>
	// handshakes: 1
}
