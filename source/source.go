// Package source defines what flows from the places that learn of new stats
// files (a Discord webhook trigger, an SFTP poll or probe, a local folder, a
// backfill) to the ingest pipeline, and the small interfaces those places
// implement. The implementations live in the subpackages webhook, sftp and
// local; none of them imports ingest.
package source

import (
	"context"
	"errors"
	"time"

	"github.com/roundfeed/roundfeed/parser"
)

// Via says how a file was first seen. It is recorded by the tracker and is a
// label on metrics, so the set is closed.
type Via string

const (
	ViaWebhook  Via = "webhook"  // a Discord message from the game server's notifier or Lua webhook
	ViaPoll     Via = "poll"     // an SFTP listing while polling is on
	ViaProbe    Via = "probe"    // an SFTP listing started by a change probe or anti-entropy
	ViaBackfill Via = "backfill" // the backfill command
	ViaLocal    Via = "local"    // a local folder watched with fsnotify
)

// Event says that a file exists on a server and should be imported. Sources
// emit events; the pipeline makes sure each file is imported once however
// many events name it.
type Event struct {
	// Server names the game server the file is on ("main" for a single-server bot).
	Server string
	// Name is the validated file name.
	Name parser.FileName
	// Via says which path saw the file.
	Via Via
	// At is when the source saw it, from the source's clock.
	At time.Time
	// MessageID is the Discord message that triggered a webhook event, else empty.
	MessageID string
	// Meta carries round metadata from a STATS_READY trigger (map, winner,
	// Lua_RoundEnd, ...), keyed by the embed field's lower-cased name. Nil for
	// other triggers.
	Meta map[string]string
}

// Entry is one file of a listing.
type Entry struct {
	Name    parser.FileName
	Size    int64
	ModTime time.Time
}

// Lister lists the stats files of one server's folder.
//
// List returns only names that pass parser.ValidateName; others are skipped
// and counted by the implementation, never returned. It is safe for
// concurrent use. An error means the listing is incomplete and must be
// retried; callers must not conclude that an absent file does not exist.
type Lister interface {
	List(ctx context.Context) ([]Entry, error)
}

// Fetcher returns the bytes of one file.
//
// Fetch returns ErrTooLarge (wrapped) without reading the file when it is over
// the implementation's size limit, ErrNotFound when it does not exist, and
// ErrIncomplete when the file is still being written; the caller retries the
// last two later. Fetch is safe for concurrent use and has no side effect on
// the server, so it may be retried freely.
type Fetcher interface {
	Fetch(ctx context.Context, name parser.FileName) ([]byte, error)
}

var (
	// ErrTooLarge: the file is over the size limit and was not read.
	ErrTooLarge = errors.New("file over the size limit")
	// ErrNotFound: the file does not exist.
	ErrNotFound = errors.New("file not found")
	// ErrIncomplete: the file is still being written; try again later.
	ErrIncomplete = errors.New("file still being written")
)

// DefaultMaxFileSize is the size above which a file is refused unread: 4 MiB.
const DefaultMaxFileSize = 4 << 20
