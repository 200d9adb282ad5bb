package webhook

import (
	"errors"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
)

// Contents with a meaning of their own.
const (
	// ReadyContent is the whole content of the Lua webhook's trigger.
	ReadyContent = "STATS_READY"
	// HeartbeatContent is the whole content of the notifier's heartbeat.
	HeartbeatContent = "ROUNDFEED_HEARTBEAT"
)

// Reasons a message is ignored; they are Decision.Ignored values and keys of
// Counters. A refused file name is counted as ReasonBadName and again as
// ReasonBadName + ": " + the validator's reason.
const (
	ReasonEmpty          = "empty_message"
	ReasonOwnMessage     = "own_message"
	ReasonWrongChannel   = "wrong_channel"
	ReasonNotWebhook     = "not_webhook"
	ReasonNotWhitelisted = "webhook_not_whitelisted"
	ReasonWrongUsername  = "wrong_username"
	ReasonEdited         = "edited"
	ReasonNoMessageID    = "no_message_id"
	ReasonDuplicate      = "duplicate_message"
	ReasonNoFileName     = "no_file_name"
	ReasonBadName        = "bad_name"
	ReasonReadyMalformed = "ready_malformed"
	ReasonGhostRound     = "ghost_round"
	ReasonDuplicateReady = "duplicate_ready"
)

// Counter keys of what was not ignored.
const (
	CountAcceptedFile     = "accepted_file"
	CountAcceptedReady    = "accepted_ready"
	CountHeartbeat        = "heartbeat"
	CountRateLimitedFile  = "rate_limited_file"
	CountRateLimitedReady = "rate_limited_ready"
	CountSeenEvicted      = "seen_evicted"
	CountResolved         = "ready_resolved"
	CountUnresolved       = "ready_unresolved"
)

// Decision is what Handle concluded about one message. At most one of
// Events, RateLimited, Ready, LimitedReady, Heartbeat and Ignored is set.
type Decision struct {
	// Events are accepted file-name triggers (Via webhook): push them.
	Events []source.Event
	// RateLimited are valid file-name triggers over the rate limit: do not
	// fetch them by push; report a push Failure "rate_limited" to the
	// failover machine so that polling, turned on by it, fetches the file.
	RateLimited []source.Event
	// Ready is an accepted STATS_READY trigger; Resolve finds its file.
	Ready *ReadyTrigger
	// LimitedReady is a valid STATS_READY over the rate limit: report a
	// push Failure "rate_limited" as for RateLimited.
	LimitedReady *ReadyTrigger
	// Heartbeat is true for an accepted ROUNDFEED_HEARTBEAT: the push path
	// is alive, though no file was named.
	Heartbeat bool
	// Ignored is the reason the message was not a trigger (one of the
	// Reason constants, for a refused name "bad_name: <reason>").
	Ignored string
}

// Limited reports whether the message was a valid trigger over the rate
// limit, to be reported as a push Failure "rate_limited".
func (d Decision) Limited() bool { return len(d.RateLimited) > 0 || d.LimitedReady != nil }

// Trigger applies the webhook protocol to Discord messages. It is safe for
// concurrent use; Handle does no I/O.
type Trigger struct {
	cfg       Config
	clock     Clock
	log       *slog.Logger
	whitelist map[string]bool

	mu       sync.Mutex
	seen     *seenSet
	files    *limiter
	readies  *limiter
	counters map[string]uint64
	lastID   string // highest message ID seen in the control channel
}

