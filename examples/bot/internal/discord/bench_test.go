package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/roundfeed/roundfeed/ingest"
)

func benchPost() ingest.Post {
	p := ingest.Post{Kind: ingest.PostRound, Server: "main", File: "2026-01-15-223840-te_escape2-round-2.txt", Map: "te_escape2",
		Round: 2, Title: "te_escape2 - Round 2", Winner: "Allies", DurationSeconds: 459, Differential: true, MVP: "vid"}
	for i := range ingest.TopPlayers {
		p.Players = append(p.Players, ingest.PostPlayer{Name: fmt.Sprintf("player%d", i), Kills: 20 - i, Deaths: i, DPM: 250.5, Accuracy: 33.3})
	}
	return p
}

// BenchmarkPostEmbed measures rendering one round post; bytes are the
// embed's JSON size.
func BenchmarkPostEmbed(b *testing.B) {
	p := benchPost()
	raw, _ := json.Marshal(PostEmbed(p))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		_ = PostEmbed(p)
	}
}

// BenchmarkPublisherSend measures one message create through discordgo to
// an httptest server on loopback; bytes are the request body's size.
func BenchmarkPublisherSend(b *testing.B) {
	_, s := newFakeDiscord(b, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, 200, map[string]any{"id": "1"})
	})
	pub := NewPublisher(s)
	post := Post{ChannelID: "42", Nonce: ingest.Nonce("main", "f.txt", ingest.PostRound), Embeds: []*discordgo.MessageEmbed{PostEmbed(benchPost())}}
	raw, _ := json.Marshal(post.Embeds)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pub.Send(context.Background(), post); err != nil {
			b.Fatal(err)
		}
	}
}
