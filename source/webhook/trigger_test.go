package webhook

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
)

const goodName = "2026-01-15-222119-te_escape2-round-1.txt"

func TestHandleAcceptsNotifierMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		content string
		want    string
		kind    parser.Kind
	}{
		{"📊 `" + goodName + "`", goodName, parser.KindStats},
		{"🏆 `2026-01-15-222119-te_escape2-round-1-endstats.txt`", "2026-01-15-222119-te_escape2-round-1-endstats.txt", parser.KindEndstats},
		{"new file `notes` then `" + goodName + "` and `2026-01-15-222119-other-round-2.txt`", goodName, parser.KindStats},
	}
	for i, tc := range tests {
		trig, clk := newTestTrigger(t, nil)
		d := trig.Handle(hookMessage(msgID(i), tc.content))
		if len(d.Events) != 1 || d.Ignored != "" {
			t.Fatalf("%q: decision %+v, want one event", tc.content, d)
		}
		ev := d.Events[0]
		want := source.Event{Server: "main", Via: source.ViaWebhook, At: clk.Now(), MessageID: msgID(i)}
		if ev.Name.Raw != tc.want || ev.Name.Kind != tc.kind || ev.Server != want.Server || ev.Via != want.Via ||
			!ev.At.Equal(want.At) || ev.MessageID != want.MessageID || ev.Meta != nil {
			t.Errorf("%q: event %+v", tc.content, ev)
		}
	}
}

func TestHandleNameFromContentNeverEmbed(t *testing.T) {
	t.Parallel()
	trig, _ := newTestTrigger(t, nil)
	m := hookMessage(msgID(1), "📊 round complete")
	m.Embeds = []*discordgo.MessageEmbed{{Title: "Round Complete", Description: "`" + goodName + "`",
		Fields: []*discordgo.MessageEmbedField{{Name: "file", Value: "`" + goodName + "`"}}}}
	d := trig.Handle(m)
	if d.Ignored != ReasonNoFileName || len(d.Events) != 0 {
		t.Fatalf("decision %+v, want %s", d, ReasonNoFileName)
	}
}

// hostileNames are all refused, by the validator or because they are no
// ".txt" token at all.
var hostileNames = []string{
	// traversal
	"../2026-01-15-222119-te_escape2-round-1.txt",
	"../../../../etc/2026-01-15-222119-te_escape2-round-1.txt",
	"2026-01-15-222119-te_escape2-round-1/../../../etc/passwd.txt",
	"2026-01-15-222119-..-round-1.txt",
	"2026-01-15-222119-te..escape-round-1.txt",
	// encoded traversal
	"..%2f..%2f2026-01-15-222119-te_escape2-round-1.txt",
	"%2e%2e%2f2026-01-15-222119-te_escape2-round-1.txt",
	"2026-01-15-222119-%2e%2e%2fetc-round-1.txt",
	"..%5c2026-01-15-222119-te_escape2-round-1.txt",
	"%252e%252e%252f2026-01-15-222119-x-round-1.txt",
	// NUL, newline and other control characters
	"2026-01-15-222119-te_escape2\x00-round-1.txt",
	"2026-01-15-222119-te_escape2-round-1.txt\x00.txt",
	"2026-01-15-222119-te\nescape2-round-1.txt",
	"2026-01-15-222119-te_escape2-round-1.txt\n",
	"2026-01-15-222119-te_escape2-round-1.txt\r",
	"2026-01-15-222119-te\tescape2-round-1.txt",
	"2026-01-15-222119-te\x7fescape2-round-1.txt",
	"2026-01-15-222119-te\x1b[31mescape2-round-1.txt",
	// backslash and absolute paths
	"..\\..\\2026-01-15-222119-te_escape2-round-1.txt",
	"2026-01-15-222119-te\\escape2-round-1.txt",
	"/etc/2026-01-15-222119-te_escape2-round-1.txt",
	"/2026-01-15-222119-te_escape2-round-1.txt",
	"C:\\stats\\2026-01-15-222119-te_escape2-round-1.txt",
	"\\\\server\\share\\2026-01-15-222119-te_escape2-round-1.txt",
	"~/2026-01-15-222119-te_escape2-round-1.txt",
	// unicode look-alikes and invisible characters
	"２026-01-15-222119-te_escape2-round-1.txt",
	"2026-01-15-222119-te_еscape2-round-1.txt",
	"2026-01-15-222119-te_escape2-round-1․txt",
	"2026-01-15-222119-te_escape2-round-1.txt\u200b.txt",
	"2026-01-15-222119-te\u200bescape2-round-1.txt",
	"2026-01-15-222119-te\u202eescape2-round-1.txt",
	"2026-01-15-222119-te_escape2∕..∕round-1.txt",
	"2026-01-15-222119-te_escape2-round-１.txt",
	// over-long
	"2026-01-15-222119-" + strings.Repeat("a", 65) + "-round-1.txt",
	"2026-01-15-222119-" + strings.Repeat("te_escape2", 30) + "-round-1.txt",
	// wrong extension, sidecars, wrong shape
	"2026-01-15-222119-te_escape2-round-1_ws.txt",
	"2026-01-15-222119-te_escape2-round-1.txt.txt",
	"2026-01-15-222119-te_escape2-round-1.sh.txt",
	"2026-01-15-222119-te_escape2-round-1-awards.txt",
	"2026-01-15-222119-te_escape2.txt",
	".txt",
	"passwd.txt",
	// wrong dates, times, rounds
	"2026-13-15-222119-te_escape2-round-1.txt",
	"2026-02-30-222119-te_escape2-round-1.txt",
	"2025-02-29-222119-te_escape2-round-1.txt",
	"1999-12-31-222119-te_escape2-round-1.txt",
	"2100-01-01-222119-te_escape2-round-1.txt",
	"2026-01-15-242119-te_escape2-round-1.txt",
	"2026-01-15-226019-te_escape2-round-1.txt",
	"2026-01-15-222160-te_escape2-round-1.txt",
	"2026-1-15-222119-te_escape2-round-1.txt",
	"2026-01-15-222119-te_escape2-round-0.txt",
	"2026-01-15-222119-te_escape2-round-01.txt",
	"2026-01-15-222119-te_escape2-round-11.txt",
	"2026-01-15-222119-te_escape2-round--1.txt",
	// shell metacharacters and quoting
	"2026-01-15-222119-te$(reboot)-round-1.txt",
	"2026-01-15-222119-te;rm -rf ~-round-1.txt",
	"2026-01-15-222119-te|nc-round-1.txt",
	"2026-01-15-222119-te&&id-round-1.txt",
	"2026-01-15-222119-te>out-round-1.txt",
	"2026-01-15-222119-te*-round-1.txt",
	"2026-01-15-222119-$HOME-round-1.txt",
	"2026-01-15-222119-te'x'-round-1.txt",
	"2026-01-15-222119-te\"x\"-round-1.txt",
	"2026-01-15-222119-te escape-round-1.txt",
	" 2026-01-15-222119-te_escape2-round-1.txt",
	// leading dot or dash, map without letters
	"-rf-2026-01-15-222119-te_escape2-round-1.txt",
	".2026-01-15-222119-te_escape2-round-1.txt",
	"2026-01-15-222119-___-round-1.txt",
}

