package send

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/internal/testutil"
	"github.com/roundfeed/roundfeed/parser"
)

const token = "s3cr3t-T0KEN_abcdefghijklmnopqrstuvwxyz0123456789"

// newFakeClock returns a virtual clock whose After advances it at once and
// records the wait (Waits).
func newFakeClock() *testutil.Clock {
	return testutil.NewAutoClock(time.Date(2026, 1, 15, 21, 0, 0, 0, time.UTC))
}

// reply is one scripted answer; drop closes the connection without one.
type reply struct {
	code   int
	header map[string]string
	body   string
	drop   bool
}

// fakeHook is a Discord webhook endpoint answering from a script (the last
// reply repeats) and recording what it received.
type fakeHook struct {
	mu     sync.Mutex
	script []reply
	got    []Message
	uris   []string
	n      int
}

func (f *fakeHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	rep := f.script[min(f.n, len(f.script)-1)]
	f.n++
	f.uris = append(f.uris, r.URL.RequestURI())
	var m Message
	if json.Unmarshal(body, &m) == nil {
		f.got = append(f.got, m)
	}
	f.mu.Unlock()
	if rep.drop {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.code)
	io.WriteString(w, rep.body)
}

func (f *fakeHook) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func newTestSender(t *testing.T, script ...reply) (*Sender, *fakeHook, *testutil.Clock, *bytes.Buffer, string) {
	t.Helper()
	fh := &fakeHook{script: script}
	srv := httptest.NewServer(fh)
	t.Cleanup(srv.Close)
	u := srv.URL + "/api/webhooks/1200000000000000002/" + token
	clk := newFakeClock()
	var logs bytes.Buffer
	s, err := New(DefaultConfig(u), clk, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	return s, fh, clk, &logs, u
}

func note(t testing.TB, name string) Notification {
	n, err := parser.ValidateName(name)
	if err != nil {
		t.Fatal(err)
	}
	return Notification{Name: n, Size: 4321}
}

func TestFileMessageJSON(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, want string }{
		{"2026-01-15-222119-te_escape2-round-1.txt",
			`{"username":"ET:Legacy Stats","content":"📊 ` + "`2026-01-15-222119-te_escape2-round-1.txt`" + `","embeds":[{"title":"Round Complete","description":"**te_escape2** - Round 1","footer":{"text":"4321 bytes"}}],"allowed_mentions":{"parse":[]}}`},
		{"2026-01-15-222119-te_escape2-round-2-endstats.txt",
			`{"username":"ET:Legacy Stats","content":"🏆 ` + "`2026-01-15-222119-te_escape2-round-2-endstats.txt`" + `","embeds":[{"title":"Awards Ready","description":"**te_escape2** - Round 2","footer":{"text":"4321 bytes"}}],"allowed_mentions":{"parse":[]}}`},
	}
	for _, tc := range tests {
		b, err := json.Marshal(FileMessage(note(t, tc.name), DefaultUsername))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("got  %s\nwant %s", b, tc.want)
		}
	}
	b, _ := json.Marshal(HeartbeatMessage("x"))
	if string(b) != `{"username":"x","content":"ROUNDFEED_HEARTBEAT","allowed_mentions":{"parse":[]}}` {
		t.Errorf("heartbeat %s", b)
	}
}

func TestNotifyFirstTry(t *testing.T) {
	t.Parallel()
	s, fh, clk, _, _ := newTestSender(t, reply{code: 200, body: `{"id":"1"}`})
	if err := s.Notify(context.Background(), note(t, "2026-01-15-222119-te_escape2-round-1.txt")); err != nil {
		t.Fatal(err)
	}
	if fh.requests() != 1 || len(clk.Waits()) != 0 {
		t.Fatalf("%d requests, waits %v", fh.requests(), clk.Waits())
	}
	if fh.uris[0] != "/api/webhooks/1200000000000000002/"+token+"?wait=true" {
		t.Errorf("posted to %s", fh.uris[0])
	}
	if fh.got[0].Content != "📊 `2026-01-15-222119-te_escape2-round-1.txt`" || fh.got[0].Username != DefaultUsername {
		t.Errorf("posted %+v", fh.got[0])
	}
}

func TestNotifyRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		script    []reply
		wantErr   error
		wantCode  int
		requests  int
		wantWaits []time.Duration
	}{
		{"5xx then ok", []reply{{code: 502}, {code: 500}, {code: 204}}, nil, 0, 3,
			[]time.Duration{time.Second, 2 * time.Second}},
		{"dropped connection then ok", []reply{{drop: true}, {code: 200}}, nil, 0, 2,
			[]time.Duration{time.Second}},
		{"429 json retry_after", []reply{{code: 429, body: `{"message":"You are being rate limited.","retry_after":2.5,"global":false}`,
			header: map[string]string{"Retry-After": "3"}}, {code: 200}}, nil, 0, 2,
			[]time.Duration{2500 * time.Millisecond}},
		{"429 header only", []reply{{code: 429, header: map[string]string{"Retry-After": "7"}}, {code: 200}}, nil, 0, 2,
			[]time.Duration{7 * time.Second}},
		{"429 capped", []reply{{code: 429, body: `{"retry_after":86400}`}, {code: 200}}, nil, 0, 2,
			[]time.Duration{10 * time.Minute}},
		{"404 unknown webhook: no retry", []reply{{code: 404, body: `{"message":"Unknown Webhook","code":10015}`}}, ErrRejected, 404, 1, nil},
		{"401 invalid token: no retry", []reply{{code: 401, body: `{"message":"Invalid Webhook Token","code":50027}`}}, ErrRejected, 401, 1, nil},
		{"400 bad body: no retry", []reply{{code: 400}}, ErrRejected, 400, 1, nil},
		{"redirect is not followed", []reply{{code: 301, header: map[string]string{"Location": "http://evil.example/"}}}, ErrUnavailable, 301, 5,
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}},
		{"always 503: gives up", []reply{{code: 503}}, ErrUnavailable, 503, 5,
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, fh, clk, _, _ := newTestSender(t, tc.script...)
			err := s.Notify(context.Background(), note(t, "2026-01-15-222119-te_escape2-round-1.txt"))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if tc.wantCode != 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.Code != tc.wantCode {
					t.Errorf("status error %v, want %d", err, tc.wantCode)
				}
			}
			if fh.requests() != tc.requests {
				t.Errorf("%d requests, want %d", fh.requests(), tc.requests)
			}
			if got := clk.Waits(); fmt.Sprint(got) != fmt.Sprint(tc.wantWaits) {
				t.Errorf("waits %v, want %v", got, tc.wantWaits)
			}
		})
	}
}

func TestNotifyWaitsForEmptyBucket(t *testing.T) {
	t.Parallel()
	s, fh, clk, _, _ := newTestSender(t, reply{code: 200, header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "1.5"}},
		reply{code: 200, header: map[string]string{"X-RateLimit-Remaining": "4", "X-RateLimit-Reset-After": "1.5"}})
	for range 3 {
		if err := s.Notify(context.Background(), note(t, "2026-01-15-222119-te_escape2-round-1.txt")); err != nil {
			t.Fatal(err)
		}
	}
	if got := clk.Waits(); fmt.Sprint(got) != "[1.5s]" || fh.requests() != 3 {
		t.Errorf("waits %v after %d posts, want one 1.5s wait", got, fh.requests())
	}
}

func TestNotifyContext(t *testing.T) {
	t.Parallel()
	// Cancelled while waiting to retry: stops at once.
	s, fh, _, _, _ := newTestSender(t, reply{code: 503})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Notify(ctx, note(t, "2026-01-15-222119-te_escape2-round-1.txt")); !errors.Is(err, context.Canceled) || fh.requests() != 0 {
		t.Fatalf("err %v after %d requests", err, fh.requests())
	}

	// Cancelled while a post is in flight: the post finishes, and counts.
	release := make(chan struct{})
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		w.WriteHeader(200)
	}))
	defer srv.Close()
	s2, err := New(DefaultConfig(srv.URL+"/api/webhooks/1/"+token), newFakeClock(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s2.Notify(ctx, note(t, "2026-01-15-222119-te_escape2-round-1.txt")) }()
	<-arrived
	cancel()
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("in-flight post after cancel: %v", err)
	}
}

