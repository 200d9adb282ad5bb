package webhook

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/internal/testutil"
	"github.com/roundfeed/roundfeed/source"
)

const (
	testChannel  = "1100000000000000001"
	testHook     = "1200000000000000002"
	otherHook    = "1200000000000000003"
	testBot      = "1300000000000000004"
	testUsername = "ET:Legacy Stats"
)

// newFakeClock returns a virtual clock whose After advances it by d at once
// and returns a fired channel, so waits take no real time and are visible in
// Now.
func newFakeClock() *testutil.Clock {
	return testutil.NewAutoClock(time.Date(2026, 1, 15, 21, 0, 0, 0, time.UTC))
}

func testConfig() Config {
	c := DefaultConfig()
	c.ControlChannelID = testChannel
	c.Whitelist = []string{testHook}
	c.Username = testUsername
	c.BotUserID = testBot
	return c
}

func newTestTrigger(t testing.TB, mod func(*Config)) (*Trigger, *testutil.Clock) {
	t.Helper()
	cfg := testConfig()
	if mod != nil {
		mod(&cfg)
	}
	clk := newFakeClock()
	trig, err := NewTrigger(cfg, clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	return trig, clk
}

// hookMessage is what the gateway delivers for a webhook execution.
func hookMessage(id, content string) *discordgo.MessageCreate {
	return &discordgo.MessageCreate{Message: &discordgo.Message{
		ID:        id,
		ChannelID: testChannel,
		GuildID:   "1000000000000000009",
		Content:   content,
		WebhookID: testHook,
		Author:    &discordgo.User{ID: testHook, Username: testUsername, Bot: true},
		Timestamp: time.Date(2026, 1, 15, 21, 0, 0, 0, time.UTC),
	}}
}

// msgID returns a distinct snowflake-like ID for n.
func msgID(n int) string { return fmt.Sprintf("14%017d", n) }

// readyMessage is a Lua STATS_READY message with the given embed fields.
func readyMessage(id string, fields ...string) *discordgo.MessageCreate {
	m := hookMessage(id, ReadyContent)
	e := &discordgo.MessageEmbed{Title: "Round stats"}
	for i := 0; i+1 < len(fields); i += 2 {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: fields[i], Value: fields[i+1]})
	}
	m.Embeds = []*discordgo.MessageEmbed{e}
	return m
}

// scriptLister returns its listings in turn (the last one repeats) and
// counts calls.
type scriptLister struct {
	mu       sync.Mutex
	listings [][]source.Entry
	errs     []error
	calls    int
}

func (l *scriptLister) List(ctx context.Context) ([]source.Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := min(l.calls, len(l.listings)-1)
	l.calls++
	if i < len(l.errs) && l.errs[i] != nil {
		return nil, l.errs[i]
	}
	return l.listings[i], nil
}
