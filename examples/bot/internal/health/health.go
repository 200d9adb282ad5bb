// Package health serves the reference bot's /health (JSON) and /metrics
// (Prometheus text, from a registry of its own so nothing global leaks in)
// on one small HTTP server. Every per-server metric carries a server label
// (the game server's name), so one bot serving several game servers shows
// each one's mode, transitions, SSH/SFTP cost and files.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultAddr is where the server listens unless HEALTH_ADDR says otherwise.
const DefaultAddr = "127.0.0.1:8080"

// Mode labels.
const (
	ModeWebhook = "webhook"
	ModePolling = "polling"
)

// Sources are read at scrape time for values another component owns. Any may
// be nil (the metric is then not exported). They must be safe for concurrent
// use and quick (they run inside the scrape).
type Sources struct {
	// OutboxBacklog is the number of outbox rows not yet posted.
	OutboxBacklog func() float64
	// Quarantine is the number of quarantined files.
	Quarantine func() float64
	// Servers are the game servers' own sources.
	Servers []ServerSources
}

// ServerSources are one game server's scrape-time values.
type ServerSources struct {
	// Server is the server label's value.
	Server string
	// SSHHandshakes and SFTPRequests are totals since start.
	SSHHandshakes func() float64
	SFTPRequests  func() float64
	// ModeSeconds returns the total seconds spent with polling off (webhook)
	// and on (polling).
	ModeSeconds func() (webhook, polling float64)
	// PollingOn reports the current mode.
	PollingOn func() bool
}

// Metrics is the bot's metric set. The counters are safe for concurrent use.
type Metrics struct {
	// Registry holds only roundfeed's metrics plus the Go and process collectors.
	Registry *prometheus.Registry
	// Files counts processed files by server, the path that saw them
	// (webhook, poll, probe, backfill, local) and outcome (imported,
	// duplicate, deferred, failed, quarantined).
	Files *prometheus.CounterVec
	// Latency is the time from a file's event to its import, in seconds, by
	// server.
	Latency *prometheus.HistogramVec
	// Transitions counts failover transitions by server, target mode and
	// reason.
	Transitions *prometheus.CounterVec
	// Published counts Discord posts by outcome (ok, retry, permanent).
	Published *prometheus.CounterVec
}

// NewMetrics registers the metric set and the Sources' functions.
func NewMetrics(src Sources) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		Files: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roundfeed_files_total", Help: "Stats files handled, by server, the path that saw them and outcome.",
		}, []string{"server", "via", "outcome"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "roundfeed_processing_latency_seconds", Help: "Time from a file's event to its import, by server.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900},
		}, []string{"server"}),
		Transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roundfeed_failover_transitions_total", Help: "Failover transitions, by server, target mode and reason.",
		}, []string{"server", "to", "reason"}),
		Published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roundfeed_discord_posts_total", Help: "Discord post attempts, by outcome.",
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.Files, m.Latency, m.Transitions, m.Published,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if len(src.Servers) > 0 {
		reg.MustRegister(&serverCollector{servers: src.Servers})
	}
	gauge := func(name, help string, f func() float64) {
		if f != nil {
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
		}
	}
	gauge("roundfeed_outbox_backlog", "Outbox rows not yet posted to Discord.", src.OutboxBacklog)
	gauge("roundfeed_quarantine_files", "Files quarantined after too many failed attempts.", src.Quarantine)
	return m
}

var (
	descPolling = prometheus.NewDesc("roundfeed_failover_polling",
		"1 while SSH polling is on (backup active), 0 while the webhook is primary, by server.", []string{"server"}, nil)
	descModeSeconds = prometheus.NewDesc("roundfeed_failover_mode_seconds_total",
		"Seconds spent in each mode since start, by server.", []string{"server", "mode"}, nil)
	descHandshakes = prometheus.NewDesc("roundfeed_ssh_handshakes_total",
		"SSH handshakes made (connections opened), by server.", []string{"server"}, nil)
	descRequests = prometheus.NewDesc("roundfeed_sftp_requests_total",
		"SFTP requests made (stat, readdir, open, read), by server.", []string{"server"}, nil)
)

// serverCollector exports the per-server scrape-time values with a server
// label.
type serverCollector struct{ servers []ServerSources }