// NewTrigger returns a Trigger for a valid cfg. A nil clock is the system
// clock; a nil logger discards.
func NewTrigger(cfg Config, clock Clock, logger *slog.Logger) (*Trigger, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if clock == nil {
		clock = systemClock{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t := &Trigger{
		cfg:       cfg,
		clock:     clock,
		log:       logger.With("component", "webhook", "server", cfg.Server),
		whitelist: make(map[string]bool, len(cfg.Whitelist)),
		seen:      newSeenSet(cfg.SeenTTL, cfg.MaxSeen),
		files:     newLimiter(cfg.FileRate, cfg.FileRateWindow),
		readies:   newLimiter(cfg.ReadyRate, cfg.ReadyRateWindow),
		counters:  make(map[string]uint64),
	}
	for _, id := range cfg.Whitelist {
		t.whitelist[id] = true
	}
	if len(t.whitelist) == 0 {
		t.log.Warn("webhook trigger whitelist is empty: every trigger will be refused", "env", EnvWhitelist)
	}
	return t, nil
}

// Handle decides what one gateway MessageCreate means. Route only
// MessageCreate here, never MessageUpdate. It never panics on any message
// content and never blocks on I/O.
func (t *Trigger) Handle(m *discordgo.MessageCreate) Decision {
	if m == nil {
		return t.handle(nil)
	}
	return t.handle(m.Message)
}

// Counters returns a copy of the counts by reason (Reason* and Count* keys).
func (t *Trigger) Counters() map[string]uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.counters)
}

// LastMessageID returns the highest message ID seen in the control channel,
// the point CatchUp reads history from. Empty before the first message.
func (t *Trigger) LastMessageID() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastID
}

// SetLastMessageID moves the CatchUp point forward to id (a bot that persists
// it restores it at start). An id lower than the current one is ignored.
func (t *Trigger) SetLastMessageID(id string) {
	if !isSnowflake(id) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.noteIDLocked(id)
}

func (t *Trigger) noteIDLocked(id string) {
	if isSnowflake(id) && compareIDs(id, t.lastID) > 0 {
		t.lastID = id
	}
}

// handle runs the checks under the lock, then logs outside it.
func (t *Trigger) handle(msg *discordgo.Message) Decision {
	now := t.clock.Now()
	t.mu.Lock()
	d, nameReason := t.decideLocked(msg, now)
	t.count(d, nameReason)
	t.mu.Unlock()
	t.logDecision(msg, d, nameReason)
	return d
}

func (t *Trigger) count(d Decision, nameReason string) {
	switch {
	case d.Ignored != "":
		if nameReason != "" {
			t.counters[ReasonBadName]++
		}
		t.counters[d.Ignored]++
	case len(d.Events) > 0:
		t.counters[CountAcceptedFile]++
	case len(d.RateLimited) > 0:
		t.counters[CountRateLimitedFile]++
	case d.Ready != nil:
		t.counters[CountAcceptedReady]++
	case d.LimitedReady != nil:
		t.counters[CountRateLimitedReady]++
	case d.Heartbeat:
		t.counters[CountHeartbeat]++
	}
}

func ignore(reason string) Decision { return Decision{Ignored: reason} }

