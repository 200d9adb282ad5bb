package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// FakeDiscord is an in-process stand-in for discord.com: it executes webhooks
// (turning each into a *discordgo.MessageCreate with WebhookID set, handed
// to OnMessage as the gateway would) and creates channel messages for the
// bot's publisher, honouring nonce + enforce_nonce the way Discord does. It
// also speaks enough of the gateway (Hello, Identify, READY, heartbeats,
// Dispatch) and of the commands API for a real discordgo session to Open
// against it, which the tests of the bot's run command use.
type FakeDiscord struct {
	srv *httptest.Server

	// GuildID and ControlChannelID are stamped on webhook messages.
	GuildID, ControlChannelID string
	// OnMessage receives every webhook execution as a gateway event, in
	// order, on one goroutine of its own: as with Discord, the webhook's
	// reply does not wait for the bot.
	OnMessage func(*discordgo.MessageCreate)
	// OnPost receives every channel message the bot creates (not replays of
	// a nonce).
	OnPost func(channelID string, embeds []*discordgo.MessageEmbed, content string)

	// Ready is the READY payload sent to a gateway session after Identify
	// (user, guilds with their voice states); nil sends a minimal one.
	Ready *discordgo.Ready

	events chan *discordgo.MessageCreate
	done   chan struct{}

	mu       sync.Mutex
	sessions []*gatewaySession
	identify []string // tokens of Identify payloads, for tests
	nextID   uint64
	nonces   map[string]string // nonce -> message ID
	posts    int
	replays  int
	hooks    int
}

// NewFakeDiscord starts the server. Close it when done.
func NewFakeDiscord(guildID, controlChannelID string) *FakeDiscord {
	f := &FakeDiscord{GuildID: guildID, ControlChannelID: controlChannelID, nextID: 1_300_000_000_000_000_000, nonces: map[string]string{},
		events: make(chan *discordgo.MessageCreate, 1024), done: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	events := f.events
	go func() {
		defer close(f.done)
		for m := range events {
			if f.OnMessage != nil {
				f.OnMessage(m)
			}
		}
	}()
	return f
}

// Close stops the server after the gateway events already accepted are
// delivered.
func (f *FakeDiscord) Close() {
	f.srv.Close()
	f.mu.Lock()
	if f.events != nil {
		close(f.events)
		f.events = nil
	}
	f.mu.Unlock()
	<-f.done
}

// WebhookURL returns the URL a notifier posts to for webhook id.
func (f *FakeDiscord) WebhookURL(id, token string) string {
	return f.srv.URL + "/api/webhooks/" + id + "/" + token
}

// Transport returns a RoundTripper that sends every request (discord.com
// included) to the fake, for a discordgo session's HTTP client.
func (f *FakeDiscord) Transport() http.RoundTripper {
	u, _ := url.Parse(f.srv.URL)
	return rewrite{target: u}
}

// Counts returns how many channel messages were created, how many creates
// were answered with an earlier message because of their nonce, and how many
// webhook executions arrived.
func (f *FakeDiscord) Counts() (posts, replays, hooks int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.posts, f.replays, f.hooks
}

func (f *FakeDiscord) id() string {
	f.nextID++
	return fmt.Sprint(f.nextID)
}

func (f *FakeDiscord) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == "POST" && len(parts) == 4 && parts[0] == "api" && parts[1] == "webhooks":
		f.webhook(w, parts[2], body)
	case r.Method == "POST" && len(parts) == 5 && parts[2] == "channels" && parts[4] == "messages":
		f.channelMessage(w, parts[3], body)
	case r.Method == "GET" && len(parts) == 3 && parts[2] == "gateway":
		writeJSON(w, http.StatusOK, map[string]string{"url": "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/gateway-ws"})
	case r.Method == "GET" && len(parts) == 1 && parts[0] == "gateway-ws":
		f.gateway(w, r)
	case len(parts) >= 6 && parts[2] == "applications" && parts[len(parts)-1] == "commands":
		if r.Method == "GET" {
			writeJSON(w, http.StatusOK, []any{})
			return
		}
		var cmd map[string]any
		_ = json.Unmarshal(body, &cmd)
		f.mu.Lock()
		cmd["id"] = f.id()
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, cmd)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "404: Not Found", "code": 0})
	}
}

