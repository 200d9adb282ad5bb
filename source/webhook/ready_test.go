package webhook

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
)

func entry(t *testing.T, name string) source.Entry {
	t.Helper()
	n, err := parser.ValidateName(name)
	if err != nil {
		t.Fatal(err)
	}
	return source.Entry{Name: n, Size: 2048}
}

// paris is the server's zone; file names carry its wall clock.
func paris(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// roundEnd is 2026-01-15 22:21:19 in Paris (21:21:19 UTC), the time of goodName.
var roundEnd = time.Date(2026, 1, 15, 21, 21, 19, 0, time.UTC).Unix()

func readyFields(mapName, round string, end int64, playtime string) []string {
	return []string{
		"Map", mapName, "Round", round, "Winner", "Axis", "Defender", "Allies",
		"Lua_Playtime", playtime, "Lua_Timelimit", "12 min",
		"Lua_RoundStart", strconv.FormatInt(end-600, 10), "Lua_RoundEnd", strconv.FormatInt(end, 10),
		"Lua_EndReason", "objective", "Axis_JSON", `[{"guid":"ABCD","name":"^1x"}]`,
	}
}

func TestReadyAccepted(t *testing.T) {
	t.Parallel()
	trig, _ := newTestTrigger(t, nil)
	// Field names match case-insensitively.
	m := readyMessage(msgID(1), "MAP", "te_escape2", "round", "1", "lua_roundend", strconv.FormatInt(roundEnd, 10),
		"LUA_PLAYTIME", "612 sec", "Winner", "Axis")
	d := trig.Handle(m)
	if d.Ready == nil {
		t.Fatalf("decision %+v", d)
	}
	r := d.Ready
	if r.Map != "te_escape2" || r.Round != 1 || r.RoundEnd.Unix() != roundEnd || r.MessageID != msgID(1) || r.WebhookID != testHook {
		t.Errorf("ready %+v", r)
	}
	if r.Meta["winner"] != "Axis" || r.Meta["lua_playtime"] != "612 sec" || r.Meta["map"] != "te_escape2" {
		t.Errorf("meta %v", r.Meta)
	}
}

func TestReadyIgnored(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fields []string
		noEmb  bool
		want   string
	}{
		{"round end zero", readyFields("te_escape2", "1", 0, "600 sec"), false, ReasonGhostRound},
		{"round end negative", readyFields("te_escape2", "1", -5, "600 sec"), false, ReasonGhostRound},
		{"map unknown", readyFields("unknown", "1", roundEnd, "600 sec"), false, ReasonGhostRound},
		{"map Unknown", readyFields("Unknown", "1", roundEnd, "600 sec"), false, ReasonGhostRound},
		{"round zero", readyFields("te_escape2", "0", roundEnd, "600 sec"), false, ReasonGhostRound},
		{"round negative", readyFields("te_escape2", "-1", roundEnd, "600 sec"), false, ReasonGhostRound},
		{"short playtime", readyFields("te_escape2", "1", roundEnd, "12 sec"), false, ReasonGhostRound},
		{"playtime 29.9", readyFields("te_escape2", "1", roundEnd, "29.9 sec"), false, ReasonGhostRound},
		{"no embed", nil, true, ReasonReadyMalformed},
		{"no round end", []string{"Map", "te_escape2", "Round", "1"}, false, ReasonReadyMalformed},
		{"round end text", []string{"Map", "te_escape2", "Round", "1", "Lua_RoundEnd", "soon"}, false, ReasonReadyMalformed},
		{"round end huge", []string{"Map", "te_escape2", "Round", "1", "Lua_RoundEnd", "99999999999999"}, false, ReasonReadyMalformed},
		{"no map", []string{"Round", "1", "Lua_RoundEnd", "1768512079"}, false, ReasonReadyMalformed},
		{"map traversal", readyFields("../etc", "1", roundEnd, "600 sec"), false, ReasonReadyMalformed},
		{"map look-alike", readyFields("te_еscape2", "1", roundEnd, "600 sec"), false, ReasonReadyMalformed},
		{"round 11", readyFields("te_escape2", "11", roundEnd, "600 sec"), false, ReasonReadyMalformed},
		{"round 1.5", readyFields("te_escape2", "1.5", roundEnd, "600 sec"), false, ReasonReadyMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			trig, _ := newTestTrigger(t, nil)
			m := readyMessage(msgID(1), tc.fields...)
			if tc.noEmb {
				m.Embeds = nil
			}
			d := trig.Handle(m)
			if d.Ignored != tc.want || d.Ready != nil {
				t.Fatalf("decision %+v, want %s", d, tc.want)
			}
			if trig.Counters()[tc.want] != 1 {
				t.Errorf("not counted: %v", trig.Counters())
			}
		})
	}
}

