package notify

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/internal/testutil"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source/webhook/send"
)

// webhookSecret is the token part of the webhook URL: recognisable in any
// output it might leak into.
const webhookSecret = "SECRET-WEBHOOK-TOKEN-c41d"

// assertNoWebhookSecret fails t when text holds the token (or the URL) in
// any common form.
func assertNoWebhookSecret(t *testing.T, what, text, hookURL string) {
	t.Helper()
	for _, s := range []string{webhookSecret, url.PathEscape(webhookSecret), url.QueryEscape(hookURL),
		base64.StdEncoding.EncodeToString([]byte(webhookSecret)), base64.StdEncoding.EncodeToString([]byte(hookURL)),
		strings.TrimPrefix(hookURL, "http://")} {
		if strings.Contains(text, s) {
			t.Errorf("webhook secret (as %q) in %s: %.400s", s, what, text)
		}
	}
}

// hostileWebhook answers with a script of failures; every error body echoes
// the request's URL and path, as a misbehaving proxy might, so that any
// error text built from the body must be scrubbed.
type hostileWebhook struct {
	mu       sync.Mutex
	attempts int
	script   []int // status per attempt; past its end: connection dropped
	third    chan struct{}
}

func (h *hostileWebhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	h.mu.Lock()
	h.attempts++
	n := h.attempts
	h.mu.Unlock()
	if n > len(h.script) {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	code := h.script[n-1]
	echo := fmt.Sprintf("%s %s host=%s", r.Method, r.URL.String(), r.Host)
	w.Header().Set("Content-Type", "application/json")
	if code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"message": %q, "retry_after": 0.5, "code": 0}`, echo)
	if n == len(h.script) {
		close(h.third)
	}
}

// TestSecurityWebhookSecretNeverLogged runs the notifier against a webhook
// that fails with 500, 429 and 404 (bodies echoing the URL), then drops
// connections, then is gone (connection refused): no log line and no error
// holds the token or the URL. The sender's errors for each case are checked
// directly too, in every fmt form.
func TestSecurityWebhookSecretNeverLogged(t *testing.T) {
	t.Parallel()
	h := &hostileWebhook{script: []int{500, 429, 404}, third: make(chan struct{})}
	srv := httptest.NewServer(h)
	defer srv.Close()
	hookURL := srv.URL + "/api/webhooks/123/" + webhookSecret

	statsDir, spoolDir := t.TempDir(), t.TempDir()
	writeStats(t, statsDir, "2026-01-15-222119-te_escape2-round-1.txt", 500, time.Minute)
	var logs testutil.SyncBuffer
	cfg := testConfig(t, hookURL, statsDir, spoolDir, testutil.NewAutoClock(time.Now()), &logs)
	cfg.Send.MaxAttempts = 1 // every failure reaches the notifier's log
	assertNoWebhookSecret(t, "config formatting", fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg.Send), hookURL)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	select {
	case <-h.third:
	case <-time.After(20 * time.Second): // a hang guard, not a timing assertion
		t.Fatalf("the webhook saw %d attempts; logs:\n%s", h.attempts, logs.String())
	}
	// Dropped connections, then a closed server: transport errors.
	testutil.WaitFor(t, "a dropped-connection failure", func() bool { return strings.Contains(logs.String(), "EOF") })
	srv.CloseClientConnections()
	srv.Close()
	testutil.WaitFor(t, "a refused-connection failure", func() bool { return strings.Contains(logs.String(), "refused") })
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	out := logs.String()
	// "[redacted]": the echoed URL did reach the error text, and was scrubbed.
	for _, want := range []string{"HTTP 500", "HTTP 429", "HTTP 404", "check DISCORD_WEBHOOK_URL", "[redacted]"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	assertNoWebhookSecret(t, "logs", out, hookURL)
	assertNoWebhookSecret(t, "Run error", fmt.Sprintf("%v %+v %#v", err, err, err), hookURL)

	// The sender's own errors, case by case.
	for _, code := range []int{500, 429, 404, 0} {
		t.Run(fmt.Sprint("sender ", code), func(t *testing.T) {
			u := "http://" + testutil.FreeAddr(t) + "/api/webhooks/123/" + webhookSecret
			if code != 0 {
				s := httptest.NewServer(&hostileWebhook{script: []int{code, code}, third: make(chan struct{})})
				defer s.Close()
				u = s.URL + "/api/webhooks/123/" + webhookSecret
			}
			var slogs testutil.SyncBuffer
			scfg := send.DefaultConfig(u)
			scfg.MaxAttempts = 2
			snd, err := send.New(scfg, testutil.NewAutoClock(time.Now()), slog.New(slog.NewTextHandler(&slogs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			if err != nil {
				t.Fatal(err)
			}
			name, err := parser.ParseFileName("2026-01-15-222119-te_escape2-round-1.txt")
			if err != nil {
				t.Fatal(err)
			}
			err = snd.Notify(context.Background(), send.Notification{Name: name, Size: 500})
			if err == nil {
				t.Fatal("Notify succeeded")
			}
			var chain strings.Builder
			for e := err; e != nil; e = errors.Unwrap(e) {
				fmt.Fprintf(&chain, "%v | %+v | ", e, e)
			}
			assertNoWebhookSecret(t, "Notify error chain", chain.String(), u)
			assertNoWebhookSecret(t, "sender logs", slogs.String(), u)
		})
	}
}
