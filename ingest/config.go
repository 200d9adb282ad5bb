package ingest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/tracker"
)

// Config is the pipeline's configuration. Start from DefaultConfig; the
// environment names and defaults are listed in the package documentation.
type Config struct {
	// ArchiveDir keeps the raw bytes of every fetched file
	// (<dir>/<server>/<name>), so rounds can be re-parsed. ARCHIVE_DIR.
	ArchiveDir string
	// ArchiveFsync fsyncs every archived file (see Archive.Sync): about a
	// millisecond per file on an ordinary disk. ARCHIVE_FSYNC.
	ArchiveFsync bool
	// Lookback: files written longer ago are not auto-processed. LOOKBACK.
	Lookback time.Duration
	// MaxAttempts failures quarantine a file. MAX_ATTEMPTS.
	MaxAttempts int
	// Lease is how long a claim holds; after a crash the file is claimable
	// again this long after it was claimed. LEASE.
	Lease time.Duration
	// Workers is the number of files processed at once. WORKERS.
	Workers int
	// MaxFileSize: larger files are refused unread and quarantined.
	// MAX_FILE_SIZE (bytes, or with a KiB/MiB suffix).
	MaxFileSize int64
	// QueueSize is how many events wait for a worker before Submit blocks.
	QueueSize int
	// R1Wait is how long a round-2 file waits for its round-1 file before
	// it is stored as an orphan. R1_WAIT.
	R1Wait time.Duration
	// EndstatsWait is how long an endstats file waits for its round before
	// it is stored unlinked. ENDSTATS_WAIT.
	EndstatsWait time.Duration
	// RetryBase and RetryMax bound the backoff after a failure:
	// RetryBase << (attempts-1), at most RetryMax.
	RetryBase, RetryMax time.Duration
	// DeferMin and DeferMax bound the wait between tries of a deferred file
	// (half its age so far, within these bounds, never past its deadline).
	DeferMin, DeferMax time.Duration
	// NotFoundGrace: a file its source does not find within this time of
	// being first seen is retried without counting an attempt (a name can
	// be announced before the file is visible); later, "not found" counts.
	// Failures of the source itself (connection down, dial errors) never
	// count, whatever their duration. NOT_FOUND_GRACE.
	NotFoundGrace time.Duration
	// RetryEvery is how often Run looks for files due for a retry.
	RetryEvery time.Duration
	// ShutdownGrace bounds how long shutdown waits for running files and
	// the release of queued ones.
	ShutdownGrace time.Duration
	// Parser configures parsing (Mode: PARSER_MODE native|compat).
	Parser parser.Options
}

// Defaults.
const (
	DefaultArchiveDir   = "stats-archive"
	DefaultWorkers      = 4
	DefaultQueueSize    = 1024
	DefaultR1Wait       = 2 * time.Minute
	DefaultEndstatsWait = 30 * time.Minute
	// DefaultNotFoundGrace is Config.NotFoundGrace's default.
	DefaultNotFoundGrace = 10 * time.Minute
)

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		ArchiveDir:    DefaultArchiveDir,
		Lookback:      tracker.DefaultLookback,
		MaxAttempts:   tracker.DefaultMaxAttempts,
		Lease:         tracker.DefaultLease,
		Workers:       DefaultWorkers,
		MaxFileSize:   source.DefaultMaxFileSize,
		QueueSize:     DefaultQueueSize,
		R1Wait:        DefaultR1Wait,
		EndstatsWait:  DefaultEndstatsWait,
		RetryBase:     10 * time.Second,
		RetryMax:      10 * time.Minute,
		DeferMin:      5 * time.Second,
		DeferMax:      5 * time.Minute,
		NotFoundGrace: DefaultNotFoundGrace,
		RetryEvery:    5 * time.Second,
		ShutdownGrace: 10 * time.Second,
	}
}

