package webhook

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
)

// ReadyTrigger is an accepted STATS_READY message: a round of Map ended at
// RoundEnd; its stats file is to be found by Resolve.
type ReadyTrigger struct {
	// Map is the embed's Map field; it passed the file-name grammar's map rule.
	Map string
	// Round is the embed's Round field, 1 to 10.
	Round int
	// RoundEnd is Lua_RoundEnd, a real instant (unix seconds).
	RoundEnd time.Time
	// MessageID and WebhookID identify the Discord message.
	MessageID string
	WebhookID string
	// At is when the Trigger saw the message.
	At time.Time
	// Meta holds every embed field, keyed by the lower-cased field name
	// (first occurrence wins), values as sent (invalid UTF-8 replaced).
	Meta map[string]string
}

// Limits on what is kept of a STATS_READY embed (Discord's own embed limits).
const (
	maxMetaFields = 25
	maxMetaName   = 256
	maxMetaValue  = 1024
)

// ErrNoCandidate: no stats file of the trigger's map and round was within
// the window of its Lua_RoundEnd after every listing. The caller reports it
// as a push Failure; polling will find the file if it exists.
var ErrNoCandidate = errors.New("webhook: no stats file matches the STATS_READY trigger")

// readyLocked parses, checks, dedupes and rate-limits a STATS_READY message.
func (t *Trigger) readyLocked(msg *discordgo.Message, now time.Time) Decision {
	if len(msg.Embeds) == 0 || msg.Embeds[0] == nil {
		return ignore(ReasonReadyMalformed)
	}
	meta := embedMeta(msg.Embeds[0])
	r := &ReadyTrigger{MessageID: msg.ID, WebhookID: msg.WebhookID, At: now, Meta: meta}

	end, ok := parseInt(meta["lua_roundend"])
	if !ok {
		return ignore(ReasonReadyMalformed)
	}
	if end <= 0 {
		return ignore(ReasonGhostRound)
	}
	r.Map = strings.TrimSpace(meta["map"])
	if r.Map == "" {
		return ignore(ReasonReadyMalformed)
	}
	if strings.EqualFold(r.Map, "unknown") {
		return ignore(ReasonGhostRound)
	}
	round, ok := parseInt(meta["round"])
	if !ok {
		return ignore(ReasonReadyMalformed)
	}
	if round <= 0 {
		return ignore(ReasonGhostRound)
	}
	if play, ok := parseLeading(meta["lua_playtime"]); ok && play < t.cfg.MinPlaytime.Seconds() {
		return ignore(ReasonGhostRound)
	}
	if end > 1e11 || round > 1e6 {
		return ignore(ReasonReadyMalformed)
	}
	r.Round = int(round)
	r.RoundEnd = time.Unix(end, 0).UTC()
	// The map and round must be ones a valid file name can hold; the one
	// validator decides, on a name built from them.
	if _, err := parser.ValidateName(fmt.Sprintf("2000-01-01-000000-%s-round-%d.txt", r.Map, r.Round)); err != nil {
		return ignore(ReasonReadyMalformed)
	}
	key := fmt.Sprintf("r:%s\x00%d\x00%d", r.Map, r.Round, r.RoundEnd.Unix())
	if t.seen.has(key, now) {
		return ignore(ReasonDuplicateReady)
	}
	t.counters[CountSeenEvicted] += uint64(t.seen.add(key, now))
	if !t.readies.allow(msg.WebhookID, now) {
		return Decision{LimitedReady: r}
	}
	return Decision{Ready: r}
}

// embedMeta returns the embed's fields keyed by lower-cased name.
func embedMeta(e *discordgo.MessageEmbed) map[string]string {
	meta := make(map[string]string, len(e.Fields))
	for i, f := range e.Fields {
		if i >= maxMetaFields {
			break
		}
		if f == nil {
			continue
		}
		name := strings.ToLower(strings.TrimSpace(clip(f.Name, maxMetaName)))
		if name == "" {
			continue
		}
		if _, dup := meta[name]; !dup {
			meta[name] = clip(f.Value, maxMetaValue)
		}
	}
	return meta
}