func TestReadyMissingPlaytimeIsNotGhost(t *testing.T) {
	t.Parallel()
	trig, _ := newTestTrigger(t, nil)
	d := trig.Handle(readyMessage(msgID(1), "Map", "te_escape2", "Round", "2", "Lua_RoundEnd", strconv.FormatInt(roundEnd, 10), "Lua_Playtime", ""))
	if d.Ready == nil {
		t.Fatalf("decision %+v", d)
	}
}

func TestReadyResendsDeduped(t *testing.T) {
	t.Parallel()
	trig, clk := newTestTrigger(t, nil)
	f := readyFields("te_escape2", "1", roundEnd, "600 sec")
	if d := trig.Handle(readyMessage(msgID(1), f...)); d.Ready == nil {
		t.Fatalf("first: %+v", d)
	}
	// The Lua sender retries, and fans out: new message IDs, same payload.
	clk.Advance(3 * time.Second)
	for i := 2; i < 5; i++ {
		if d := trig.Handle(readyMessage(msgID(i), f...)); d.Ignored != ReasonDuplicateReady {
			t.Fatalf("resend %d: %+v", i, d)
		}
	}
	// A different round end is a different round.
	if d := trig.Handle(readyMessage(msgID(9), readyFields("te_escape2", "1", roundEnd+900, "600 sec")...)); d.Ready == nil {
		t.Fatalf("next round: %+v", d)
	}
}

