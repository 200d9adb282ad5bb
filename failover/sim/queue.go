package sim

import (
	"container/heap"
	"time"
)

// queue is a priority queue of actions on virtual time. Actions at the same
// instant run in the order they were scheduled, so a run is a pure function
// of its inputs.
type queue struct {
	items eventHeap
	seq   uint64
}

type event struct {
	at  time.Time
	seq uint64
	fn  func()
}

type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = event{}
	*h = old[:len(old)-1]
	return e
}

// at schedules fn to run at t.
func (q *queue) at(t time.Time, fn func()) {
	q.seq++
	heap.Push(&q.items, event{at: t, seq: q.seq, fn: fn})
}

// next removes and returns the earliest event; ok is false when the queue
// is empty or the earliest event is after end.
func (q *queue) next(end time.Time) (event, bool) {
	if len(q.items) == 0 || q.items[0].at.After(end) {
		return event{}, false
	}
	return heap.Pop(&q.items).(event), true
}

// len returns how many events wait.
func (q *queue) len() int { return len(q.items) }
