package local

import "time"

// fileState is what a stat says about a file, for change detection.
type fileState struct {
	size  int64
	mtime time.Time
}

func (a fileState) same(b fileState) bool { return a.size == b.size && a.mtime.Equal(b.mtime) }

type pendingFile struct {
	state fileState
	last  time.Time // time of the last event or change seen
}

// settler is the pure part of a Watcher: which files are being written, when
// each may be complete, and which have been reported. It does no I/O and
// reads no clock; the Run loop feeds it stats and times.
type settler struct {
	settle   time.Duration
	pending  map[string]*pendingFile
	reported map[string]fileState
}

func newSettler(settle time.Duration) *settler {
	return &settler{settle: settle, pending: map[string]*pendingFile{}, reported: map[string]fileState{}}
}

// touch records activity on name at now: a write event, a create event, or a
// scan that found a recent file. The settle time restarts.
func (s *settler) touch(name string, st fileState, now time.Time) {
	p := s.pending[name]
	if p == nil {
		p = &pendingFile{}
		s.pending[name] = p
	}
	p.state = st
	p.last = now
}

// forget drops name from both sets: it was removed or renamed away, so a new
// file under that name is new.
func (s *settler) forget(name string) {
	delete(s.pending, name)
	delete(s.reported, name)
}

// isPending reports whether name waits to settle.
func (s *settler) isPending(name string) bool { return s.pending[name] != nil }

// wasReported reports whether name was reported in state st.
func (s *settler) wasReported(name string, st fileState) bool {
	r, ok := s.reported[name]
	return ok && r.same(st)
}

// next returns the earliest time a pending file may be complete.
func (s *settler) next() (time.Time, bool) {
	var t time.Time
	ok := false
	for _, p := range s.pending {
		d := p.last.Add(s.settle)
		if !ok || d.Before(t) {
			t, ok = d, true
		}
	}
	return t, ok
}

// due returns the pending names whose settle time has passed at now.
func (s *settler) due(now time.Time) []string {
	var names []string
	for name, p := range s.pending {
		if !now.Before(p.last.Add(s.settle)) {
			names = append(names, name)
		}
	}
	return names
}

// check decides a due file with a fresh stat: complete if unchanged since
// the last activity (it moves to reported), else pending again from now.
func (s *settler) check(name string, st fileState, now time.Time) (complete bool) {
	p := s.pending[name]
	if p == nil {
		return false
	}
	if !p.state.same(st) {
		p.state = st
		p.last = now
		return false
	}
	delete(s.pending, name)
	s.reported[name] = st
	return true
}

// markReported records st as reported without a settle wait (a scan found a
// file older than the settle time).
func (s *settler) markReported(name string, st fileState) {
	delete(s.pending, name)
	s.reported[name] = st
}

// prune drops reported names that are not in keep, bounding memory to the
// files present in the folder.
func (s *settler) prune(keep map[string]bool) {
	for name := range s.reported {
		if !keep[name] {
			delete(s.reported, name)
		}
	}
}
