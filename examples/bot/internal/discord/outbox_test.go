package discord

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/roundfeed/roundfeed/ingest"
)

func TestPostEmbed(t *testing.T) {
	t.Parallel()
	round := ingest.Post{Kind: ingest.PostRound, Server: "main", File: "2026-01-15-223840-te_escape2-round-2.txt", Map: "te_escape2",
		Round: 2, Title: "te_escape2 - Round 2", Winner: "Allies", Outcome: "Fullhold", DurationSeconds: 339, Differential: true, MVP: "vid",
		Players: []ingest.PostPlayer{{Name: "vid", Kills: 9, Deaths: 2, DPM: 301.2, Accuracy: 41}},
		Fields:  []ingest.PostField{{Name: "Round 1", Value: "2026-01-15-222119-te_escape2-round-1.txt"}}}
	awards := ingest.Post{Kind: ingest.PostAwards, File: "x-endstats.txt", Map: "supply", Round: 1, Title: "Awards: supply - Round 1",
		Awards: []ingest.PostAward{{Title: "Most damage given", Player: "Kr0ne", Value: "8578"}}}
	orphan := round
	orphan.Differential, orphan.Orphan = false, true
	tests := []struct {
		name string
		post ingest.Post
		want []string
	}{
		{"round", round, []string{"== te_escape2 - Round 2 ==", "Winner: Allies (Fullhold)", "Duration: 5:39", "vid", "301.2", "MVP: vid",
			"Round 1: 2026-01-15-222119-te_escape2-round-1.txt", "Round 2 only", "-- 2026-01-15-223840-te_escape2-round-2.txt"}},
		{"orphan", orphan, []string{"Round 1 not found: figures are cumulative"}},
		{"awards", awards, []string{"== Awards: supply - Round 1 ==", "Most damage given: Kr0ne: 8578", "-- x-endstats.txt"}},
	}
	for _, tc := range tests {
		txt := EmbedText(PostEmbed(tc.post))
		for _, w := range tc.want {
			if !strings.Contains(txt, w) {
				t.Errorf("%s: missing %q in\n%s", tc.name, w, txt)
			}
		}
	}
}

func TestOutboxPublisher(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		code      int
		permanent bool
	}{
		{"created", 200, false},
		{"forbidden", 403, true},
		{"unavailable", 503, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, s := newFakeDiscord(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if tc.code == 200 {
					writeJSON(w, 200, map[string]any{"id": "555"})
					return
				}
				writeJSON(w, tc.code, map[string]any{"message": "no", "code": 0})
			})
			var pub ingest.Publisher = &OutboxPublisher{Publisher: NewPublisher(s), ChannelID: "300"}
			nonce := ingest.Nonce("main", "f.txt", ingest.PostRound)
			id, err := pub.Publish(context.Background(), nonce, ingest.Post{Kind: ingest.PostRound, Map: "supply", Round: 1})
			if tc.code == 200 {
				if err != nil || id != "555" {
					t.Fatalf("%q %v", id, err)
				}
				r := f.requests()[0]
				if r.Path != "/api/v9/channels/300/messages" || r.Body["nonce"] != nonce || len(nonce) > MaxNonceLen {
					t.Fatalf("request %+v", r)
				}
				return
			}
			if got := errors.Is(err, ingest.ErrPermanent); got != tc.permanent {
				t.Fatalf("ingest.ErrPermanent = %v, want %v (%v)", got, tc.permanent, err)
			}
		})
	}
}
