package tracker

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// State is where a file stands.
type State string

const (
	// StatePending: known, claimable once RetryAt has passed (a released or
	// deferred file). Not a failure.
	StatePending State = "pending"
	// StateClaimed: a worker holds the lease until LeaseUntil.
	StateClaimed State = "claimed"
	// StateFailed: the last attempt failed; claimable again at RetryAt.
	StateFailed State = "failed"
	// StateQuarantined: MaxAttempts failures (or a permanent one); only a
	// forced claim takes it again.
	StateQuarantined State = "quarantined"
	// StateDone: imported. Final: no claim, forced or not, takes it again.
	StateDone State = "done"
)

// States lists every state, in the order status output shows them.
var States = []State{StatePending, StateClaimed, StateFailed, StateQuarantined, StateDone}

// Valid reports whether s is one of States.
func (s State) Valid() bool {
	for _, v := range States {
		if s == v {
			return true
		}
	}
	return false
}

var (
	// ErrTaken: another claim on the file holds an unexpired lease.
	ErrTaken = errors.New("tracker: file claimed by another worker")
	// ErrDone: the file has been processed; it must not be processed again.
	ErrDone = errors.New("tracker: file already processed")
	// ErrQuarantined: the file failed too often; only a forced claim takes it.
	ErrQuarantined = errors.New("tracker: file quarantined")
	// ErrNotDue: the file is waiting for its retry time.
	ErrNotDue = errors.New("tracker: retry not due yet")
	// ErrTooOld: the file is older than the lookback window and the claim was
	// not forced.
	ErrTooOld = errors.New("tracker: file older than the lookback window")
	// ErrLeaseLost: the claim is no longer the file's current claim (its lease
	// expired and someone else claimed the file, or it was already settled).
	// Whatever the caller did under the lease must not be committed.
	ErrLeaseLost = errors.New("tracker: claim no longer held")
	// ErrNotFound: no record for the key.
	ErrNotFound = errors.New("tracker: no such file")
	// ErrInvalid: an argument is missing or malformed (empty server or name,
	// zero claim).
	ErrInvalid = errors.New("tracker: invalid argument")
)

// ClaimError is the error Claim returns when the file is not claimable. It
// matches its sentinel (ErrTaken, ErrDone, ErrQuarantined, ErrNotDue,
// ErrTooOld) with errors.Is and tells until when the answer holds.
type ClaimError struct {
	Server, Name string
	// Err is the sentinel.
	Err error
	// Until is the lease end (ErrTaken) or the retry time (ErrNotDue); zero
	// otherwise.
	Until time.Time
}

// Error names the file, the sentinel and, when known, until when.
func (e *ClaimError) Error() string {
	if e.Until.IsZero() {
		return fmt.Sprintf("%v: %s/%s", e.Err, e.Server, e.Name)
	}
	return fmt.Sprintf("%v: %s/%s until %s", e.Err, e.Server, e.Name, e.Until.UTC().Format(time.RFC3339))
}

// Unwrap returns the sentinel.
func (e *ClaimError) Unwrap() error { return e.Err }

// Request asks for a claim.
type Request struct {
	// Server and Name are the key. Both required.
	Server, Name string
	// Via says how the file was seen ("webhook", "poll", ...). It is recorded
	// when the file is first seen and never changed afterwards.
	Via string
	// FileTime is when the file was written (from its name). Zero skips the
	// age check.
	FileTime time.Time
	// Force skips the age check and claims a quarantined file (resetting its
	// attempts) or a file waiting for its retry time. It never takes a file
	// that is done or whose lease is live.
	Force bool
}

// Claim is a held claim. It is a value: pass it back to MarkDone, Fail,
// Quarantine or Release.
type Claim struct {
	Server, Name string
	// Token identifies this claim; a later claim of the same file (after the
	// lease expired) gets another token and makes this one stale.
	Token string
	// Via is how the file was first seen (not necessarily this request's).
	Via string
	// Attempts is the number of failures recorded before this claim.
	Attempts int
	// FirstSeen is when the file was first claimed (deferral deadlines
	// count from it, across restarts).
	FirstSeen time.Time
	// LeaseUntil is when the claim expires.
	LeaseUntil time.Time
}

// Digest describes the bytes that were imported.
type Digest struct {
	SHA256 string // hex
	Size   int64
}

// Record is everything the tracker knows about one file.
type Record struct {
	Server, Name string
	State        State
	Via          string
	Attempts     int
	LastError    string
	SHA256       string
	Size         int64
	FirstSeen    time.Time
	Updated      time.Time
	// LeaseUntil is set while claimed (and after a crash: an expired lease).
	LeaseUntil time.Time
	// RetryAt is set for pending and failed files.
	RetryAt time.Time
	// DoneAt is set for done files.
	DoneAt time.Time
}