func TestHandleRefusesHostileNames(t *testing.T) {
	t.Parallel()
	if len(hostileNames) < 30 {
		t.Fatalf("only %d hostile names", len(hostileNames))
	}
	var logs bytes.Buffer
	cfg := testConfig()
	cfg.FileRate = 1000
	trig, err := NewTrigger(cfg, newFakeClock(), slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	validatorRefused := 0
	for i, name := range hostileNames {
		if _, err := parser.ValidateName(name); err == nil {
			t.Errorf("%q: ValidateName accepted it", name)
		}
		d := trig.Handle(hookMessage(msgID(i), "📊 `"+name+"`"))
		if len(d.Events) != 0 || len(d.RateLimited) != 0 || d.Ready != nil || d.Ignored == "" {
			t.Errorf("%q: decision %+v, want refused", name, d)
			continue
		}
		if strings.HasPrefix(d.Ignored, ReasonBadName+": ") {
			validatorRefused++
		} else if d.Ignored != ReasonNoFileName {
			t.Errorf("%q: ignored as %q", name, d.Ignored)
		}
	}
	c := trig.Counters()
	if c[ReasonBadName] != uint64(validatorRefused) || c[ReasonBadName] < 30 {
		t.Errorf("bad_name counter %d, refused by validator %d", c[ReasonBadName], validatorRefused)
	}
	if c[ReasonBadName+": NUL byte"] == 0 || c[ReasonBadName+": path separator"] == 0 || c[ReasonBadName+": non-ASCII byte"] == 0 {
		t.Errorf("counters by reason missing: %v", c)
	}
	// Logs carry the reason, never the refused bytes.
	for _, frag := range []string{"reboot", "passwd", "%2e", "\x00", "$HOME", "еscape", "\u202e"} {
		if strings.Contains(logs.String(), frag) {
			t.Errorf("log echoes refused bytes %q", frag)
		}
	}
	if !strings.Contains(logs.String(), "reason=\"NUL byte\"") {
		t.Errorf("log does not name the reason:\n%s", logs.String())
	}
}

func TestHandleIgnoresSpoofs(t *testing.T) {
	t.Parallel()
	content := "📊 `" + goodName + "`"
	edited := time.Date(2026, 1, 15, 21, 1, 0, 0, time.UTC)
	tests := []struct {
		name string
		mod  func(m *discordgo.Message)
		want string
	}{
		{"wrong webhook id", func(m *discordgo.Message) { m.WebhookID = otherHook; m.Author.ID = otherHook }, ReasonNotWhitelisted},
		{"right id, wrong username", func(m *discordgo.Message) { m.Author.Username = "ET:Legacy Stats " }, ReasonWrongUsername},
		{"right id, look-alike username", func(m *discordgo.Message) { m.Author.Username = "ET:Legacy Ѕtats" }, ReasonWrongUsername},
		{"right id, no author", func(m *discordgo.Message) { m.Author = nil }, ReasonWrongUsername},
		{"wrong channel", func(m *discordgo.Message) { m.ChannelID = "1100000000000000099" }, ReasonWrongChannel},
		{"normal user pasting the text", func(m *discordgo.Message) {
			m.WebhookID = ""
			m.Author = &discordgo.User{ID: "1500000000000000005", Username: testUsername}
		}, ReasonNotWebhook},
		{"bot user pasting the text", func(m *discordgo.Message) {
			m.WebhookID = ""
			m.Author = &discordgo.User{ID: "1500000000000000006", Username: testUsername, Bot: true}
		}, ReasonNotWebhook},
		{"the bot itself", func(m *discordgo.Message) {
			m.WebhookID = ""
			m.Author = &discordgo.User{ID: testBot, Username: "roundfeed", Bot: true}
		}, ReasonOwnMessage},
		{"an edited message", func(m *discordgo.Message) { m.EditedTimestamp = &edited }, ReasonEdited},
		{"no message id", func(m *discordgo.Message) { m.ID = "" }, ReasonNoMessageID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			trig, _ := newTestTrigger(t, nil)
			m := hookMessage(msgID(1), content)
			tc.mod(m.Message)
			d := trig.Handle(m)
			if d.Ignored != tc.want || len(d.Events)+len(d.RateLimited) != 0 {
				t.Fatalf("decision %+v, want ignored %q", d, tc.want)
			}
			if got := trig.Counters()[tc.want]; got != 1 {
				t.Errorf("counter %s = %d", tc.want, got)
			}
		})
	}
}