// Validate returns every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("ingest: "+format, a...)) }
	if c.ArchiveDir == "" {
		bad("ARCHIVE_DIR is empty")
	}
	if c.Lookback < 0 {
		bad("LOOKBACK %v: must not be negative", c.Lookback)
	}
	if c.MaxAttempts < 1 {
		bad("MAX_ATTEMPTS %d: must be at least 1", c.MaxAttempts)
	}
	if c.Lease <= 0 {
		bad("LEASE %v: must be positive", c.Lease)
	}
	if c.Workers < 1 || c.Workers > 256 {
		bad("WORKERS %d: must be 1 to 256", c.Workers)
	}
	if c.MaxFileSize < 1 {
		bad("MAX_FILE_SIZE %d: must be positive", c.MaxFileSize)
	}
	if c.QueueSize < 1 {
		bad("queue size %d: must be positive", c.QueueSize)
	}
	if c.R1Wait < 0 {
		bad("R1_WAIT %v: must not be negative", c.R1Wait)
	}
	if c.EndstatsWait < 0 {
		bad("ENDSTATS_WAIT %v: must not be negative", c.EndstatsWait)
	}
	if c.RetryBase <= 0 || c.RetryMax < c.RetryBase {
		bad("retry backoff %v..%v: need 0 < base <= max", c.RetryBase, c.RetryMax)
	}
	if c.DeferMin <= 0 || c.DeferMax < c.DeferMin {
		bad("defer backoff %v..%v: need 0 < min <= max", c.DeferMin, c.DeferMax)
	}
	if c.NotFoundGrace < 0 {
		bad("NOT_FOUND_GRACE %v: must not be negative", c.NotFoundGrace)
	}
	if c.RetryEvery <= 0 {
		bad("retry interval %v: must be positive", c.RetryEvery)
	}
	if c.ShutdownGrace <= 0 {
		bad("shutdown grace %v: must be positive", c.ShutdownGrace)
	}
	return errors.Join(errs...)
}

// TrackerConfig returns the tracker configuration these settings imply.
func (c Config) TrackerConfig(now func() time.Time) tracker.Config {
	return tracker.Config{Lease: c.Lease, MaxAttempts: c.MaxAttempts, Lookback: c.Lookback, Now: now}
}

// FromEnv overrides c with the environment variables that lookup finds
// (os.LookupEnv in a program) and returns every malformed value at once.
// Run Validate afterwards.
func (c Config) FromEnv(lookup func(string) (string, bool)) (Config, error) {
	var errs []error
	str := func(name string, dst *string) {
		if v, ok := lookup(name); ok {
			*dst = strings.TrimSpace(v)
		}
	}
	dur := func(name string, dst *time.Duration) {
		if v, ok := lookup(name); ok {
			d, err := ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("ingest: %s: %w", name, err))
				return
			}
			*dst = d
		}
	}
	num := func(name string, dst *int) {
		if v, ok := lookup(name); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				errs = append(errs, fmt.Errorf("ingest: %s: %q is not an integer", name, v))
				return
			}
			*dst = n
		}
	}
	str("ARCHIVE_DIR", &c.ArchiveDir)
	if v, ok := lookup("ARCHIVE_FSYNC"); ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("ingest: ARCHIVE_FSYNC: %q is not true or false", v))
		} else {
			c.ArchiveFsync = b
		}
	}
	dur("LOOKBACK", &c.Lookback)
	num("MAX_ATTEMPTS", &c.MaxAttempts)
	dur("LEASE", &c.Lease)
	num("WORKERS", &c.Workers)
	if v, ok := lookup("MAX_FILE_SIZE"); ok {
		n, err := ParseSize(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("ingest: MAX_FILE_SIZE: %w", err))
		} else {
			c.MaxFileSize = n
		}
	}
	dur("R1_WAIT", &c.R1Wait)
	dur("ENDSTATS_WAIT", &c.EndstatsWait)
	dur("NOT_FOUND_GRACE", &c.NotFoundGrace)
	if v, ok := lookup("PARSER_MODE"); ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "native", "":
			c.Parser.Mode = parser.Native
		case "compat":
			c.Parser.Mode = parser.Compat
		default:
			errs = append(errs, fmt.Errorf("ingest: PARSER_MODE: %q is not native or compat", v))
		}
	}
	return c, errors.Join(errs...)
}

// ParseDuration parses a Go duration ("90s", "2m") or a number of days
// ("7d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n < 0 || n > 3650 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration like 90s, 2m or 7d", s)
	}
	return d, nil
}

// ParseSize parses a byte count: "4194304", "4MiB", "512KiB".
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(v), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("%q is not a size like 4194304 or 4MiB", s)
	}
	return n * mult, nil
}
