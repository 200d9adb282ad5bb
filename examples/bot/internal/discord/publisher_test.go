package discord

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

func TestPublisherSendsPayload(t *testing.T) {
	t.Parallel()
	f, s := newFakeDiscord(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, 200, map[string]any{"id": "111222333", "channel_id": "42"})
	})
	p := NewPublisher(s)
	embed := RoundEmbed(RoundView{Map: "te_escape2", Round: 1, Winner: "Axis", Duration: 339 * time.Second,
		Players: []PlayerLine{{Name: "vid", Kills: 12, Deaths: 3, DPM: 312.5, Accuracy: 40.1}}, MVP: "vid", File: "f.txt"})
	id, err := p.Send(context.Background(), Post{ChannelID: "42", Nonce: "main-s-0123456789abcdef", Embeds: []*discordgo.MessageEmbed{embed}})
	if err != nil {
		t.Fatal(err)
	}
	if id != "111222333" {
		t.Fatalf("id = %q", id)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/api/v9/channels/42/messages" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	if r.Auth != testToken {
		t.Errorf("authorization header not sent")
	}
	if r.Body["nonce"] != "main-s-0123456789abcdef" || r.Body["enforce_nonce"] != true {
		t.Errorf("nonce fields: %v %v", r.Body["nonce"], r.Body["enforce_nonce"])
	}
	am, _ := r.Body["allowed_mentions"].(map[string]any)
	if parse, ok := am["parse"].([]any); !ok || len(parse) != 0 {
		t.Errorf("allowed_mentions = %v", r.Body["allowed_mentions"])
	}
	embeds, _ := r.Body["embeds"].([]any)
	if len(embeds) != 1 {
		t.Fatalf("embeds = %v", r.Body["embeds"])
	}
	e := embeds[0].(map[string]any)
	if e["title"] != "te_escape2 - Round 1" {
		t.Errorf("title = %v", e["title"])
	}
	fields := e["fields"].([]any)
	got := map[string]string{}
	for _, fl := range fields {
		m := fl.(map[string]any)
		got[m["name"].(string)] = m["value"].(string)
	}
	for k, want := range map[string]string{"Map": "te_escape2", "Round": "1", "Winner": "Axis", "Duration": "5:39", "MVP": "vid"} {
		if got[k] != want {
			t.Errorf("field %s = %q, want %q", k, got[k], want)
		}
	}
	if !strings.Contains(got["Top players"], "vid") || !strings.Contains(got["Top players"], "312.5") || !strings.Contains(got["Top players"], "40.1%") {
		t.Errorf("table = %q", got["Top players"])
	}
}

func TestPublisherClassifiesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		handler   func(w http.ResponseWriter, r *http.Request, n int)
		post      Post
		permanent bool
		after     time.Duration
	}{
		{
			name: "429 with Retry-After",
			handler: func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Retry-After", "2.5")
				writeJSON(w, 429, map[string]any{"message": "You are being rate limited.", "retry_after": 2.5, "global": false})
			},
			after: 2500 * time.Millisecond,
		},
		{
			name: "429 without body",
			handler: func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Retry-After", "3")
				w.WriteHeader(429)
			},
			after: DefaultRetryAfter,
		},
		{
			name: "403 missing access",
			handler: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, 403, map[string]any{"message": "Missing Access", "code": 50001})
			},
			permanent: true,
		},
		{
			name: "404 unknown channel",
			handler: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, 404, map[string]any{"message": "Unknown Channel", "code": 10003})
			},
			permanent: true,
		},
		{
			name:      "nonce too long",
			handler:   func(w http.ResponseWriter, r *http.Request, n int) { t.Error("request sent") },
			post:      Post{ChannelID: "42", Nonce: strings.Repeat("n", 26)},
			permanent: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, s := newFakeDiscord(t, tc.handler)
			post := tc.post
			if post.ChannelID == "" {
				post = Post{ChannelID: "42", Nonce: "n1", Content: "x"}
			}
			_, err := NewPublisher(s).Send(context.Background(), post)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "sekrit") {
				t.Errorf("token in error: %v", err)
			}
			if got := errors.Is(err, ErrPermanent); got != tc.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tc.permanent, err)
			}
			if errors.Is(err, ErrTemporary) == tc.permanent {
				t.Errorf("temporary = %v (%v)", !tc.permanent, err)
			}
			if tc.after > 0 {
				var ra *RetryAfterError
				if !errors.As(err, &ra) || ra.After != tc.after {
					t.Errorf("retry after: %v, want %v", err, tc.after)
				}
			}
		})
	}
}

func TestPublisherRetryAfter500(t *testing.T) {
	t.Parallel()
	f, s := newFakeDiscord(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			writeJSON(w, 500, map[string]any{"message": "Internal Server Error", "code": 0})
			return
		}
		writeJSON(w, 200, map[string]any{"id": "999"})
	})
	p := NewPublisher(s)
	post := Post{ChannelID: "42", Nonce: "main-e-abc", Content: "hello"}
	_, err := p.Send(context.Background(), post)
	if !errors.Is(err, ErrTemporary) || errors.Is(err, ErrPermanent) {
		t.Fatalf("first send: %v, want temporary", err)
	}
	id, err := p.Send(context.Background(), post)
	if err != nil || id != "999" {
		t.Fatalf("second send: %q %v", id, err)
	}
	reqs := f.requests()
	if len(reqs) != 2 || reqs[0].Body["nonce"] != reqs[1].Body["nonce"] {
		t.Fatalf("retry must reuse the nonce: %+v", reqs)
	}
}

func TestPublisherTransportErrorHidesToken(t *testing.T) {
	t.Parallel()
	s, _ := discordgo.New(testToken)
	s.Client = &http.Client{Transport: failing{}}
	_, err := NewPublisher(s).Send(context.Background(), Post{ChannelID: "42", Content: "x"})
	if !errors.Is(err, ErrTemporary) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "sekrit") {
		t.Fatalf("token in error: %v", err)
	}
}

type failing struct{}

func (failing) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("dial tcp: connection refused")
}