// Describe implements prometheus.Collector.
func (c *serverCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPolling, descModeSeconds, descHandshakes, descRequests} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: the samples of every server.
func (c *serverCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.servers {
		if s.PollingOn != nil {
			v := 0.0
			if s.PollingOn() {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(descPolling, prometheus.GaugeValue, v, s.Server)
		}
		if s.ModeSeconds != nil {
			w, p := s.ModeSeconds()
			ch <- prometheus.MustNewConstMetric(descModeSeconds, prometheus.CounterValue, w, s.Server, ModeWebhook)
			ch <- prometheus.MustNewConstMetric(descModeSeconds, prometheus.CounterValue, p, s.Server, ModePolling)
		}
		if s.SSHHandshakes != nil {
			ch <- prometheus.MustNewConstMetric(descHandshakes, prometheus.CounterValue, s.SSHHandshakes(), s.Server)
		}
		if s.SFTPRequests != nil {
			ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, s.SFTPRequests(), s.Server)
		}
	}
}

// LastFile is the most recent file the pipeline finished.
type LastFile struct {
	Server  string    `json:"server,omitempty"`
	Name    string    `json:"name"`
	Via     string    `json:"via"`
	Outcome string    `json:"outcome"`
	At      time.Time `json:"at"`
}

// Failover is the failover part of the health report.
type Failover struct {
	SmartEnabled         bool      `json:"smart_enabled"`
	PollingOn            bool      `json:"polling_on"`
	ConsecutiveSuccesses int       `json:"consecutive_successes"`
	ConsecutiveFailures  int       `json:"consecutive_failures"`
	LastWebhookSuccess   time.Time `json:"last_webhook_success,omitzero"`
	Failovers            int       `json:"failovers"`
	Recoveries           int       `json:"recoveries"`
	OutboxBacklog        int       `json:"outbox_backlog"`
	Quarantined          int       `json:"quarantined"`
}

// Report is the /health body.
type Report struct {
	// Status is "ok", or "degraded" with Problems listing what needs an
	// operator (both answer HTTP 200).
	Status   string   `json:"status"`
	Problems []string `json:"problems,omitempty"`
	// Mode is "polling" when any server polls, else "webhook".
	Mode     string    `json:"mode"`
	LastFile *LastFile `json:"last_file"`
	// Failover adds up the servers' counts; its polling_on is true when
	// any server polls.
	Failover Failover `json:"failover"`
	// Servers holds each game server's mode, failover state and last file.
	Servers []ServerReport `json:"servers,omitempty"`
	Now     time.Time      `json:"now"`
}

// ServerReport is one game server's part of the report.
type ServerReport struct {
	Server   string    `json:"server"`
	Mode     string    `json:"mode"`
	LastFile *LastFile `json:"last_file"`
	Failover Failover  `json:"failover"`
}

// Tracker keeps the last processed file for the report. Safe for concurrent use.
type Tracker struct {
	mu   sync.Mutex
	last *LastFile
}

// Processed records a finished file.
func (t *Tracker) Processed(f LastFile) {
	t.mu.Lock()
	t.last = &f
	t.mu.Unlock()
}

// Last returns the last file, or nil.
func (t *Tracker) Last() *LastFile {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		return nil
	}
	c := *t.last
	return &c
}

// Handler serves /health from report and /metrics from m's registry. A
// report answers 200 whatever its Status; a report error answers 503 with status "error" and the error text (which must hold
// no secret: callers pass wrapped library errors, never configuration).
func Handler(report func(context.Context) (Report, error), m *Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		rep, err := report(r.Context())
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "error": err.Error()})
			return
		}
		// "degraded" is still up (200): something needs an operator, but
		// files keep flowing; only a report error is 503.
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	})
	if m != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	}
	return mux
}

// Serve listens on addr and serves h until ctx ends, then shuts down within
// 5 s. An empty addr disables it: Serve returns nil at once. The listener is
// opened before Serve returns its first error, so a port in use is reported.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	if addr == "" {
		return nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("health: listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info("health listening", "addr", ln.Addr().String())
	select {
	case err := <-done:
		return fmt.Errorf("health: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("health: shutdown: %w", err)
	}
	return nil
}
