package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
)

// Archive keeps the raw bytes of every fetched file under Dir/<server>/<name>.
// A file appears there whole or not at all (written to a temporary file in
// the same folder, synced, then renamed), so a file present in the archive
// can be used instead of fetching it again, and rounds can be re-parsed.
// It is safe for concurrent use.
type Archive struct {
	Dir string
	// MaxSize: files larger than this are refused unread (ErrTooLarge).
	MaxSize int64
	// Sync fsyncs each file before the rename. Without it a crash of the
	// process still cannot leave a partial file; a power cut can leave an
	// empty or short one, like the database (WAL, synchronous=NORMAL) can
	// lose its last transactions. The pipeline copes: a stored file's
	// archived copy is checked against the digest recorded at import, and a
	// retry fetches afresh. Config.ArchiveFsync (ARCHIVE_FSYNC) sets it.
	Sync bool

	dirs sync.Map // folders known to exist
}

// path returns the archive path of a file. Server names are checked here:
// file names were validated by parser.ValidateName (no separators, no "..").
func (a *Archive) path(server string, name parser.FileName) (string, error) {
	if !validServer(server) {
		return "", fmt.Errorf("ingest: archive: server name %q: use letters, digits, '_' and '-'", server)
	}
	if name.Raw == "" || name.Raw != filepath.Base(name.Raw) || name.Raw[0] == '.' {
		return "", fmt.Errorf("ingest: archive: bad file name")
	}
	return filepath.Join(a.Dir, server, name.Raw), nil
}

func validServer(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Read returns the archived bytes, source.ErrNotFound when the file is not
// archived, or source.ErrTooLarge (without reading) when it is over MaxSize.
func (a *Archive) Read(server string, name parser.FileName) ([]byte, error) {
	p, err := a.path(server, name)
	if err != nil {
		return nil, err
	}
	data, err := readLimited(p, a.MaxSize)
	if errors.Is(err, syscall.ENOTDIR) {
		// A file where the server's folder should be: nothing archived.
		return nil, fmt.Errorf("ingest: read %s: %w", name.Raw, source.ErrNotFound)
	}
	return data, err
}

// Write stores data as the archived copy of the file, replacing any.
func (a *Archive) Write(server string, name parser.FileName, data []byte) error {
	p, err := a.path(server, name)
	if err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if _, ok := a.dirs.Load(dir); !ok {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("ingest: archive: %w", err)
		}
		a.dirs.Store(dir, true)
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if errors.Is(err, fs.ErrNotExist) {
		// The folder was removed while running: create it again.
		a.dirs.Delete(dir)
		if err = os.MkdirAll(dir, 0o755); err == nil {
			f, err = os.CreateTemp(dir, ".tmp-*")
		}
	}
	if err != nil {
		return fmt.Errorf("ingest: archive: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil && a.Sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("ingest: archive %s/%s: %w", server, name.Raw, err)
	}
	return nil
}

// readLimited reads the file at p unless it is larger than max, which it
// finds out from the file's size before reading (and checks again while
// reading, should the file grow).
func readLimited(p string, max int64) ([]byte, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("ingest: read %s: %w", filepath.Base(p), source.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: read %s: %w", filepath.Base(p), err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("ingest: read %s: %w", filepath.Base(p), err)
	}
	if max > 0 && fi.Size() > max {
		return nil, fmt.Errorf("ingest: read %s: %d bytes, limit %d: %w", filepath.Base(p), fi.Size(), max, source.ErrTooLarge)
	}
	limit := fi.Size() + 1
	if max > 0 {
		limit = max + 1
	}
	data, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		return nil, fmt.Errorf("ingest: read %s: %w", filepath.Base(p), err)
	}
	if max > 0 && int64(len(data)) > max {
		return nil, fmt.Errorf("ingest: read %s: grew past the limit %d: %w", filepath.Base(p), max, source.ErrTooLarge)
	}
	return data, nil
}

// DirFetcher is a source.Fetcher over a local folder: for the bot's backfill
// from a directory, tests and benchmarks. Files over MaxSize (0: the
// source default, 4 MiB) are refused with source.ErrTooLarge without being
// read.
type DirFetcher struct {
	Dir     string
	MaxSize int64
}

var _ source.Fetcher = DirFetcher{}

// Fetch implements source.Fetcher.
func (d DirFetcher) Fetch(ctx context.Context, name parser.FileName) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ingest: fetch %s: %w", name.Raw, err)
	}
	if name.Raw == "" || name.Raw != filepath.Base(name.Raw) {
		return nil, fmt.Errorf("ingest: fetch: bad file name")
	}
	max := d.MaxSize
	if max <= 0 {
		max = source.DefaultMaxFileSize
	}
	return readLimited(filepath.Join(d.Dir, name.Raw), max)
}
