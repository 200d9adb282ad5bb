package harness

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/roundfeed/roundfeed/ingest"
)

// discord is the parent's stand-in for Discord's message endpoint with
// enforce_nonce: a post whose nonce was seen returns the first message
// instead of creating a second. It counts what a real channel would show
// (messages created, one per nonce at most) and classifies every re-publish
// of a nonce: explained when the previous reply was lost (a fault of this
// stand-in) or went to another worker, unexplained otherwise. A worker
// names itself in the WorkerHeader; a replay from the worker that received the first reply means that process recorded the
// message ID and sent the row again, or lost the ID without a crash: an
// outbox row sent twice. A replay from a later worker is the expected
// crash window (killed between the reply and recording the ID).
type discord struct {
	mu          sync.Mutex
	outageUntil time.Time
	lose        int // next posts whose reply is lost
	nextID      int64
	msgs        map[string]*message // by nonce
	replays     int                 // re-publishes of a known nonce
	replaysLost int                 // ... whose previous reply this stand-in lost
	// maxGap is the longest time from a message's creation to a re-publish
	// of its nonce: Discord deduplicates only "within the past few minutes".
	maxGap      time.Duration
	lostReplies int
	outage503   int
	problems    []string
	srv         *http.Server
	ln          net.Listener
}

// message is one created Discord message.
type message struct {
	ID        string
	Created   time.Time
	Post      ingest.Post
	Publishes int
	// replyTo is the worker that received the last publish's reply, 0
	// when that reply was lost.
	replyTo int
}

func newDiscord() (*discord, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d := &discord{msgs: map[string]*message{}, nextID: 1400000000000000000, ln: ln}
	d.srv = &http.Server{Handler: d, ReadHeaderTimeout: 5 * time.Second}
	go d.srv.Serve(ln)
	return d, nil
}

func (d *discord) url() string { return "http://" + d.ln.Addr().String() + "/channels/1/messages" }

func (d *discord) close() { d.srv.Close() }

func (d *discord) outage(until time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if until.After(d.outageUntil) {
		d.outageUntil = until
	}
}

func (d *discord) loseNext(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lose += n
}

func (d *discord) healthy() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.outageUntil = time.Time{} // lost replies stay armed: one-shot faults the drain must absorb
}

// ServeHTTP implements the message endpoint.
func (d *discord) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req PostRequest
	var worker int
	fmt.Sscan(r.Header.Get(WorkerHeader), &worker)
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&req) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	d.mu.Lock()
	if time.Now().Before(d.outageUntil) {
		d.outage503++
		d.mu.Unlock()
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	if !req.EnforceNonce || req.Nonce == "" || len(req.Nonce) > ingest.MaxNonceLen {
		d.problems = append(d.problems, fmt.Sprintf("post for %s: nonce %q (enforce %v): Discord would not deduplicate it", req.Post.File, req.Nonce, req.EnforceNonce))
	}
	m, ok := d.msgs[req.Nonce]
	if ok {
		d.replays++
		d.maxGap = max(d.maxGap, time.Since(m.Created))
		if m.replyTo == 0 {
			d.replaysLost++
		}
		if m.replyTo != 0 && m.replyTo == worker {
			d.problems = append(d.problems, fmt.Sprintf("nonce %s (%s %s) published again by worker %d, which had received its reply (message %s): an outbox row was sent twice",
				req.Nonce, req.Post.Kind, req.Post.File, worker, m.ID))
		}
	} else {
		d.nextID++
		m = &message{ID: fmt.Sprint(d.nextID), Created: time.Now(), Post: req.Post}
		d.msgs[req.Nonce] = m
	}
	m.Publishes++
	lost := d.lose > 0
	if lost {
		d.lose--
		d.lostReplies++
		m.replyTo = 0
	} else {
		m.replyTo = worker
	}
	id := m.ID
	d.mu.Unlock()
	if lost {
		// The message exists; the reply never arrives.
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(PostReply{ID: id})
}

// snapshot returns the created messages by nonce, the replays (total, and
// after a lost reply) and the problems found.
func (d *discord) snapshot() (map[string]message, [2]int, []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.snapshotLocked()
}

// replayGap returns the longest creation-to-replay time seen.
func (d *discord) replayGap() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.maxGap
}

func (d *discord) snapshotLocked() (map[string]message, [2]int, []string) {
	out := make(map[string]message, len(d.msgs))
	for k, v := range d.msgs {
		out[k] = *v
	}
	return out, [2]int{d.replays, d.replaysLost}, append([]string(nil), d.problems...)
}