func TestReadyRateLimited(t *testing.T) {
	t.Parallel()
	trig, clk := newTestTrigger(t, nil)
	var ready, limited int
	for i := range 10 {
		d := trig.Handle(readyMessage(msgID(i), readyFields("supply", "1", roundEnd+int64(i)*60, "600 sec")...))
		switch {
		case d.Ready != nil:
			ready++
		case d.LimitedReady != nil && d.Limited():
			limited++
		default:
			t.Fatalf("decision %+v", d)
		}
	}
	if ready != 4 || limited != 6 {
		t.Errorf("ready %d, limited %d; want 4 and 6", ready, limited)
	}
	clk.Advance(30 * time.Second)
	if d := trig.Handle(readyMessage(msgID(50), readyFields("supply", "2", roundEnd, "600 sec")...)); d.Ready == nil {
		t.Errorf("after the window: %+v", d)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	loc := paris(t)
	tests := []struct {
		name     string
		mapName  string
		round    int
		listings [][]string
		want     string
		calls    int
	}{
		{
			name:    "exact map, not a prefix match",
			mapName: "te_escape2", round: 1,
			listings: [][]string{{
				"2026-01-15-222119-te_escape20-round-1.txt",
				"2026-01-15-222119-te_escape2-round-1.txt",
				"2026-01-15-222119-te_escape-round-1.txt",
			}},
			want: "2026-01-15-222119-te_escape2-round-1.txt", calls: 1,
		},
		{
			name:    "te_escape20 is not te_escape2",
			mapName: "te_escape20", round: 1,
			listings: [][]string{{
				"2026-01-15-222119-te_escape2-round-1.txt",
				"2026-01-15-222121-te_escape20-round-1.txt",
			}},
			want: "2026-01-15-222121-te_escape20-round-1.txt", calls: 1,
		},
		{
			name:    "nearest of several, endstats and other rounds skipped",
			mapName: "te_escape2", round: 1,
			listings: [][]string{{
				"2026-01-15-222000-te_escape2-round-1.txt",
				"2026-01-15-222125-te_escape2-round-1.txt",
				"2026-01-15-222119-te_escape2-round-1-endstats.txt",
				"2026-01-15-222119-te_escape2-round-2.txt",
			}},
			want: "2026-01-15-222125-te_escape2-round-1.txt", calls: 1,
		},
		{
			name:    "window edge: 2 min before is in",
			mapName: "te_escape2", round: 1,
			listings: [][]string{{"2026-01-15-221919-te_escape2-round-1.txt"}},
			want:     "2026-01-15-221919-te_escape2-round-1.txt", calls: 1,
		},
		{
			name:    "file appears on the third listing",
			mapName: "te_escape2", round: 1,
			listings: [][]string{{}, {"2026-01-15-222119-te_escape20-round-1.txt"}, {"2026-01-15-222119-te_escape2-round-1.txt"}},
			want:     "2026-01-15-222119-te_escape2-round-1.txt", calls: 3,
		},
		{
			name:    "zone matters: the UTC wall clock is an hour off",
			mapName: "te_escape2", round: 1,
			listings: [][]string{{"2026-01-15-212119-te_escape2-round-1.txt"}},
			want:     "", calls: 4,
		},
		{
			name:    "outside 2 min: no candidate after 4 listings",
			mapName: "te_escape2", round: 1,
			listings: [][]string{{"2026-01-15-221918-te_escape2-round-1.txt", "2026-01-15-222320-te_escape2-round-1.txt"}},
			want:     "", calls: 4,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			trig, clk := newTestTrigger(t, nil)
			l := &scriptLister{}
			for _, names := range tc.listings {
				var es []source.Entry
				for _, n := range names {
					es = append(es, entry(t, n))
				}
				l.listings = append(l.listings, es)
			}
			r := ReadyTrigger{Map: tc.mapName, Round: tc.round, RoundEnd: time.Unix(roundEnd, 0), MessageID: msgID(7),
				Meta: map[string]string{"winner": "Axis"}}
			start := clk.Now()
			ev, err := trig.Resolve(context.Background(), r, l, loc)
			if l.calls != tc.calls {
				t.Errorf("%d listings, want %d", l.calls, tc.calls)
			}
			if waited := clk.Now().Sub(start); waited != time.Duration(tc.calls-1)*5*time.Second {
				t.Errorf("waited %v between listings", waited)
			}
			if tc.want == "" {
				if !errors.Is(err, ErrNoCandidate) {
					t.Fatalf("err %v, want ErrNoCandidate (event %+v)", err, ev)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Name.Raw != tc.want || ev.Via != source.ViaWebhook || ev.MessageID != msgID(7) || ev.Meta["winner"] != "Axis" || ev.Server != "main" {
				t.Errorf("event %+v", ev)
			}
		})
	}
}

func TestResolveListingErrors(t *testing.T) {
	t.Parallel()
	loc := paris(t)
	boom := errors.New("sftp: connection lost")
	r := ReadyTrigger{Map: "te_escape2", Round: 1, RoundEnd: time.Unix(roundEnd, 0)}

	trig, _ := newTestTrigger(t, nil)
	l := &scriptLister{listings: [][]source.Entry{nil, {entry(t, goodName)}}, errs: []error{boom}}
	ev, err := trig.Resolve(context.Background(), r, l, loc)
	if err != nil || ev.Name.Raw != goodName {
		t.Fatalf("after one failed listing: %+v, %v", ev, err)
	}

	l = &scriptLister{listings: [][]source.Entry{nil}, errs: []error{boom, boom, boom, boom}}
	if _, err := trig.Resolve(context.Background(), r, l, loc); !errors.Is(err, boom) || l.calls != 4 {
		t.Fatalf("err %v after %d listings, want the listing error after 4", err, l.calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l = &scriptLister{listings: [][]source.Entry{nil}}
	if _, err := trig.Resolve(ctx, r, l, loc); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := trig.Resolve(context.Background(), r, l, nil); err == nil {
		t.Fatal("nil zone accepted")
	}
	c := trig.Counters()
	if c[CountResolved] != 1 || c[CountUnresolved] != 1 {
		t.Errorf("counters %v", c)
	}
}
