package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/roundfeed/roundfeed/examples/notifier/notify"
	"github.com/roundfeed/roundfeed/source/webhook/send"
)

// The notifier pointed at a stand-in for Discord, as the bot's demo runs it.
func ExampleRun() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	discord := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m send.Message
		_ = json.NewDecoder(r.Body).Decode(&m)
		fmt.Println(m.Username, m.Content, m.Embeds[0].Description)
		w.WriteHeader(http.StatusNoContent)
		cancel() // one post is enough for the example
	}))
	defer discord.Close()

	stats, _ := os.MkdirTemp("", "stats")
	spool, _ := os.MkdirTemp("", "spool")
	defer os.RemoveAll(stats)
	defer os.RemoveAll(spool)
	name := filepath.Join(stats, "2026-01-15-222119-te_escape2-round-1.txt")
	_ = os.WriteFile(name, []byte(strings.Repeat("stats ", 100)), 0o644)
	minuteAgo := time.Now().Add(-time.Minute) // complete: unchanged for longer than the settle time
	_ = os.Chtimes(name, minuteAgo, minuteAgo)

	cfg := notify.DefaultConfig()
	cfg.StatsDir = stats
	cfg.SpoolDir = spool
	cfg.Send = send.DefaultConfig(discord.URL + "/api/webhooks/123/token")
	err := notify.Run(ctx, cfg)
	fmt.Println(err)
	// Output:
	// ET:Legacy Stats 📊 `2026-01-15-222119-te_escape2-round-1.txt` **te_escape2** - Round 1
	// context canceled
}
