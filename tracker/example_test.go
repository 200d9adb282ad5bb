package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/roundfeed/roundfeed/tracker"
)

func Example() {
	ctx := context.Background()
	now := time.Date(2026, 1, 15, 23, 0, 0, 0, time.UTC)
	cfg := tracker.DefaultConfig()
	cfg.Now = func() time.Time { return now }
	tr, err := tracker.NewMemory(cfg)
	if err != nil {
		panic(err)
	}
	req := tracker.Request{
		Server:   "main",
		Name:     "2026-01-15-222119-te_escape2-round-1.txt",
		Via:      "webhook",
		FileTime: time.Date(2026, 1, 15, 22, 21, 19, 0, time.UTC),
	}
	c, err := tr.Claim(ctx, req)
	if err != nil {
		panic(err)
	}
	// The poller sees the same file while the webhook's worker is on it.
	_, err = tr.Claim(ctx, tracker.Request{Server: "main", Name: req.Name, Via: "poll"})
	fmt.Println(errors.Is(err, tracker.ErrTaken))

	// Import, then mark done (with the SQL tracker: in the import's transaction).
	if err := tr.MarkDone(ctx, nil, c, tracker.Digest{SHA256: "…", Size: 1234}); err != nil {
		panic(err)
	}
	_, err = tr.Claim(ctx, tracker.Request{Server: "main", Name: req.Name, Via: "probe"})
	fmt.Println(errors.Is(err, tracker.ErrDone))
	// Output:
	// true
	// true
}
