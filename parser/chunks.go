package parser

// chunks is an append-only store that never moves what it holds: when the
// current chunk is full a new one is started, so pointers and sub-slices
// into earlier chunks stay valid and nothing is copied while parsing. The
// total allocated stays close to what is stored, even for a hostile file of
// the largest accepted size (append's 1.25x growth would allocate about five
// times the final size).
type chunks[T any] struct {
	done [][]T
	cur  []T
	n    int // elements in done
}

// maxChunk bounds the size of one chunk, in elements.
const maxChunk = 4096

func newChunks[T any](initial int) chunks[T] {
	if initial < 1 {
		initial = 1
	}
	return chunks[T]{cur: make([]T, 0, initial)}
}

// reserve makes room for k more elements in the current chunk.
func (c *chunks[T]) reserve(k int) {
	if len(c.cur)+k <= cap(c.cur) {
		return
	}
	next := 2 * cap(c.cur)
	if next > maxChunk {
		next = maxChunk
	}
	if next < k {
		next = k
	}
	if len(c.cur) > 0 {
		c.done = append(c.done, c.cur)
		c.n += len(c.cur)
	}
	c.cur = make([]T, 0, next)
}

// add appends v and returns a stable pointer to it.
func (c *chunks[T]) add(v T) *T {
	c.reserve(1)
	c.cur = append(c.cur, v)
	return &c.cur[len(c.cur)-1]
}

// len returns the number of elements stored.
func (c *chunks[T]) len() int { return c.n + len(c.cur) }

// all returns every element in order, in one slice: the current chunk
// itself when it is the only one, else an exact-size copy.
func (c *chunks[T]) all() []T {
	if len(c.done) == 0 {
		return c.cur
	}
	out := make([]T, 0, c.len())
	for _, d := range c.done {
		out = append(out, d...)
	}
	return append(out, c.cur...)
}
