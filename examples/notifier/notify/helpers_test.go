package notify

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/internal/testutil"
	"github.com/roundfeed/roundfeed/source/webhook/send"
)

const token = "n0tifier-T0KEN_abcdefghijklmnopqrstuvwxyz0123456789"

// The tests' clocks start at the real time so that real file mtimes fall in
// the lookback window: testutil.NewAutoClock(time.Now()) lets settle times,
// backoffs and Retry-After waits pass at once; testutil.NewClock(time.Now())
// fires timers only when the test advances it.

// discord is a fake webhook endpoint. policy decides each answer from the
// attempt number (1-based); it records what was accepted (2xx), in order.
type discord struct {
	mu        sync.Mutex
	policy    func(n int) (code int, body string, drop bool)
	attempts  int
	accepted  []send.Message
	delivered chan string // receives each accepted content
	failed    chan int    // receives each refused attempt's code
}

func newDiscord(t *testing.T) (*discord, string) {
	t.Helper()
	d := &discord{delivered: make(chan string, 1000), failed: make(chan int, 100000)}
	d.setPolicy(func(int) (int, string, bool) { return 200, `{"id":"1"}`, false })
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return d, srv.URL + "/api/webhooks/1200000000000000002/" + token
}

func (d *discord) setPolicy(p func(n int) (int, string, bool)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.policy = p
}

func (d *discord) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	d.mu.Lock()
	d.attempts++
	code, resp, drop := d.policy(d.attempts)
	var m send.Message
	_ = json.Unmarshal(body, &m)
	if !drop && code >= 200 && code < 300 {
		d.accepted = append(d.accepted, m)
	}
	d.mu.Unlock()
	if drop {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		select {
		case d.failed <- 0:
		default:
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	io.WriteString(w, resp)
	if code >= 200 && code < 300 {
		d.delivered <- m.Content
	} else {
		select {
		case d.failed <- code:
		default:
		}
	}
}

// drainFailed forgets the refused attempts reported so far.
func (d *discord) drainFailed() {
	for {
		select {
		case <-d.failed:
		default:
			return
		}
	}
}

func (d *discord) contents() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, m := range d.accepted {
		out = append(out, m.Content)
	}
	return out
}

// waitDelivered waits for n more accepted posts and returns their contents.
func (d *discord) waitDelivered(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	guard := time.After(20 * time.Second) // a hang guard, not a timing assertion
	for len(got) < n {
		select {
		case c := <-d.delivered:
			got = append(got, c)
		case <-guard:
			t.Fatalf("only %d of %d posts arrived: %q", len(got), n, got)
		}
	}
	return got
}

// writeStats puts a complete file into dir the way a careful writer would
// (write aside, rename in), with size bytes and the given mtime age.
func writeStats(t *testing.T, dir, name string, size int, age time.Duration) {
	t.Helper()
	tmp := filepath.Join(dir, ".incoming")
	if err := os.WriteFile(tmp, bytes.Repeat([]byte("x"), size), 0o644); err != nil {
		t.Fatal(err)
	}
	if age > 0 {
		at := time.Now().Add(-age)
		if err := os.Chtimes(tmp, at, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func testConfig(t *testing.T, url, statsDir, spoolDir string, clock Clock, logs *testutil.SyncBuffer) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.StatsDir = statsDir
	cfg.SpoolDir = spoolDir
	cfg.Send = send.DefaultConfig(url)
	cfg.Rescan = 0
	cfg.Clock = clock
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return cfg
}

func content(name string) string {
	if strings.HasSuffix(name, "-endstats.txt") {
		return send.EndstatsEmoji + " `" + name + "`"
	}
	return send.StatsEmoji + " `" + name + "`"
}
