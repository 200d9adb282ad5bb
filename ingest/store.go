package ingest

import (
	"context"
	"errors"
	"time"

	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/tracker"
)

// Candidate is a stored stats file that a pairing or link rule may choose:
// an R1 for an R2, the round of an endstats file, an orphan R2 for a late R1.
type Candidate struct {
	// RoundID is the store's key of the round.
	RoundID int64
	// Name is the stored file's name.
	Name parser.FileName
	// HeaderMap and HeaderRound are the file's header H2 and H4.
	HeaderMap   string
	HeaderRound int
	// Aborted marks a file saved on the shutdown path (never paired).
	Aborted bool
	// PairedWith is the R2 file already paired with this R1, if any.
	PairedWith string
	// SHA256 is the digest of the stored bytes (to check an archived copy).
	SHA256 string
}

// Import is everything one file's import writes, in one transaction.
type Import struct {
	// Event names the file (server, name, via).
	Event source.Event
	// Claim is the tracker claim the import is made under; the store marks
	// it done in the same transaction.
	Claim tracker.Claim
	// Digest describes the imported bytes.
	Digest tracker.Digest
	// At is when the import was made (the pipeline's clock).
	At time.Time

	// Stats is set for a stats file.
	Stats *parser.Stats
	// R2 is set for a stats file named round 2: the differential against
	// R1 (status differential), an orphan, or an error.
	R2 *parser.R2
	// R1 is the paired round-1 file when R2.Status is differential.
	R1 *Candidate

	// Endstats is set for an endstats file.
	Endstats *parser.Endstats
	// Round is the round an endstats file is linked to; nil stores it
	// unlinked. LinkDelta is stats minus endstats, in seconds.
	Round     *Candidate
	LinkDelta int

	// Links are orphan round-2 files that this round-1 file pairs with,
	// with their differentials: Commit links them in the same transaction.
	Links []Link

	// Basis are the round IDs the pairing or linking decision was made on:
	// the R1 candidates of a round-2 file, the orphans of a round-1 file
	// (both within Window), the round candidates of an endstats file.
	// Commit checks them again inside its transaction and returns
	// ErrConflict when they changed (another worker committed a file in
	// between); the caller decides again. This is what keeps an R1 and its
	// R2 committed at the same moment from both missing each other.
	Basis  []int64
	Window time.Duration

	// Posts are queued in the outbox in the same transaction.
	Posts []Post
}

// Link pairs a stored orphan round 2 with the round 1 being imported.
type Link struct {
	R2     Candidate
	Result *parser.R2
}

// Store is where imports go. The SQL implementation (SQLite, PostgreSQL) is
// package store.
//
// Methods are safe for concurrent use. Lookups return stored, committed data
// only.
type Store interface {
	// R1Candidates returns the stored round-1 stats files of server with
	// r2's map whose file time is before r2's and at most window earlier,
	// latest first.
	R1Candidates(ctx context.Context, server string, r2 parser.FileName, window time.Duration) ([]Candidate, error)

	// RoundCandidates returns the stored stats files of server with the map
	// and round number of the endstats file es whose file time is within
	// window of es's (either side), nearest first.
	RoundCandidates(ctx context.Context, server string, es parser.FileName, window time.Duration) ([]Candidate, error)

	// OrphanR2s returns stored round-2 files of server with r1's map,
	// stored as orphans, whose file time is after r1's and at most window
	// later, earliest first.
	OrphanR2s(ctx context.Context, server string, r1 parser.FileName, window time.Duration) ([]Candidate, error)

	// Commit writes imp, marks imp.Claim done, links imp.Links and queues
	// imp.Posts, all in one transaction: after a crash either all of it is
	// there or none. It rolls back and returns an error matching
	// tracker.ErrLeaseLost when the claim is no longer current, ErrConflict
	// when imp.Basis changed, and ErrDuplicate when the file is already
	// stored. It never queues the same post twice.
	Commit(ctx context.Context, imp *Import) error
}

var (
	// ErrDuplicate is returned by Store.Commit when the file is already stored.
	ErrDuplicate = errors.New("ingest: file already stored")
	// ErrConflict is returned by Store.Commit when Import.Basis changed.
	ErrConflict = errors.New("ingest: pairing basis changed; decide again")
)

// OutboxItem is one queued post.
type OutboxItem struct {
	ID       int64
	Server   string
	File     string
	Kind     PostKind
	Nonce    string
	Post     Post
	Attempts int
	// LastError is the last send error, "" if none.
	LastError string
	Created   time.Time
	// NextAttempt is when the item may be sent again (zero: at once).
	NextAttempt time.Time
}

// Outbox is the queue of posts. Store implementations provide it too: the
// posts are written in the import's transaction (Store.Commit).
//
// Methods are safe for concurrent use. Several drainers may share one
// outbox (bot replicas on one database): an implementation shared between
// processes must lease what Due returns to its caller (package store does,
// for Options.OutboxLease), so two drainers never send one item at once.
type Outbox interface {
	// Due returns unsent items that are not given up and whose NextAttempt
	// has passed at now, oldest first, at most limit.
	Due(ctx context.Context, now time.Time, limit int) ([]OutboxItem, error)
	// Sent records the message ID of a successful post. An item with a
	// message ID is never returned by Due again. Recording it twice keeps
	// the first ID.
	Sent(ctx context.Context, id int64, messageID string, at time.Time) error
	// Failed records a failed attempt and when to try again; giveUp keeps
	// the item in the outbox (visible in status) but out of Due. It returns
	// the number of attempts so far.
	Failed(ctx context.Context, id int64, reason string, next time.Time, giveUp bool) (int, error)
}
