package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/store"
	"github.com/roundfeed/roundfeed/tracker"
)

// Example wires the pipeline as a bot does (SQLite store, SQL tracker on the
// same database, a folder fetcher, a console publisher) and imports a round.
func Example() {
	tmp, _ := os.MkdirTemp("", "roundfeed-example")
	defer os.RemoveAll(tmp)
	now := func() time.Time { return time.Date(2026, 1, 15, 23, 30, 0, 0, time.UTC) }

	db, err := store.Open(filepath.Join(tmp, "roundfeed.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	cfg := ingest.DefaultConfig()
	cfg.ArchiveDir = filepath.Join(tmp, "archive")
	tr, _ := tracker.NewSQL(db, cfg.TrackerConfig(now), tracker.SQLite)
	st, _ := store.New(db, tr)
	snd, _ := ingest.NewSender(ingest.DefaultSenderConfig(), st, &ingest.ConsolePublisher{W: os.Stdout}, nil, now)
	p, err := ingest.New(cfg, ingest.Deps{
		Tracker:  tr,
		Store:    st,
		Fetchers: map[string]source.Fetcher{"main": ingest.DirFetcher{Dir: "testdata"}},
		Notify:   snd.Notify,
		Now:      now,
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, name := range []string{"2026-01-15-230015-et_ice-round-1.txt", "2026-01-15-230015-et_ice-round-1.txt"} {
		n, _ := parser.ValidateName(name)
		r := p.Process(ctx, source.Event{Server: "main", Name: n, Via: source.ViaWebhook, At: now()})
		fmt.Println(r.Status)
	}
	if _, err := snd.Flush(ctx); err != nil {
		panic(err)
	}
	// Output:
	// imported
	// skipped
	// [main] et_ice - Round 1 | MVP [BOT]vid | [BOT]vid 7/1 | [BOT]Doc 7/5 | [BOT]Schmidt 5/5 (nonce r7876c80e74f3ea4c3ee92946)
}