// decideLocked applies the protocol's checks in order. nameReason is the
// validator's reason when a file name was refused.
func (t *Trigger) decideLocked(msg *discordgo.Message, now time.Time) (d Decision, nameReason string) {
	if msg == nil {
		return ignore(ReasonEmpty), ""
	}
	if t.cfg.BotUserID != "" && msg.Author != nil && msg.Author.ID == t.cfg.BotUserID {
		return ignore(ReasonOwnMessage), ""
	}
	if msg.ChannelID != t.cfg.ControlChannelID {
		return ignore(ReasonWrongChannel), ""
	}
	t.noteIDLocked(msg.ID)
	if msg.WebhookID == "" {
		return ignore(ReasonNotWebhook), ""
	}
	if !t.whitelist[msg.WebhookID] {
		return ignore(ReasonNotWhitelisted), ""
	}
	if t.cfg.Username != "" && (msg.Author == nil || msg.Author.Username != t.cfg.Username) {
		return ignore(ReasonWrongUsername), ""
	}
	if msg.EditedTimestamp != nil {
		return ignore(ReasonEdited), ""
	}
	if msg.ID == "" {
		return ignore(ReasonNoMessageID), ""
	}
	if t.seen.has("m:"+msg.ID, now) {
		return ignore(ReasonDuplicate), ""
	}
	t.counters[CountSeenEvicted] += uint64(t.seen.add("m:"+msg.ID, now))

	switch msg.Content {
	case ReadyContent:
		return t.readyLocked(msg, now), ""
	case HeartbeatContent:
		return Decision{Heartbeat: true}, ""
	}

	raw, ok := extractName(msg.Content)
	if !ok {
		return ignore(ReasonNoFileName), ""
	}
	name, err := parser.ValidateName(raw)
	if err != nil {
		reason := "unknown"
		var ne *parser.NameError
		if errors.As(err, &ne) {
			reason = ne.Reason
		}
		return ignore(ReasonBadName + ": " + reason), reason
	}
	ev := source.Event{
		Server:    t.cfg.Server,
		Name:      name,
		Via:       source.ViaWebhook,
		At:        now,
		MessageID: msg.ID,
	}
	if !t.files.allow(msg.WebhookID, now) {
		return Decision{RateLimited: []source.Event{ev}}, ""
	}
	return Decision{Events: []source.Event{ev}}, ""
}

// extractName returns the first backticked token of content that ends in
// ".txt". A token is the text between a backtick and the next one; an
// unclosed backtick opens no token. Embeds are never looked at.
func extractName(content string) (string, bool) {
	rest := content
	for {
		i := strings.IndexByte(rest, '`')
		if i < 0 {
			return "", false
		}
		rest = rest[i+1:]
		j := strings.IndexByte(rest, '`')
		if j < 0 {
			return "", false
		}
		tok := rest[:j]
		rest = rest[j+1:]
		if strings.HasSuffix(tok, ".txt") {
			return tok, true
		}
	}
}

// logDecision writes one line per decision worth a line. Raw content and
// refused names are never logged: only IDs and fixed reasons.
func (t *Trigger) logDecision(msg *discordgo.Message, d Decision, nameReason string) {
	var msgID, webhookID string
	if msg != nil {
		msgID, webhookID = msg.ID, msg.WebhookID
	}
	switch {
	case d.Ignored == ReasonWrongChannel || d.Ignored == ReasonEmpty || d.Ignored == ReasonOwnMessage:
		// Every message the bot can see lands here: counted, not logged.
	case nameReason != "":
		t.log.Warn("webhook trigger refused: bad file name", "reason", nameReason, "message_id", msgID, "webhook_id", webhookID)
	case d.Ignored == ReasonNotWhitelisted || d.Ignored == ReasonWrongUsername:
		t.log.Warn("webhook trigger refused", "reason", d.Ignored, "message_id", msgID, "webhook_id", webhookID)
	case d.Ignored != "":
		t.log.Debug("webhook message ignored", "reason", d.Ignored, "message_id", msgID)
	case len(d.Events) > 0:
		t.log.Info("webhook trigger accepted", "file", d.Events[0].Name.Raw, "message_id", msgID, "webhook_id", webhookID)
	case len(d.RateLimited) > 0:
		t.log.Warn("webhook trigger rate limited: left to polling", "file", d.RateLimited[0].Name.Raw, "message_id", msgID, "webhook_id", webhookID)
	case d.Ready != nil:
		t.log.Info("STATS_READY accepted", "map", d.Ready.Map, "round", d.Ready.Round, "round_end", d.Ready.RoundEnd.Unix(), "message_id", msgID)
	case d.LimitedReady != nil:
		t.log.Warn("STATS_READY rate limited: left to polling", "map", d.LimitedReady.Map, "round", d.LimitedReady.Round, "message_id", msgID)
	case d.Heartbeat:
		t.log.Debug("webhook heartbeat", "message_id", msgID, "webhook_id", webhookID)
	}
}
