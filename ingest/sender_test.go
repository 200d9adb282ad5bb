package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/source"
)

// A publisher outage delays posts and loses none; each post is retried with
// backoff, and a post with a message ID is never sent again.
func TestSenderRetriesWithBackoff(t *testing.T) {
	e := newEnv(t, nil)
	e.put(iceR1)
	e.want(iceR1, source.ViaPoll, ingest.Imported)
	e.pub.fail, e.pub.err = 3, errors.New("discord: HTTP 503")
	var waits []time.Duration
	for range 3 {
		if n := e.flush(); n != 0 {
			t.Fatalf("sent %d during the outage", n)
		}
		items, err := e.st.Due(e.ctx, e.clock.Now().Add(time.Hour), 10)
		if err != nil || len(items) != 1 {
			t.Fatalf("due = %v, %v", items, err)
		}
		wait := items[0].NextAttempt.Sub(e.clock.Now())
		waits = append(waits, wait)
		e.clock.Advance(wait - time.Second)
		if n := e.flush(); n != 0 {
			t.Fatalf("sent before the backoff ended")
		}
		e.clock.Advance(time.Second)
	}
	if want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second}; fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Errorf("backoff %v, want %v", waits, want)
	}
	if n := e.flush(); n != 1 {
		t.Fatalf("sent %d after the outage, want 1", n)
	}
	e.clock.Advance(time.Hour)
	if n := e.flush(); n != 0 {
		t.Errorf("sent %d again", n)
	}
	if total, _ := e.pub.sends(); total != 1 {
		t.Errorf("published %d times", total)
	}
	var msg string
	if err := e.db.QueryRow(`SELECT message_id FROM outbox`).Scan(&msg); err != nil || msg != "msg-"+ingest.Nonce("main", iceR1, ingest.PostRound) {
		t.Errorf("message id %q, %v", msg, err)
	}
}

// After 10 failures, or one permanent failure, a post stays in the outbox,
// given up and visible; a retry command puts it back.
func TestSenderGivesUp(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		flushes int
	}{
		{"ten temporary failures", errors.New("timeout"), 10},
		{"one permanent failure", fmt.Errorf("HTTP 403: %w", ingest.ErrPermanent), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.put(iceR1)
			e.want(iceR1, source.ViaPoll, ingest.Imported)
			e.pub.fail, e.pub.err = 100, tc.err
			for range tc.flushes {
				e.flush()
				e.clock.Advance(time.Hour)
			}
			b, err := e.st.OutboxBacklog(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if b.GivenUp != 1 || b.Pending != 0 || b.Sent != 0 {
				t.Fatalf("backlog %+v, want 1 given up", b)
			}
			gone, err := e.st.GivenUpPosts(e.ctx, 10)
			if err != nil || len(gone) != 1 || gone[0].Attempts != tc.flushes || gone[0].LastError != tc.err.Error() {
				t.Fatalf("given up = %+v, %v", gone, err)
			}
			e.pub.fail = 0
			if n := e.flush(); n != 0 {
				t.Fatalf("a given-up post was sent")
			}
			if err := e.st.RetryPost(e.ctx, gone[0].ID); err != nil {
				t.Fatal(err)
			}
			if n := e.flush(); n != 1 {
				t.Fatalf("after retry: sent %d, want 1", n)
			}
		})
	}
}

// Run drains on Notify (the pipeline's commit) and stops with ctx.
func TestSenderRun(t *testing.T) {
	e := newEnv(t, nil)
	e.put(iceR1, iceR2)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.snd.Run(ctx, time.Second); close(done) }()
	e.want(iceR1, source.ViaWebhook, ingest.Imported) // Deps.Notify wakes Run
	e.want(iceR2, source.ViaWebhook, ingest.Imported)
	for {
		if total, _ := e.pub.sends(); total == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	b, err := e.st.OutboxBacklog(e.ctx)
	if err != nil || b.Sent != 2 || b.Pending != 0 {
		t.Errorf("backlog %+v, %v", b, err)
	}
}
