package send

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	// ErrRejected: Discord answered with a 4xx other than 429. The webhook
	// URL is wrong or the webhook was deleted; posting again will not help
	// until the configuration changes. Keep the notification.
	ErrRejected = errors.New("send: webhook rejected the post (configuration error)")
	// ErrUnavailable: every attempt failed with a transport error, a 5xx or
	// a 429. Keep the notification and try again later.
	ErrUnavailable = errors.New("send: webhook unavailable")
)

// StatusError is a non-2xx answer. Body is Discord's error text, cut to 200
// bytes and scrubbed of the token.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("send: HTTP %d: %s", e.Code, e.Body)
}

// Clock is the time source of a Sender: Now for rate-limit buckets, After for
// the waits between attempts. Nil means the system clock.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives once, d after the call.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Sender posts notifications to one Discord webhook. It is safe for
// concurrent use; posts from one Sender share Discord's rate-limit bucket.
type Sender struct {
	cfg    Config
	hook   webhookURL
	client *http.Client
	clock  Clock
	log    *slog.Logger

	mu        sync.Mutex
	notBefore time.Time // the bucket is empty until then
}

// New returns a Sender for a valid cfg. A nil clock is the system clock; a
// nil logger discards.
func New(cfg Config, clock Clock, logger *slog.Logger) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	hook, _ := parseWebhookURL(cfg.URL)
	if clock == nil {
		clock = systemClock{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tr := cfg.Transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	return &Sender{
		cfg:  cfg,
		hook: hook,
		client: &http.Client{
			Transport: tr,
			// A redirect would carry the token elsewhere; Discord never sends one.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		clock: clock,
		log:   logger.With("component", "send", "webhook_id", hook.id),
	}, nil
}

// Notify posts the protocol's message for one file. It returns nil after a
// 2xx, ErrRejected (wrapping a *StatusError) for a 4xx other than 429
// without retrying, ErrUnavailable (wrapping the last error) after
// Config.MaxAttempts failed posts, and ctx.Err() when ctx ends while waiting.
//
// Cancelling ctx does not abort a post already sent: it runs to its answer
// (at most Config.Timeout), so that the caller knows whether Discord took it.
// If that answer is a 2xx, Notify returns nil even though ctx has ended.
func (s *Sender) Notify(ctx context.Context, n Notification) error {
	if n.Name.IsZero() {
		return errors.New("send: notify: empty file name")
	}
	err := s.post(ctx, FileMessage(n, s.cfg.Username))
	if err != nil {
		return fmt.Errorf("send: notify %s: %w", n.Name.Raw, err)
	}
	return nil
}

// Heartbeat posts ROUNDFEED_HEARTBEAT, with the same errors as Notify.
func (s *Sender) Heartbeat(ctx context.Context) error {
	if err := s.post(ctx, HeartbeatMessage(s.cfg.Username)); err != nil {
		return fmt.Errorf("send: heartbeat: %w", err)
	}
	return nil
}

func (s *Sender) post(ctx context.Context, m Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("send: encode message: %w", err)
	}
	var last error
	for attempt := 1; attempt <= s.cfg.MaxAttempts; attempt++ {
		if err := s.waitBucket(ctx); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		wait, err := s.once(ctx, body)
		if err == nil {
			if attempt > 1 {
				s.log.Info("webhook post succeeded after retries", "attempts", attempt)
			}
			return nil
		}
		if errors.Is(err, ErrRejected) {
			s.log.Error("webhook post rejected: check DISCORD_WEBHOOK_URL", "err", err)
			return err
		}
		last = err
		if attempt == s.cfg.MaxAttempts {
			break
		}
		if wait == 0 {
			wait = s.backoff(attempt)
		}
		s.log.Warn("webhook post failed, retrying", "attempt", attempt, "wait", wait, "err", err)
		if err := s.sleep(ctx, wait); err != nil {
			return err
		}
	}
	s.log.Warn("webhook post gave up", "attempts", s.cfg.MaxAttempts, "err", last)
	return fmt.Errorf("%w after %d attempts: %w", ErrUnavailable, s.cfg.MaxAttempts, last)
}

// once makes one post. wait > 0 is how long Discord asked to wait (429).
func (s *Sender) once(ctx context.Context, body []byte) (wait time.Duration, err error) {
	// The request outlives ctx: see Notify.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, s.hook.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, s.scrub(fmt.Errorf("send: build request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "roundfeed-notifier (https://github.com/roundfeed/roundfeed)")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, s.scrub(fmt.Errorf("send: post: %w", stripURL(err)))
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))

	s.noteBucket(resp.Header)
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return 0, nil
	case code == http.StatusTooManyRequests:
		wait = retryAfter(resp.Header, data)
		if wait <= 0 {
			wait = s.cfg.MinBackoff
		}
		wait = min(wait, s.cfg.MaxRetryAfter)
		return wait, s.statusError(code, data)
	case code >= 400 && code < 500:
		return 0, fmt.Errorf("%w: %w", ErrRejected, s.statusError(code, data))
	default:
		return 0, s.statusError(code, data)
	}
}