func TestHandleNilAndEmpty(t *testing.T) {
	t.Parallel()
	trig, _ := newTestTrigger(t, nil)
	for _, m := range []*discordgo.MessageCreate{nil, {}} {
		if d := trig.Handle(m); d.Ignored != ReasonEmpty {
			t.Errorf("decision %+v", d)
		}
	}
}

func TestEmptyWhitelistRefusesAll(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	cfg := testConfig()
	cfg.Whitelist = nil
	trig, err := NewTrigger(cfg, newFakeClock(), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "whitelist is empty") {
		t.Errorf("no start-up warning: %s", logs.String())
	}
	if d := trig.Handle(hookMessage(msgID(1), "📊 `"+goodName+"`")); d.Ignored != ReasonNotWhitelisted {
		t.Errorf("decision %+v", d)
	}
}

func TestHandleUsernameOptional(t *testing.T) {
	t.Parallel()
	trig, _ := newTestTrigger(t, func(c *Config) { c.Username = "" })
	m := hookMessage(msgID(1), "📊 `"+goodName+"`")
	m.Author.Username = "anything"
	if d := trig.Handle(m); len(d.Events) != 1 {
		t.Errorf("decision %+v", d)
	}
}

func TestHandleDuplicateMessage(t *testing.T) {
	t.Parallel()
	trig, clk := newTestTrigger(t, nil)
	m := hookMessage(msgID(1), "📊 `"+goodName+"`")
	if d := trig.Handle(m); len(d.Events) != 1 {
		t.Fatalf("first: %+v", d)
	}
	clk.Advance(9*time.Minute + 59*time.Second)
	if d := trig.Handle(m); d.Ignored != ReasonDuplicate {
		t.Fatalf("replay within 10 min: %+v", d)
	}
	// A refused name is remembered too: its replay is a duplicate, not a
	// second bad-name count.
	bad := hookMessage(msgID(2), "📊 `../x.txt`")
	trig.Handle(bad)
	trig.Handle(bad)
	c := trig.Counters()
	if c[ReasonBadName] != 1 || c[ReasonDuplicate] != 2 {
		t.Errorf("counters %v", c)
	}
}

