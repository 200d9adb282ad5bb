package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source/webhook/send"
)

// spool is the on-disk queue of notifications and the record of what was
// sent. Layout under its directory:
//
//	queue/<seq>.json   one pending notification, seq a 20-digit counter
//	sent/<file name>   an empty marker: this file was notified (2xx)
//
// A notification is written (temp file, fsync, rename, fsync dir) before it
// is queued in memory, so a crash loses none. After a 2xx the sent marker is
// written first and the queue file removed second: a crash between the two
// leaves a queue file whose marker exists, dropped unsent on start. File
// names passed ValidateName, so they are safe path elements.
//
// Methods are safe for concurrent use: the watcher's callback enqueues while
// the sending goroutine takes the head.
type spool struct {
	dir string
	log *slog.Logger

	mu      sync.Mutex
	items   []spoolItem // sending order, see before
	queued  map[string]bool
	nextSeq uint64
	changed chan struct{} // cap 1: something was enqueued
}

type spoolItem struct {
	seq  uint64
	note send.Notification
}

// spoolRecord is the JSON of a queue file.
type spoolRecord struct {
	Name   string    `json:"name"`
	Size   int64     `json:"size"`
	Queued time.Time `json:"queued"`
}

func openSpool(dir string, log *slog.Logger) (*spool, error) {
	s := &spool{dir: dir, log: log, queued: map[string]bool{}, changed: make(chan struct{}, 1)}
	for _, d := range []string{s.queueDir(), s.sentDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("notify: spool %s: %w", d, err)
		}
	}
	ents, err := os.ReadDir(s.queueDir())
	if err != nil {
		return nil, fmt.Errorf("notify: spool %s: %w", s.queueDir(), err)
	}
	for _, de := range ents {
		name := de.Name()
		path := filepath.Join(s.queueDir(), name)
		if strings.HasPrefix(name, ".tmp-") {
			_ = os.Remove(path) // an enqueue cut short: never renamed, never acknowledged
			continue
		}
		seqStr, ok := strings.CutSuffix(name, ".json")
		if !ok {
			continue // .bad files and strangers stay, unread
		}
		seq, err := strconv.ParseUint(seqStr, 10, 64)
		if err != nil {
			continue
		}
		s.nextSeq = max(s.nextSeq, seq+1)
		note, err := readRecord(path)
		if err != nil {
			// Keep the bytes for a person to look at; never send them.
			_ = os.Rename(path, path+".bad")
			s.log.Error("spool entry unreadable, set aside", "entry", name, "err", err)
			continue
		}
		if s.wasSent(note.Name.Raw) {
			_ = os.Remove(path) // sent, then stopped before the queue file went
			continue
		}
		if s.queued[note.Name.Raw] {
			_ = os.Remove(path)
			continue
		}
		s.queued[note.Name.Raw] = true
		s.items = append(s.items, spoolItem{seq: seq, note: note})
	}
	sort.SliceStable(s.items, func(i, j int) bool { return before(s.items[i], s.items[j]) })
	return s, nil
}

// before is the sending order: by the time in the file name, a round's
// stats file before its endstats file, then by enqueue order. A folder scan
// lists "-round-1-endstats.txt" before "-round-1.txt" (the byte order of
// "-" and "."), and a file found late by a rescan belongs with its time.
func before(a, b spoolItem) bool {
	an, bn := a.note.Name, b.note.Name
	if !an.Time.Equal(bn.Time) {
		return an.Time.Before(bn.Time)
	}
	if an.Kind != bn.Kind {
		return an.Kind < bn.Kind
	}
	return a.seq < b.seq
}

func readRecord(path string) (send.Notification, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return send.Notification{}, err
	}
	var r spoolRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return send.Notification{}, fmt.Errorf("decode: %w", err)
	}
	name, err := parser.ValidateName(r.Name)
	if err != nil {
		return send.Notification{}, err
	}
	return send.Notification{Name: name, Size: r.Size}, nil
}

func (s *spool) queueDir() string { return filepath.Join(s.dir, "queue") }
func (s *spool) sentDir() string  { return filepath.Join(s.dir, "sent") }

// wasSent reports whether a sent marker exists for name.
func (s *spool) wasSent(name string) bool {
	_, err := os.Lstat(filepath.Join(s.sentDir(), name))
	return err == nil
}

// enqueue adds n unless it is queued or was sent. It reports whether n was
// added. The queue file is durable before enqueue returns; if it cannot be
// written, n is still queued in memory (sent by this process) and the error
// is returned for the log.
func (s *spool) enqueue(n send.Notification, now time.Time) (added bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queued[n.Name.Raw] || s.wasSent(n.Name.Raw) {
		return false, nil
	}
	seq := s.nextSeq
	s.nextSeq++
	err = s.writeRecord(seq, spoolRecord{Name: n.Name.Raw, Size: n.Size, Queued: now.UTC()})
	s.queued[n.Name.Raw] = true
	it := spoolItem{seq: seq, note: n}
	i := sort.Search(len(s.items), func(i int) bool { return before(it, s.items[i]) })
	s.items = slices.Insert(s.items, i, it)
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return true, err
}

func (s *spool) writeRecord(seq uint64, r spoolRecord) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("notify: spool: encode: %w", err)
	}
	f, err := os.CreateTemp(s.queueDir(), ".tmp-*")
	if err != nil {
		return fmt.Errorf("notify: spool: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.queueDir(), fmt.Sprintf("%020d.json", seq)))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("notify: spool %s: %w", r.Name, err)
	}
	return syncDir(s.queueDir())
}

// head returns the first pending notification in sending order.
func (s *spool) head() (spoolItem, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.items) == 0 {
		return spoolItem{}, false
	}
	return s.items[0], true
}

// len returns how many notifications are pending.
func (s *spool) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

// done records that it was sent (a 2xx): marker first, then the queue file
// goes. The item leaves the memory queue even if the disk refuses, so this
// process never sends it twice; the error is returned for the log.
func (s *spool) done(it spoolItem) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = slices.DeleteFunc(s.items, func(x spoolItem) bool { return x.seq == it.seq })
	delete(s.queued, it.note.Name.Raw)
	var errs []error
	marker := filepath.Join(s.sentDir(), it.note.Name.Raw)
	f, err := os.OpenFile(marker, os.O_CREATE|os.O_WRONLY, 0o600)
	if err == nil {
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = syncDir(s.sentDir())
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("notify: spool: mark %s sent: %w", it.note.Name.Raw, err))
	}
	if err := os.Remove(filepath.Join(s.queueDir(), fmt.Sprintf("%020d.json", it.seq))); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("notify: spool: remove %s: %w", it.note.Name.Raw, err))
	} else if err == nil {
		if err := syncDir(s.queueDir()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// pruneSent removes sent markers older than keep: their files are older
// than the lookback window and no scan reports them again.
func (s *spool) pruneSent(now time.Time, keep time.Duration) (removed int) {
	ents, err := os.ReadDir(s.sentDir())
	if err != nil {
		return 0
	}
	for _, de := range ents {
		fi, err := de.Info()
		if err != nil || now.Sub(fi.ModTime()) < keep {
			continue
		}
		if os.Remove(filepath.Join(s.sentDir(), de.Name())) == nil {
			removed++
		}
	}
	return removed
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("notify: spool: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("notify: spool: sync %s: %w", dir, err)
	}
	return nil
}