func (s *Sender) statusError(code int, body []byte) error {
	text := strings.ToValidUTF8(string(body), "?")
	if len(text) > 200 {
		text = text[:200]
	}
	return &StatusError{Code: code, Body: s.redact(text)}
}

// noteBucket remembers an empty rate-limit bucket: the next post waits for
// its reset instead of earning a 429.
func (s *Sender) noteBucket(h http.Header) {
	if h.Get("X-RateLimit-Remaining") != "0" {
		return
	}
	d := parseSeconds(h.Get("X-RateLimit-Reset-After"))
	if d <= 0 {
		return
	}
	d = min(d, s.cfg.MaxRetryAfter)
	s.mu.Lock()
	s.notBefore = s.clock.Now().Add(d)
	s.mu.Unlock()
}

func (s *Sender) waitBucket(ctx context.Context) error {
	s.mu.Lock()
	d := s.notBefore.Sub(s.clock.Now())
	s.mu.Unlock()
	if d <= 0 {
		return nil
	}
	s.log.Debug("webhook bucket empty, waiting", "wait", d)
	return s.sleep(ctx, d)
}

func (s *Sender) backoff(attempt int) time.Duration {
	d := float64(s.cfg.MinBackoff) * math.Pow(2, float64(attempt-1))
	if d > float64(s.cfg.MaxBackoff) {
		return s.cfg.MaxBackoff
	}
	return time.Duration(d)
}

func (s *Sender) sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-s.clock.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryAfter reads how long a 429 asks to wait: the JSON body's retry_after
// (seconds, fractional), else the Retry-After header (seconds).
func retryAfter(h http.Header, body []byte) time.Duration {
	var v struct {
		RetryAfter float64 `json:"retry_after"`
	}
	if json.Unmarshal(body, &v) == nil && v.RetryAfter > 0 && v.RetryAfter < 1e6 {
		return time.Duration(v.RetryAfter * float64(time.Second))
	}
	return parseSeconds(h.Get("Retry-After"))
}

func parseSeconds(v string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f <= 0 || f > 1e6 || math.IsNaN(f) {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// stripURL replaces a *url.Error, whose text holds the request URL and so
// the token, by its operation and cause.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s webhook: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

// redact removes the URL and the token from s.
func (s *Sender) redact(text string) string {
	for _, secret := range []string{s.hook.endpoint, s.cfg.URL, s.hook.token} {
		if secret != "" {
			text = strings.ReplaceAll(text, secret, "[redacted]")
		}
	}
	return text
}

// scrub returns err unchanged, or wrapped so that its text is redacted if
// the text holds the URL or the token. The chain stays intact for errors.Is
// (a deadline, a refused connection).
func (s *Sender) scrub(err error) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	if red := s.redact(text); red != text {
		return &redactedError{text: red, err: err}
	}
	return err
}

type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }
