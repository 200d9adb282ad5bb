package local

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/roundfeed/roundfeed/source"
)

// Clock is the time source of a Watcher. Tests pass a virtual clock; nil
// means the system clock.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives once, d after the call.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Config configures a Watcher.
type Config struct {
	// Dir is the folder that holds the stats files. Sub-folders are ignored.
	Dir string
	// Settle is how long a file must stay unchanged after its last write
	// before it is reported. Default 2 s.
	Settle time.Duration
	// Rescan is the period of the anti-entropy scan of Dir. 0 turns the
	// periodic scan off (the scans at start and on overflow still run).
	// Default 30 min.
	Rescan time.Duration
	// Lookback limits scans and List to files modified within this window,
	// so a restart does not replay a season of old rounds. 0 means no limit
	// (backfill). Default 7 days. Live fsnotify events are not filtered.
	Lookback time.Duration
	// MaxFileSize is the size above which Fetch refuses a file unread.
	// Default source.DefaultMaxFileSize.
	MaxFileSize int64
	// Clock is the time source; nil means the system clock.
	Clock Clock
	// Logger receives one line per state change; nil discards.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults for the folder dir.
func DefaultConfig(dir string) Config {
	return Config{
		Dir:         dir,
		Settle:      2 * time.Second,
		Rescan:      30 * time.Minute,
		Lookback:    7 * 24 * time.Hour,
		MaxFileSize: source.DefaultMaxFileSize,
	}
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("local: Dir is empty"))
	}
	if c.Settle <= 0 {
		errs = append(errs, fmt.Errorf("local: Settle %v must be positive", c.Settle))
	}
	if c.Rescan < 0 {
		errs = append(errs, fmt.Errorf("local: Rescan %v must not be negative", c.Rescan))
	}
	if c.Lookback < 0 {
		errs = append(errs, fmt.Errorf("local: Lookback %v must not be negative", c.Lookback))
	}
	if c.MaxFileSize <= 0 {
		errs = append(errs, fmt.Errorf("local: MaxFileSize %d must be positive", c.MaxFileSize))
	}
	return errors.Join(errs...)
}