// The URL holds the token: no error text and no log line may contain it,
// whatever fails and however the config is printed.
func TestSecretNeverLeaks(t *testing.T) {
	t.Parallel()
	s, _, _, logs, u := newTestSender(t,
		reply{code: 500, body: "upstream said: " + "POST /api/webhooks/1200000000000000002/" + token},
		reply{drop: true},
		reply{code: 429, body: `{"retry_after":0.01}`},
		reply{code: 503},
		reply{code: 502},
		reply{code: 401, body: `{"message":"Invalid Webhook Token ` + token + `"}`})
	err1 := s.Notify(context.Background(), note(t, "2026-01-15-222119-te_escape2-round-1.txt"))
	err2 := s.Notify(context.Background(), note(t, "2026-01-15-222119-te_escape2-round-2.txt"))

	// A server that is gone: a transport error, which embeds the URL in *url.Error.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/api/webhooks/1/" + token
	dead.Close()
	cfg := DefaultConfig(deadURL)
	cfg.MaxAttempts = 2
	var logs2 bytes.Buffer
	s3, err := New(cfg, newFakeClock(), slog.New(slog.NewTextHandler(&logs2, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	err3 := s3.Heartbeat(context.Background())
	if !errors.Is(err3, ErrUnavailable) {
		t.Fatalf("dead server: %v", err3)
	}
	_, err4 := New(DefaultConfig(strings.Replace(u, "http://", "ftp://", 1)), nil, nil)

	var printed bytes.Buffer
	slog.New(slog.NewJSONHandler(&printed, nil)).Info("config", "cfg", cfg)
	fmt.Fprintf(&printed, "%v %+v %#v %s", cfg, cfg, cfg, cfg)

	for i, text := range []string{fmt.Sprint(err1), fmt.Sprint(err2), fmt.Sprint(err3), fmt.Sprint(err4), logs.String(), logs2.String(), printed.String()} {
		if strings.Contains(text, token) || strings.Contains(text, "/api/webhooks/1/") {
			t.Errorf("text %d leaks the webhook URL: %s", i, text)
		}
	}
	if err1 == nil || err2 == nil || err4 == nil || !errors.Is(err2, ErrRejected) {
		t.Errorf("errors %v / %v / %v", err1, err2, err4)
	}
	if !strings.Contains(printed.String(), "1200000000000000002") && !strings.Contains(printed.String(), `webhook_id":"1"`) {
		t.Errorf("config does not show the webhook ID: %s", printed.String())
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	bad := []string{
		"",
		"discord.com/api/webhooks/1/" + token,
		"http://discord.com/api/webhooks/1/" + token,
		"https://discord.com/",
		"https://discord.com/api/webhooks/1/",
		"https://discord.com/api/webhooks/x/" + token,
		"https://discord.com/api/hooks/1/" + token,
		"https://user:" + token + "@discord.com/api/webhooks/1/x",
		"https://discord.com/api/webhooks/1/" + token + "#frag",
		"ftp://discord.com/api/webhooks/1/" + token,
		"https://disc ord.com/api/webhooks/1/" + token + "%zz",
	}
	for _, u := range bad {
		err := DefaultConfig(u).Validate()
		if err == nil {
			t.Errorf("accepted %q", u)
			continue
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("error echoes the URL: %v", err)
		}
	}
	for _, u := range []string{"https://discord.com/api/webhooks/1/" + token, "http://127.0.0.1:8080/api/webhooks/1/x", "http://localhost/api/webhooks/1/x?thread_id=5"} {
		if err := DefaultConfig(u).Validate(); err != nil {
			t.Errorf("refused %q: %v", u, err)
		}
	}
	c := DefaultConfig("https://discord.com/api/webhooks/1/x")
	c.MaxAttempts, c.MinBackoff, c.Timeout, c.Username = 0, 0, 0, ""
	err := c.Validate()
	for _, want := range []string{"MaxAttempts", "MinBackoff", "Timeout", "Username"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
	env := map[string]string{EnvURL: " https://discord.com/api/webhooks/1/x ", EnvUsername: "Stats Bot"}
	c, err = ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil || c.Username != "Stats Bot" || c.URL != "https://discord.com/api/webhooks/1/x" {
		t.Errorf("from env: %v %v", c, err)
	}
}

// The sender is linked into the game-server notifier: standard library and
// the parser only.
func TestImportsStayLean(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep != "github.com/roundfeed/roundfeed/parser" && dep != "github.com/roundfeed/roundfeed/source/webhook/send" {
			t.Errorf("send depends on %s", dep)
		}
	}
}

func BenchmarkNotify(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(204)
	}))
	defer srv.Close()
	s, err := New(DefaultConfig(srv.URL+"/api/webhooks/1/"+token), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	n := note(b, "2026-01-15-222119-te_escape2-round-1.txt")
	body, _ := json.Marshal(FileMessage(n, DefaultUsername))
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := s.Notify(context.Background(), n); err != nil {
			b.Fatal(err)
		}
	}
}
