package demo

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

func TestScaledClock(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	wall := time.Date(2026, 1, 15, 20, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return wall }
	start := time.Date(2026, 1, 15, 21, 0, 0, 0, time.UTC)
	c := newScaledClock(start, 300, now)
	if !c.Now().Equal(start) {
		t.Fatalf("Now = %v", c.Now())
	}
	mu.Lock()
	wall = wall.Add(2 * time.Second)
	mu.Unlock()
	if got, want := c.Now(), start.Add(10*time.Minute); !got.Equal(want) {
		t.Fatalf("after 2 real seconds at 300x: %v, want %v", got, want)
	}
	if c.Real(15*time.Minute) != 3*time.Second {
		t.Fatalf("Real(15m) = %v", c.Real(15*time.Minute))
	}
	if newScaledClock(start, 0, now).Speed() != 1 {
		t.Fatal("speed 0 must fall back to 1")
	}
}

func TestFakeDiscordNonceAndWebhook(t *testing.T) {
	t.Parallel()
	f := NewFakeDiscord("900", "200")
	got := make(chan *discordgo.MessageCreate, 1)
	f.OnMessage = func(m *discordgo.MessageCreate) { got <- m }
	defer f.Close()
	client := &http.Client{Transport: f.Transport()}
	post := func(url string, body any) map[string]any {
		b, _ := json.Marshal(body)
		resp, err := client.Post(url, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	msg := map[string]any{"content": "x", "nonce": "n1", "enforce_nonce": true}
	a := post("https://discord.com/api/v9/channels/300/messages", msg)
	b := post("https://discord.com/api/v9/channels/300/messages", msg)
	c := post("https://discord.com/api/v9/channels/300/messages", map[string]any{"content": "y", "nonce": "n2", "enforce_nonce": true})
	if a["id"] != b["id"] || a["id"] == c["id"] {
		t.Fatalf("ids %v %v %v: a repeated nonce must return the first message", a["id"], b["id"], c["id"])
	}
	if posts, replays, _ := f.Counts(); posts != 2 || replays != 1 {
		t.Fatalf("posts %d replays %d", posts, replays)
	}
	post(f.WebhookURL("600", "tok")+"?wait=true", map[string]any{"content": "📊 `2026-01-15-222119-te_escape2-round-1.txt`", "username": "ET:Legacy Stats"})
	select {
	case m := <-got:
		if m.WebhookID != "600" || m.ChannelID != "200" || m.GuildID != "900" || m.Author.Username != "ET:Legacy Stats" || m.ID == "" {
			t.Fatalf("message %+v", m.Message)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("webhook not delivered")
	}
}