func (f *FakeDiscord) webhook(w http.ResponseWriter, hookID string, body []byte) {
	var in struct {
		Content  string                    `json:"content"`
		Username string                    `json:"username"`
		Embeds   []*discordgo.MessageEmbed `json:"embeds"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid JSON", "code": 50109})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.events == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"message": "closed", "code": 0})
		return
	}
	f.hooks++
	m := &discordgo.MessageCreate{Message: &discordgo.Message{
		ID: f.id(), ChannelID: f.ControlChannelID, GuildID: f.GuildID, Content: in.Content, Embeds: in.Embeds,
		WebhookID: hookID, Author: &discordgo.User{ID: hookID, Username: in.Username, Bot: true},
		Timestamp: time.Now(),
	}}
	f.events <- m // ID order is delivery order
	writeJSON(w, http.StatusOK, m.Message)
}

func (f *FakeDiscord) channelMessage(w http.ResponseWriter, channelID string, body []byte) {
	var in struct {
		Content      string                    `json:"content"`
		Embeds       []*discordgo.MessageEmbed `json:"embeds"`
		Nonce        string                    `json:"nonce"`
		EnforceNonce bool                      `json:"enforce_nonce"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid JSON", "code": 50109})
		return
	}
	f.mu.Lock()
	if in.EnforceNonce && in.Nonce != "" {
		if id, ok := f.nonces[in.Nonce]; ok {
			f.replays++
			f.mu.Unlock()
			writeJSON(w, http.StatusOK, map[string]any{"id": id, "channel_id": channelID, "nonce": in.Nonce})
			return
		}
	}
	id := f.id()
	if in.Nonce != "" {
		f.nonces[in.Nonce] = id
	}
	f.posts++
	f.mu.Unlock()
	if f.OnPost != nil {
		f.OnPost(channelID, in.Embeds, in.Content)
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "channel_id": channelID, "nonce": in.Nonce, "content": in.Content})
}

// gatewaySession is one websocket client of the fake gateway.
type gatewaySession struct {
	mu   sync.Mutex
	conn *websocket.Conn
	seq  int64
}

func (g *gatewaySession) send(op int, t string, d any) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	msg := map[string]any{"op": op, "d": d}
	if op == 0 {
		g.seq++
		msg["s"], msg["t"] = g.seq, t
	}
	return g.conn.WriteJSON(msg)
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// gateway speaks enough of the Discord gateway for discordgo: Hello,
// Identify -> READY, heartbeat acks; then Dispatch sends events.
func (f *FakeDiscord) gateway(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	g := &gatewaySession{conn: conn}
	if g.send(10, "", map[string]any{"heartbeat_interval": 45000}) != nil {
		return
	}
	for {
		var in struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if err := conn.ReadJSON(&in); err != nil {
			return
		}
		switch in.Op {
		case 1: // heartbeat
			if g.send(11, "", nil) != nil {
				return
			}
		case 2: // identify
			var id struct {
				Token string `json:"token"`
			}
			_ = json.Unmarshal(in.D, &id)
			ready := f.Ready
			if ready == nil {
				ready = &discordgo.Ready{Version: 10, SessionID: "fake", User: &discordgo.User{ID: "999", Username: "roundfeed", Bot: true}}
			}
			f.mu.Lock()
			f.identify = append(f.identify, id.Token)
			f.mu.Unlock()
			if g.send(0, "READY", ready) != nil {
				return
			}
			f.mu.Lock()
			f.sessions = append(f.sessions, g)
			f.mu.Unlock()
		}
	}
}

// Dispatch sends a gateway event (t "MESSAGE_CREATE", d a *discordgo.Message,
// ...) to every identified gateway session and returns how many got it.
func (f *FakeDiscord) Dispatch(t string, d any) int {
	f.mu.Lock()
	sessions := append([]*gatewaySession(nil), f.sessions...)
	f.mu.Unlock()
	n := 0
	for _, g := range sessions {
		if g.send(0, t, d) == nil {
			n++
		}
	}
	return n
}

// Identified returns the tokens gateway clients identified with.
func (f *FakeDiscord) Identified() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.identify...)
}

// NextID returns a fresh snowflake, for messages a test dispatches.
func (f *FakeDiscord) NextID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.id()
}

type rewrite struct{ target *url.URL }

// RoundTrip sends r to the fake, keeping its path and query.
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