func TestSeenSetBounded(t *testing.T) {
	t.Parallel()
	trig, clk := newTestTrigger(t, func(c *Config) { c.MaxSeen = 100; c.FileRate = 1000 })
	for i := range 250 {
		clk.Advance(time.Millisecond)
		trig.Handle(hookMessage(msgID(i), "hello"))
	}
	trig.mu.Lock()
	n, q := trig.seen.len(), len(trig.seen.order)-trig.seen.head
	trig.mu.Unlock()
	if n != 100 || q != 100 {
		t.Errorf("seen holds %d keys, queue %d, want 100", n, q)
	}
	if c := trig.Counters(); c[CountSeenEvicted] != 150 {
		t.Errorf("evicted %d, want 150", c[CountSeenEvicted])
	}
	// Expiry: after the TTL the set empties.
	clk.Advance(11 * time.Minute)
	trig.Handle(hookMessage(msgID(999), "hello"))
	trig.mu.Lock()
	n = trig.seen.len()
	trig.mu.Unlock()
	if n != 1 {
		t.Errorf("after TTL seen holds %d keys", n)
	}
}

// A flood of 100 triggers in one second from the whitelisted webhook:
// 5 go to push, 95 to polling, none is lost, whatever the goroutine order.
func TestHandleFlood(t *testing.T) {
	t.Parallel()
	trig, clk := newTestTrigger(t, nil)
	var (
		mu              sync.Mutex
		pushed, limited []string
		wg              sync.WaitGroup
	)
	names := make(map[string]bool)
	for i := range 100 {
		name := time.Date(2026, 1, 15, 20, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Minute).Format("2006-01-02-150405") + "-supply-round-1.txt"
		names[name] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := trig.Handle(hookMessage(msgID(i), "📊 `"+name+"`"))
			mu.Lock()
			defer mu.Unlock()
			for _, e := range d.Events {
				pushed = append(pushed, e.Name.Raw)
			}
			for _, e := range d.RateLimited {
				limited = append(limited, e.Name.Raw)
				if !d.Limited() {
					t.Error("Limited() false")
				}
			}
		}()
		if i%10 == 9 {
			clk.Advance(100 * time.Millisecond)
		}
	}
	wg.Wait()
	if len(pushed) != 5 || len(limited) != 95 {
		t.Fatalf("pushed %d, rate limited %d; want 5 and 95", len(pushed), len(limited))
	}
	for _, n := range append(pushed, limited...) {
		if !names[n] {
			t.Fatalf("unknown or duplicate name %q", n)
		}
		delete(names, n)
	}
	if len(names) != 0 {
		t.Fatalf("%d triggers lost", len(names))
	}
	c := trig.Counters()
	if c[CountAcceptedFile] != 5 || c[CountRateLimitedFile] != 95 {
		t.Errorf("counters %v", c)
	}
	// The window slides: a minute after the first accepted triggers, push resumes.
	clk.Advance(60 * time.Second)
	if d := trig.Handle(hookMessage(msgID(500), "📊 `"+goodName+"`")); len(d.Events) != 1 {
		t.Errorf("after the window: %+v", d)
	}
}

func TestRateLimitPerWebhook(t *testing.T) {
	t.Parallel()
	trig, _ := newTestTrigger(t, func(c *Config) { c.Whitelist = []string{testHook, otherHook}; c.FileRate = 2 })
	accepted := map[string]int{}
	for i := range 6 {
		m := hookMessage(msgID(i), "📊 `"+goodName+"`")
		if i%2 == 1 {
			m.WebhookID = otherHook
		}
		if d := trig.Handle(m); len(d.Events) == 1 {
			accepted[m.WebhookID]++
		}
	}
	if accepted[testHook] != 2 || accepted[otherHook] != 2 {
		t.Errorf("accepted %v, want 2 per webhook", accepted)
	}
}

func TestHeartbeat(t *testing.T) {
	t.Parallel()
	trig, _ := newTestTrigger(t, nil)
	if d := trig.Handle(hookMessage(msgID(1), HeartbeatContent)); !d.Heartbeat || d.Ignored != "" {
		t.Errorf("decision %+v", d)
	}
	m := hookMessage(msgID(2), HeartbeatContent)
	m.WebhookID = ""
	if d := trig.Handle(m); d.Heartbeat {
		t.Errorf("a user's heartbeat text was accepted")
	}
}

func TestExtractName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"📊 `a.txt`", "a.txt", true},
		{"`a` `b.txt` `c.txt`", "b.txt", true},
		{"``a.txt``", "", false},
		{"```a.txt```", "a.txt", true},
		{"`a.txt", "", false},
		{"a.txt", "", false},
		{"`a.TXT`", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, ok := extractName(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("extractName(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func BenchmarkHandle(b *testing.B) {
	trig, clk := newTestTrigger(b, func(c *Config) { c.FileRate = 1 << 30 })
	content := "📊 `" + goodName + "`"
	msgs := make([]*discordgo.MessageCreate, 4096)
	for i := range msgs {
		msgs[i] = hookMessage(msgID(i), content)
	}
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%len(msgs) == 0 {
			clk.Advance(11 * time.Minute) // let the seen-set forget the batch
		}
		if d := trig.Handle(msgs[i%len(msgs)]); len(d.Events) != 1 {
			b.Fatalf("decision %+v", d)
		}
	}
}