// Execer is the part of *sql.Tx the SQL tracker writes through in MarkDone.
// *sql.Tx, *sql.Conn and *sql.DB satisfy it.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Tracker is exactly-once bookkeeping for files keyed by server + name.
//
// All methods are safe for concurrent use, from one process or (for the SQL
// implementation) from several processes sharing the database. A context
// error is returned wrapped and changes nothing that was not already
// committed.
type Tracker interface {
	// Claim takes the file for processing with a lease of Config.Lease.
	//
	// It succeeds for a file never seen, a pending or failed file whose retry
	// time has passed, and a claimed file whose lease has expired (a crashed
	// worker); that last case makes the earlier claim stale. Otherwise it
	// returns a *ClaimError matching ErrTooOld, ErrDone, ErrTaken, ErrNotDue
	// or ErrQuarantined, and changes nothing. At most one claim of a file is
	// current at any time.
	Claim(ctx context.Context, r Request) (Claim, error)

	// MarkDone marks the claimed file done, recording its digest. The SQL
	// implementation writes through tx, so the mark commits or rolls back
	// with the caller's transaction (tx may be nil to write directly); the
	// Memory implementation ignores tx and applies the mark at once.
	//
	// It returns ErrLeaseLost when c is not the current claim (even if the
	// lease has expired, a claim nobody else took is still current), and
	// then the caller must roll back. Calling it twice with the same claim
	// returns ErrLeaseLost the second time.
	MarkDone(ctx context.Context, tx Execer, c Claim, d Digest) error

	// Fail records a failed attempt with its reason and gives up the claim.
	// The file is claimable again at retryAt unless this was failure number
	// Config.MaxAttempts, in which case it is quarantined. It returns the
	// new state (StateFailed or StateQuarantined), or ErrLeaseLost.
	Fail(ctx context.Context, c Claim, reason string, retryAt time.Time) (State, error)

	// Quarantine records a permanent failure (a file over the size limit)
	// and quarantines the file at once. ErrLeaseLost as for Fail.
	Quarantine(ctx context.Context, c Claim, reason string) error

	// Release gives up the claim without counting an attempt (shutdown, a
	// deferred file waiting for another). The file becomes pending,
	// claimable at retryAt (zero: at once). ErrLeaseLost as for Fail.
	Release(ctx context.Context, c Claim, retryAt time.Time) error

	// Get returns the record of one file, or ErrNotFound.
	Get(ctx context.Context, server, name string) (Record, error)

	// List returns the records in state, most recently updated first, at
	// most limit of them (limit <= 0: all).
	List(ctx context.Context, state State, limit int) ([]Record, error)
}

// DoneNoter is implemented by trackers that keep an in-memory set of done
// files in front of their table. The caller calls NoteDone after the
// transaction holding MarkDone has committed (never before: a rolled-back
// mark must not be remembered). It is an optimisation: skipping it costs one
// query on the next claim of the file.
type DoneNoter interface {
	NoteDone(server, name string)
}

// Postponer is implemented by trackers that can give up a claim without
// counting an attempt while recording why (a fetch that failed because the
// source is unreachable: not the file's fault). Postpone is Release plus
// the reason, kept as LastError so status output shows what the file waits
// for: the file becomes pending, claimable at retryAt, its attempts
// unchanged. ErrLeaseLost as for Fail.
type Postponer interface {
	Postpone(ctx context.Context, c Claim, reason string, retryAt time.Time) error
}

// Counter is implemented by trackers that count files by state cheaply
// (for status output and metrics).
type Counter interface {
	// Counts returns the number of files in each state; states with none are
	// absent from the map.
	Counts(ctx context.Context) (map[State]int, error)
}

// Config holds the tracker's policy. The zero value is not valid: start from
// DefaultConfig.
type Config struct {
	// Lease is how long a claim holds without being settled. Default 2 min.
	Lease time.Duration
	// MaxAttempts is the failure count that quarantines a file. Default 5.
	MaxAttempts int
	// Lookback: files written longer ago are refused with ErrTooOld unless
	// the claim is forced. Default 7 days; 0 disables the check.
	Lookback time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Defaults.
const (
	DefaultLease       = 2 * time.Minute
	DefaultMaxAttempts = 5
	DefaultLookback    = 7 * 24 * time.Hour
)

// DefaultConfig returns the defaults with the real clock.
func DefaultConfig() Config {
	return Config{Lease: DefaultLease, MaxAttempts: DefaultMaxAttempts, Lookback: DefaultLookback}
}

// Validate returns every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Lease <= 0 {
		errs = append(errs, fmt.Errorf("tracker: lease %v: must be positive", c.Lease))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("tracker: max attempts %d: must be at least 1", c.MaxAttempts))
	}
	if c.Lookback < 0 {
		errs = append(errs, fmt.Errorf("tracker: lookback %v: must not be negative", c.Lookback))
	}
	return errors.Join(errs...)
}

func (c Config) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// tooOld reports whether the request fails the age check at now.
func (c Config) tooOld(r Request, now time.Time) bool {
	return !r.Force && c.Lookback > 0 && !r.FileTime.IsZero() && r.FileTime.Before(now.Add(-c.Lookback))
}

func checkRequest(r Request) error {
	if r.Server == "" || r.Name == "" {
		return fmt.Errorf("%w: empty server or name", ErrInvalid)
	}
	return nil
}

func checkClaim(c Claim) error {
	if c.Server == "" || c.Name == "" || c.Token == "" {
		return fmt.Errorf("%w: zero claim", ErrInvalid)
	}
	return nil
}

func newToken() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand.Read does not fail on supported platforms (Go 1.24+ panics
		// inside it instead); keep a defined fallback anyway.
		return fmt.Sprintf("t%x", time.Now().UnixNano())
	}
	return hex.EncodeToString(b[:])
}

// key is the map key of the in-memory sets.
type key struct{ server, name string }
