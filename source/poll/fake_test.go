package poll_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
)

// folder is a fake stats folder: a Lister and a Prober with the SFTP
// semantics (folder mtime at one-second resolution; a change is reported when
// the mtime is at or after the previous probe minus one second). Failure
// hooks: listErr and probeErr.
type folder struct {
	mu        sync.Mutex
	files     map[string]source.Entry
	mtime     time.Time
	lastProbe time.Time
	lists     int
	probes    int
	listErr   error
	probeErr  error
}

func newFolder() *folder { return &folder{files: map[string]source.Entry{}} }

func (f *folder) add(t *testing.T, name string) parser.FileName {
	t.Helper()
	n, err := parser.ValidateName(name)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now() // the synctest bubble's virtual time
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[name] = source.Entry{Name: n, Size: 100, ModTime: now}
	f.mtime = now.Truncate(time.Second)
	return n
}

func (f *folder) List(ctx context.Context) ([]source.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	if f.listErr != nil {
		return nil, f.listErr
	}
	out := make([]source.Entry, 0, len(f.files))
	for _, e := range f.files {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name.Raw < out[j].Name.Raw })
	return out, nil
}

func (f *folder) Probe(ctx context.Context) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.probes++
	if f.probeErr != nil {
		return false, f.probeErr
	}
	now := time.Now()
	changed := f.lastProbe.IsZero() || !f.mtime.Before(f.lastProbe.Add(-time.Second))
	f.lastProbe = now
	return changed, nil
}

func (f *folder) counts() (lists, probes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists, f.probes
}

func (f *folder) setErrs(list, probe error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listErr, f.probeErr = list, probe
}

// recorder collects emitted events and machine results.
type recorder struct {
	mu      sync.Mutex
	events  []source.Event
	results []string
}

func (r *recorder) emit(e source.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) onResult(res failover.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range res.Transitions {
		r.results = append(r.results, fmt.Sprintf("%s %s", t.At.Format("15:04:05"), t))
	}
	for _, a := range res.Alerts {
		r.results = append(r.results, fmt.Sprintf("%s %s", a.At.Format("15:04:05"), a))
	}
}

func (r *recorder) snapshot() ([]string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ev []string
	for _, e := range r.events {
		ev = append(ev, fmt.Sprintf("%s %s %s", e.At.Format("15:04:05"), e.Via, e.Name.Raw))
	}
	return ev, append([]string(nil), r.results...)
}

var errDown = errors.New("connection lost")
