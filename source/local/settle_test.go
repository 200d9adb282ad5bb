package local

import (
	"testing"
	"time"
)

func TestSettler(t *testing.T) {
	t0 := time.Date(2026, 1, 15, 22, 0, 0, 0, time.UTC)
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	st := func(size int64) fileState { return fileState{size: size, mtime: t0} }
	type step struct {
		op   string // touch, check, forget
		at   int
		size int64
		want bool // check: complete
	}
	tests := []struct {
		name  string
		steps []step
		due   []int // seconds at which due() must name the file
	}{
		{"unchanged after settle is complete", []step{
			{op: "touch", at: 0, size: 10},
			{op: "check", at: 2, size: 10, want: true},
		}, []int{2, 3}},
		{"grown at check waits again", []step{
			{op: "touch", at: 0, size: 10},
			{op: "check", at: 2, size: 20, want: false},
			{op: "check", at: 4, size: 20, want: true},
		}, nil},
		{"write event restarts settle", []step{
			{op: "touch", at: 0, size: 10},
			{op: "touch", at: 1, size: 20},
			{op: "check", at: 3, size: 20, want: true},
		}, []int{3}},
		{"forgotten file is not complete", []step{
			{op: "touch", at: 0, size: 10},
			{op: "forget", at: 1},
			{op: "check", at: 2, size: 10, want: false},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSettler(2 * time.Second)
			for i, sp := range tt.steps {
				switch sp.op {
				case "touch":
					s.touch("f", st(sp.size), sec(sp.at))
				case "forget":
					s.forget("f")
				case "check":
					if got := s.check("f", st(sp.size), sec(sp.at)); got != sp.want {
						t.Fatalf("step %d: check at %ds = %v, want %v", i, sp.at, got, sp.want)
					}
				}
			}
			if len(tt.due) > 0 {
				s2 := newSettler(2 * time.Second)
				for _, sp := range tt.steps {
					if sp.op == "touch" {
						s2.touch("f", st(sp.size), sec(sp.at))
					}
				}
				if got := s2.due(sec(tt.due[0] - 1)); len(got) != 0 {
					t.Errorf("due(%ds) = %v, want none", tt.due[0]-1, got)
				}
				for _, d := range tt.due {
					if got := s2.due(sec(d)); len(got) != 1 {
						t.Errorf("due(%ds) = %v, want [f]", d, got)
					}
				}
				if next, ok := s2.next(); !ok || !next.Equal(sec(tt.due[0])) {
					t.Errorf("next = %v %v, want %v", next, ok, sec(tt.due[0]))
				}
			}
		})
	}
}

func TestSettlerReportedAndPrune(t *testing.T) {
	t0 := time.Date(2026, 1, 15, 22, 0, 0, 0, time.UTC)
	s := newSettler(time.Second)
	a := fileState{size: 5, mtime: t0}
	s.markReported("a", a)
	if !s.wasReported("a", a) {
		t.Fatal("a not reported after markReported")
	}
	if s.wasReported("a", fileState{size: 6, mtime: t0}) {
		t.Fatal("a rewritten with another size counts as reported")
	}
	s.prune(map[string]bool{"b": true})
	if s.wasReported("a", a) {
		t.Fatal("prune kept a name that is gone")
	}
	if _, ok := s.next(); ok {
		t.Fatal("next with nothing pending")
	}
}