// clip cuts s to at most n bytes and replaces invalid UTF-8.
func clip(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// parseInt reads a whole field value as a decimal integer ("1768512079",
// " 2 "). ok is false for anything else.
func parseInt(v string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n, err == nil
}

// parseLeading reads the leading number of a value with a unit, such as
// "612 sec" or "12.5 min". ok is false when there is none.
func parseLeading(v string) (float64, bool) {
	v = strings.TrimSpace(v)
	end := 0
	for end < len(v) && (v[end] >= '0' && v[end] <= '9' || v[end] == '.' || end == 0 && v[end] == '-') {
		end++
	}
	f, err := strconv.ParseFloat(v[:end], 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// Resolve finds the stats file a STATS_READY trigger announces: the stats
// file of exactly r.Map and r.Round whose name time, read in loc (the game
// server's zone), is nearest to r.RoundEnd and within Config.ResolveWindow.
// While no candidate exists it lists again, up to Config.ResolveAttempts
// listings Config.ResolveInterval apart (the file may not be written yet).
//
// The event carries r.Meta. Resolve returns ErrNoCandidate when every
// listing succeeded without a match, the last listing error (wrapped) when a
// listing failed and none matched, and ctx.Err() when ctx ends. It may be
// called concurrently; it holds no lock while listing or waiting.
func (t *Trigger) Resolve(ctx context.Context, r ReadyTrigger, lister source.Lister, loc *time.Location) (source.Event, error) {
	if loc == nil {
		return source.Event{}, errors.New("webhook: resolve: nil time zone")
	}
	if lister == nil {
		return source.Event{}, errors.New("webhook: resolve: nil lister")
	}
	var lastErr error
	for attempt := 0; attempt < t.cfg.ResolveAttempts; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, t.clock, t.cfg.ResolveInterval); err != nil {
				return source.Event{}, err
			}
		}
		if err := ctx.Err(); err != nil {
			return source.Event{}, err
		}
		entries, err := lister.List(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return source.Event{}, ctx.Err()
			}
			lastErr = err
			t.log.Warn("STATS_READY listing failed", "map", r.Map, "round", r.Round, "attempt", attempt+1, "err", err)
			continue
		}
		if name, ok := nearest(entries, r, loc, t.cfg.ResolveWindow); ok {
			t.bump(CountResolved)
			t.log.Info("STATS_READY resolved", "file", name.Raw, "message_id", r.MessageID, "attempt", attempt+1)
			return source.Event{
				Server:    t.cfg.Server,
				Name:      name,
				Via:       source.ViaWebhook,
				At:        t.clock.Now(),
				MessageID: r.MessageID,
				Meta:      r.Meta,
			}, nil
		}
		lastErr = nil
	}
	t.bump(CountUnresolved)
	t.log.Warn("STATS_READY not resolved", "map", r.Map, "round", r.Round, "round_end", r.RoundEnd.Unix(), "message_id", r.MessageID)
	if lastErr != nil {
		return source.Event{}, fmt.Errorf("webhook: resolve %s round %d: %w", r.Map, r.Round, lastErr)
	}
	return source.Event{}, fmt.Errorf("%w: %s round %d", ErrNoCandidate, r.Map, r.Round)
}

// nearest picks the stats entry of exactly r's map and round whose time in
// loc is nearest to r.RoundEnd and within window. Ties go to the earlier
// name, so the choice does not depend on listing order.
func nearest(entries []source.Entry, r ReadyTrigger, loc *time.Location, window time.Duration) (parser.FileName, bool) {
	var best parser.FileName
	var bestD time.Duration
	found := false
	for _, e := range entries {
		n := e.Name
		if n.Kind != parser.KindStats || n.Map != r.Map || n.Round != r.Round {
			continue
		}
		wall := n.Time
		at := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc)
		d := at.Sub(r.RoundEnd)
		if d < 0 {
			d = -d
		}
		if d > window {
			continue
		}
		if !found || d < bestD || (d == bestD && n.Raw < best.Raw) {
			best, bestD, found = n, d, true
		}
	}
	return best, found
}

func (t *Trigger) bump(key string) {
	t.mu.Lock()
	t.counters[key]++
	t.mu.Unlock()
}
