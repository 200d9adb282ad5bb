package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
)

// MaxNonceLen is the longest nonce Discord accepts on a message create.
const MaxNonceLen = 25

// ErrPermanent is matched (errors.Is) by a send error that will fail the same
// way if retried: 400, 401, 403, 404 and other 4xx except 429, a nonce that is
// too long, an empty channel. The caller must not retry it; it should record it
// and alert.
var ErrPermanent = errors.New("discord: permanent failure")

// ErrTemporary is matched by a send error worth retrying later: 429, 5xx,
// transport errors and timeouts. A *RetryAfterError also matches it and says
// how long to wait.
var ErrTemporary = errors.New("discord: temporary failure")

// RetryAfterError is returned for a 429: Discord asked to wait After before
// the next attempt. It matches ErrTemporary.
type RetryAfterError struct {
	After time.Duration
}

// Error says how long to wait.
func (e *RetryAfterError) Error() string {
	return "discord: rate limited, retry after " + e.After.String()
}

// Is makes errors.Is(err, ErrTemporary) true.
func (e *RetryAfterError) Is(target error) bool { return target == ErrTemporary }

// Post is one message for a channel.
type Post struct {
	// ChannelID is the channel to post in.
	ChannelID string
	// Nonce makes the create idempotent for a few minutes (enforce_nonce):
	// a second send with the same nonce returns the first message instead
	// of creating another. At most MaxNonceLen characters; empty sends none.
	Nonce string
	// Content is the plain text, may be empty when Embeds is not.
	Content string
	// Embeds are at most 10 embeds.
	Embeds []*discordgo.MessageEmbed
}

// Publisher sends posts through a discordgo session's REST client. The
// session's own HTTP client, rate-limit buckets and token are used; the token
// never appears in an error the Publisher returns.
type Publisher struct {
	session *discordgo.Session
}

// NewPublisher returns a Publisher on s.
func NewPublisher(s *discordgo.Session) *Publisher { return &Publisher{session: s} }

// messageCreate is discordgo.MessageSend plus the two fields it lacks.
type messageCreate struct {
	Content         string                            `json:"content,omitempty"`
	Embeds          []*discordgo.MessageEmbed         `json:"embeds,omitempty"`
	Nonce           string                            `json:"nonce,omitempty"`
	EnforceNonce    bool                              `json:"enforce_nonce,omitempty"`
	AllowedMentions *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
}

// Send creates the message and returns its ID.
//
// Errors: ErrPermanent (do not retry), ErrTemporary or *RetryAfterError
// (retry later; with the same nonce the retry cannot create a duplicate
// while Discord remembers the nonce). Send is safe for concurrent use. It
// does not retry by itself (discordgo's own 502 retry excepted) and never
// sleeps on a 429.
func (p *Publisher) Send(ctx context.Context, post Post) (string, error) {
	if post.ChannelID == "" {
		return "", fmt.Errorf("discord: send: no channel: %w", ErrPermanent)
	}
	if len(post.Nonce) > MaxNonceLen {
		return "", fmt.Errorf("discord: send: nonce of %d characters, limit %d: %w", len(post.Nonce), MaxNonceLen, ErrPermanent)
	}
	body := messageCreate{
		Content:         post.Content,
		Embeds:          post.Embeds,
		Nonce:           post.Nonce,
		EnforceNonce:    post.Nonce != "",
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}},
	}
	endpoint := discordgo.EndpointChannelMessages(post.ChannelID)
	resp, err := p.session.RequestWithBucketID("POST", endpoint, body, endpoint,
		discordgo.WithContext(ctx), noRateLimitRetry)
	if err != nil {
		return "", classify(post.ChannelID, err)
	}
	var m struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(resp, &m); err != nil || m.ID == "" {
		// The message was created; without its ID the caller retries and
		// the nonce returns the same message.
		return "", fmt.Errorf("discord: send to %s: reply without message id: %w", post.ChannelID, ErrTemporary)
	}
	return m.ID, nil
}

func noRateLimitRetry(cfg *discordgo.RequestConfig) { cfg.ShouldRetryOnRateLimit = false }

// DefaultRetryAfter is the wait assumed for a 429 whose reply carries no usable delay.
const DefaultRetryAfter = 5 * time.Second

// classify maps a discordgo error to ErrPermanent, ErrTemporary or a
// *RetryAfterError. It keeps only the status code and Discord's message,
// never the request (which carries the token).
func classify(channel string, err error) error {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) {
		after := DefaultRetryAfter
		if rl.RateLimit != nil && rl.TooManyRequests != nil && rl.RetryAfter > 0 {
			after = rl.RetryAfter
		}
		return fmt.Errorf("discord: send to %s: %w", channel, &RetryAfterError{After: after})
	}
	var rest *discordgo.RESTError
	if errors.As(err, &rest) && rest.Response != nil {
		code := rest.Response.StatusCode
		msg := ""
		if rest.Message != nil {
			msg = ": " + rest.Message.Message
		}
		switch {
		case code == http.StatusTooManyRequests:
			return fmt.Errorf("discord: send to %s: %w", channel, &RetryAfterError{After: retryAfterHeader(rest.Response.Header)})
		case code >= 500:
			return fmt.Errorf("discord: send to %s: HTTP %d%s: %w", channel, code, msg, ErrTemporary)
		case code == http.StatusRequestTimeout:
			return fmt.Errorf("discord: send to %s: HTTP %d%s: %w", channel, code, msg, ErrTemporary)
		default:
			return fmt.Errorf("discord: send to %s: HTTP %d%s: %w", channel, code, msg, ErrPermanent)
		}
	}
	if errors.Is(err, discordgo.ErrUnauthorized) {
		return fmt.Errorf("discord: send to %s: unauthorized (check DISCORD_TOKEN): %w", channel, ErrPermanent)
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		// A 429 whose body is not JSON: discordgo fails decoding it.
		return fmt.Errorf("discord: send to %s: unreadable reply: %w", channel, &RetryAfterError{After: DefaultRetryAfter})
	}
	// Transport errors: the request may or may not have reached Discord; the
	// nonce makes the retry safe.
	return fmt.Errorf("discord: send to %s: %s: %w", channel, redactTransport(err), ErrTemporary)
}

func retryAfterHeader(h http.Header) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 {
			return time.Duration(f * float64(time.Second))
		}
	}
	return DefaultRetryAfter
}

// redactTransport keeps the error text of a transport failure; net/http
// errors name the URL, never headers, so the token cannot be in them.
func redactTransport(err error) string {
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return err.Error()
}
