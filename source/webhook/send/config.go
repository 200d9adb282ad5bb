package send

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultUsername is the name the webhook posts under; the bot may require it.
const DefaultUsername = "ET:Legacy Stats"

// Config configures a Sender. Start from DefaultConfig.
type Config struct {
	// URL is the Discord webhook URL, https://discord.com/api/webhooks/<id>/<token>.
	// It is a secret. Plain http is accepted only for loopback hosts (tests,
	// the bot's demo).
	URL string
	// Username is the author name of the posts (DefaultUsername).
	Username string
	// MaxAttempts is how many posts one Notify makes before giving up with
	// ErrUnavailable (5).
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the exponential wait after a transport
	// error or a 5xx (1 s doubling to 30 s).
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// MaxRetryAfter caps a wait Discord asks for with 429 (10 min).
	MaxRetryAfter time.Duration
	// Timeout bounds one HTTP request (15 s).
	Timeout time.Duration
	// Transport carries the requests; nil is http.DefaultTransport.
	Transport http.RoundTripper
}

// DefaultConfig returns the defaults for the webhook URL u.
func DefaultConfig(u string) Config {
	return Config{
		URL:           u,
		Username:      DefaultUsername,
		MaxAttempts:   5,
		MinBackoff:    time.Second,
		MaxBackoff:    30 * time.Second,
		MaxRetryAfter: 10 * time.Minute,
		Timeout:       15 * time.Second,
	}
}

// Validate reports every problem of c at once. No message quotes the URL.
func (c Config) Validate() error {
	var errs []error
	if _, err := parseWebhookURL(c.URL); err != nil {
		errs = append(errs, err)
	}
	if c.Username == "" || len(c.Username) > 80 {
		errs = append(errs, fmt.Errorf("send: Username must be 1 to 80 bytes, is %d", len(c.Username)))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("send: MaxAttempts %d must be at least 1", c.MaxAttempts))
	}
	if c.MinBackoff <= 0 || c.MaxBackoff < c.MinBackoff {
		errs = append(errs, fmt.Errorf("send: backoff must satisfy 0 < MinBackoff (%v) <= MaxBackoff (%v)", c.MinBackoff, c.MaxBackoff))
	}
	if c.MaxRetryAfter <= 0 {
		errs = append(errs, fmt.Errorf("send: MaxRetryAfter %v must be positive", c.MaxRetryAfter))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("send: Timeout %v must be positive", c.Timeout))
	}
	return errors.Join(errs...)
}

// LogValue logs c with the URL reduced to its webhook ID.
func (c Config) LogValue() slog.Value {
	id := "(invalid)"
	if w, err := parseWebhookURL(c.URL); err == nil {
		id = w.id
	}
	return slog.GroupValue(
		slog.String("webhook_id", id),
		slog.String("username", c.Username),
		slog.Int("max_attempts", c.MaxAttempts),
		slog.Duration("timeout", c.Timeout),
	)
}

// String is the redacted form, so that fmt never prints the URL.
func (c Config) String() string { return c.LogValue().String() }

// GoString is the redacted form for %#v.
func (c Config) GoString() string { return "send.Config" + c.String() }

// webhookURL is a parsed webhook URL: the endpoint to post to (with
// wait=true), the public webhook ID and the secret token.
type webhookURL struct {
	endpoint string
	id       string
	token    string
}

// parseWebhookURL checks the shape of a webhook URL. Its errors name the
// problem, never the value.
func parseWebhookURL(raw string) (webhookURL, error) {
	if raw == "" {
		return webhookURL{}, errors.New("send: webhook URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return webhookURL{}, errors.New("send: webhook URL does not parse")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return webhookURL{}, errors.New("send: webhook URL must be https (http only for a loopback host)")
	}
	if u.Host == "" || u.User != nil || u.Fragment != "" {
		return webhookURL{}, errors.New("send: webhook URL must have a host and no user or fragment")
	}
	parts := strings.Split(u.Path, "/")
	n := len(parts)
	if n < 3 || parts[n-3] != "webhooks" || !isDigits(parts[n-2]) || parts[n-1] == "" {
		return webhookURL{}, errors.New("send: webhook URL path must end in /webhooks/<id>/<token>")
	}
	q := u.Query()
	q.Set("wait", "true")
	u.RawQuery = q.Encode()
	return webhookURL{endpoint: u.String(), id: parts[n-2], token: parts[n-1]}, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Environment variable names of the sender, read by the notifier.
const (
	EnvURL      = "DISCORD_WEBHOOK_URL"
	EnvUsername = "WEBHOOK_USERNAME"
)

// ConfigFromEnv returns DefaultConfig with DISCORD_WEBHOOK_URL and
// WEBHOOK_USERNAME applied, and the result of Validate.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	u, _ := lookup(EnvURL)
	c := DefaultConfig(strings.TrimSpace(u))
	if v, ok := lookup(EnvUsername); ok && v != "" {
		c.Username = v
	}
	return c, c.Validate()
}
