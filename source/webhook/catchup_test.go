package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/bwmarrin/discordgo"
)

// fakeDiscord serves GET /api/v*/channels/{id}/messages?after=&limit= from
// a message list, newest first like Discord, and counts requests.
type fakeDiscord struct {
	mu       sync.Mutex
	msgs     []*discordgo.Message // any order
	requests []string
	fail     bool
}

func (f *fakeDiscord) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.URL.RequestURI())
	if f.fail {
		http.Error(w, `{"message": "Missing Access", "code": 50001}`, http.StatusForbidden)
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/api/v9/channels/"+testChannel+"/messages" {
		http.NotFound(w, r)
		return
	}
	after := r.URL.Query().Get("after")
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	var page []*discordgo.Message
	sorted := slices.Clone(f.msgs)
	slices.SortFunc(sorted, func(a, b *discordgo.Message) int { return compareIDs(a.ID, b.ID) })
	for _, m := range sorted {
		if compareIDs(m.ID, after) > 0 && len(page) < limit {
			page = append(page, m)
		}
	}
	slices.Reverse(page) // Discord answers newest first
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(page)
}

// redirect sends every request of a real discordgo.Session to the test server.
type redirect struct{ to *url.URL }

func (rt redirect) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = rt.to.Scheme, rt.to.Host, rt.to.Host
	return http.DefaultTransport.RoundTrip(r)
}

func testSession(t *testing.T, h http.Handler) *discordgo.Session {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	s, err := discordgo.New("Bot test-token")
	if err != nil {
		t.Fatal(err)
	}
	s.Client = &http.Client{Transport: redirect{u}}
	s.MaxRestRetries = 0
	return s
}

func TestCatchUpReadsTheGap(t *testing.T) {
	t.Parallel()
	trig, _ := newTestTrigger(t, func(c *Config) { c.FileRate = 1000 })
	fd := &fakeDiscord{}
	s := testSession(t, fd)

	// Before any message there is no point to read from.
	if ds, err := trig.CatchUp(context.Background(), s); err != nil || ds != nil || len(fd.requests) != 0 {
		t.Fatalf("catch-up before any message: %v, %v, %d requests", ds, err, len(fd.requests))
	}

	// Live: message 1000 arrives through the gateway.
	if d := trig.Handle(hookMessage(msgID(1000), "📊 `"+goodName+"`")); len(d.Events) != 1 {
		t.Fatalf("live: %+v", d)
	}
	// Then the gateway drops; 250 messages are posted meanwhile: every
	// fifth a file trigger, the rest chatter, plus a spoof and a bad name.
	want := map[string]bool{}
	for i := 1001; i <= 1250; i++ {
		m := hookMessage(msgID(i), "chatter").Message
		if i%5 == 0 {
			name := strconv.Itoa(2000+i%100) + "-01-15-222119-supply-round-1.txt"
			m.Content = "📊 `" + name + "`"
			want[name] = true
		}
		fd.msgs = append(fd.msgs, m)
	}
	spoof := hookMessage(msgID(1251), "📊 `2026-01-15-230000-spoof-round-1.txt`").Message
	spoof.WebhookID = ""
	bad := hookMessage(msgID(1252), "📊 `../../x-round-1.txt`").Message
	fd.msgs = append(fd.msgs, spoof, bad, hookMessage(msgID(999), "📊 `2026-01-15-200000-old-round-1.txt`").Message)

	ds, err := trig.CatchUp(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 252 {
		t.Fatalf("%d decisions, want 252", len(ds))
	}
	got := map[string]bool{}
	for _, d := range ds {
		for _, e := range d.Events {
			got[e.Name.Raw] = true
		}
	}
	if len(got) != len(want) {
		t.Fatalf("caught up %d files, want %d", len(got), len(want))
	}
	for n := range want {
		if !got[n] {
			t.Errorf("missed %s", n)
		}
	}
	if ds[250].Ignored != ReasonNotWebhook || ds[251].Ignored != ReasonBadName+": path separator" {
		t.Errorf("spoof %q, bad name %q", ds[250].Ignored, ds[251].Ignored)
	}
	if n := len(fd.requests); n != 3 {
		t.Errorf("%d history requests, want 3 pages: %v", n, fd.requests)
	}
	if trig.LastMessageID() != msgID(1252) {
		t.Errorf("last message %s", trig.LastMessageID())
	}

	// A second catch-up finds nothing new; a live replay is a duplicate.
	ds, err = trig.CatchUp(context.Background(), s)
	if err != nil || len(ds) != 0 {
		t.Fatalf("second catch-up: %d decisions, %v", len(ds), err)
	}
	if d := trig.Handle(&discordgo.MessageCreate{Message: fd.msgs[4]}); d.Ignored != ReasonDuplicate {
		t.Errorf("replay after catch-up: %+v", d)
	}
}

func TestCatchUpBoundedAndErrors(t *testing.T) {
	t.Parallel()
	trig, _ := newTestTrigger(t, func(c *Config) { c.CatchUpMaxMessages = 150 })
	fd := &fakeDiscord{}
	for i := 1; i <= 400; i++ {
		fd.msgs = append(fd.msgs, hookMessage(msgID(i), "chatter").Message)
	}
	s := testSession(t, fd)
	trig.SetLastMessageID(msgID(0))
	ds, err := trig.CatchUp(context.Background(), s)
	if err != nil || len(ds) != 150 {
		t.Fatalf("%d decisions, %v; want the bound 150", len(ds), err)
	}
	if fd.requests[1] != "/api/v9/channels/"+testChannel+"/messages?after="+msgID(100)+"&limit=50" {
		t.Errorf("second page request %s", fd.requests[1])
	}

	fd.mu.Lock()
	fd.fail = true
	fd.mu.Unlock()
	_, err = trig.CatchUp(context.Background(), s)
	var rest *discordgo.RESTError
	if err == nil || !errors.As(err, &rest) || rest.Response.StatusCode != http.StatusForbidden {
		t.Fatalf("err %v, want the REST error wrapped", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := trig.CatchUp(ctx, s); err != context.Canceled {
		t.Fatalf("cancelled: %v", err)
	}
}

// Live messages and a catch-up over the same messages race; each file is
// accepted once.
func TestCatchUpRacesLiveMessages(t *testing.T) {
	t.Parallel()
	trig, _ := newTestTrigger(t, func(c *Config) { c.FileRate = 1000 })
	fd := &fakeDiscord{}
	var live []*discordgo.MessageCreate
	for i := 1; i <= 120; i++ {
		m := hookMessage(msgID(i), "📊 `2026-01-15-2200"+fmt.Sprintf("%02d", i%60)+"-map"+strconv.Itoa(i)+"-round-1.txt`")
		fd.msgs = append(fd.msgs, m.Message)
		live = append(live, m)
	}
	trig.SetLastMessageID(msgID(0))
	s := testSession(t, fd)

	var mu sync.Mutex
	accepted := map[string]int{}
	count := func(ds ...Decision) {
		mu.Lock()
		defer mu.Unlock()
		for _, d := range ds {
			for _, e := range d.Events {
				accepted[e.Name.Raw]++
			}
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		ds, err := trig.CatchUp(context.Background(), s)
		if err != nil {
			t.Error(err)
		}
		count(ds...)
	}()
	go func() {
		defer wg.Done()
		for _, m := range live {
			count(trig.Handle(m))
		}
	}()
	wg.Wait()
	if len(accepted) != 120 {
		t.Fatalf("%d files accepted, want 120", len(accepted))
	}
	for n, c := range accepted {
		if c != 1 {
			t.Errorf("%s accepted %d times", n, c)
		}
	}
}
