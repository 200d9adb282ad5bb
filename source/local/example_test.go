package local_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/source/local"
)

// A bot on the game server watches the stats folder and hands each complete
// file to its pipeline.
func ExampleNewWatcher() {
	dir, _ := os.MkdirTemp("", "stats")
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "2026-01-15-222119-te_escape2-round-1.txt")
	_ = os.WriteFile(name, []byte("round stats"), 0o644)
	old := time.Now().Add(-time.Minute) // written a minute ago: complete
	_ = os.Chtimes(name, old, old)

	w, err := local.NewWatcher(local.DefaultConfig(dir))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	_ = w.Run(ctx, func(e source.Entry) {
		data, err := w.Fetch(ctx, e.Name)
		fmt.Println(e.Name.Map, e.Name.Round, e.Name.Kind, string(data), err)
		cancel()
	})
	// Output: te_escape2 1 stats round stats <nil>
}
