package discord

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/bwmarrin/discordgo"
)

const testToken = "Bot sekrit-token-value-123"

// recorded is one request the fake Discord received.
type recorded struct {
	Method, Path, Auth string
	Body               map[string]any
}

// fakeDiscord is an httptest server standing in for discord.com. Handler
// answers requests; every request is recorded.
type fakeDiscord struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []recorded
	handler func(w http.ResponseWriter, r *http.Request, n int)
}

func newFakeDiscord(t testing.TB, h func(w http.ResponseWriter, r *http.Request, n int)) (*fakeDiscord, *discordgo.Session) {
	t.Helper()
	f := &fakeDiscord{handler: h}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Body: body})
		n := len(f.reqs)
		f.mu.Unlock()
		f.handler(w, r, n)
	}))
	t.Cleanup(f.srv.Close)
	s, err := discordgo.New(testToken)
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(f.srv.URL)
	s.Client = &http.Client{Transport: rewrite{target: target}}
	return f, s
}

func (f *fakeDiscord) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// rewrite sends every request to the test server, keeping the path.
type rewrite struct{ target *url.URL }

func (rt rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.URL.Scheme = rt.target.Scheme
	r2.URL.Host = rt.target.Host
	r2.Host = rt.target.Host
	return http.DefaultTransport.RoundTrip(r2)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
