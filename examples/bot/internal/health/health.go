// Package health serves the reference bot's /health (JSON) and /metrics
// (Prometheus text, from a registry of its own so nothing global leaks in)
// on one small HTTP server.
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
	// SSHHandshakes and SFTPRequests are totals since start.
	SSHHandshakes func() float64
	SFTPRequests  func() float64
	// OutboxBacklog is the number of outbox rows not yet posted.
	OutboxBacklog func() float64
	// Quarantine is the number of quarantined files.
	Quarantine func() float64
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
	// Files counts processed files by the path that saw them (webhook, poll,
	// probe, backfill, local) and outcome (imported, duplicate, deferred,
	// failed, quarantined).
	Files *prometheus.CounterVec
	// Latency is the time from a file's event to its import, in seconds.
	Latency prometheus.Histogram
	// Transitions counts failover transitions by target mode and reason.
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
			Name: "roundfeed_files_total", Help: "Stats files handled, by the path that saw them and outcome.",
		}, []string{"via", "outcome"}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "roundfeed_processing_latency_seconds", Help: "Time from a file's event to its import.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900},
		}),
		Transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roundfeed_failover_transitions_total", Help: "Failover transitions, by target mode and reason.",
		}, []string{"to", "reason"}),
		Published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roundfeed_discord_posts_total", Help: "Discord post attempts, by outcome.",
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.Files, m.Latency, m.Transitions, m.Published,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if src.PollingOn != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "roundfeed_failover_polling", Help: "1 while SSH polling is on (backup active), 0 while the webhook is primary.",
		}, func() float64 {
			if src.PollingOn() {
				return 1
			}
			return 0
		}))
	}
	if src.ModeSeconds != nil {
		reg.MustRegister(&modeSeconds{f: src.ModeSeconds, desc: prometheus.NewDesc("roundfeed_failover_mode_seconds_total",
			"Seconds spent in each mode since start.", []string{"mode"}, nil)})
	}
	counter := func(name, help string, f func() float64) {
		if f != nil {
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
		}
	}
	gauge := func(name, help string, f func() float64) {
		if f != nil {
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
		}
	}
	counter("roundfeed_ssh_handshakes_total", "SSH handshakes made (connections opened).", src.SSHHandshakes)
	counter("roundfeed_sftp_requests_total", "SFTP requests made (stat, readdir, open, read).", src.SFTPRequests)
	gauge("roundfeed_outbox_backlog", "Outbox rows not yet posted to Discord.", src.OutboxBacklog)
	gauge("roundfeed_quarantine_files", "Files quarantined after too many failed attempts.", src.Quarantine)
	return m
}

type modeSeconds struct {
	f    func() (float64, float64)
	desc *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *modeSeconds) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector: one sample per mode.
func (c *modeSeconds) Collect(ch chan<- prometheus.Metric) {
	w, p := c.f()
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, w, ModeWebhook)
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, p, ModePolling)
}

// LastFile is the most recent file the pipeline finished.
type LastFile struct {
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
	Status   string    `json:"status"`
	Problems []string  `json:"problems,omitempty"`
	Mode     string    `json:"mode"`
	LastFile *LastFile `json:"last_file"`
	Failover Failover  `json:"failover"`
	Now      time.Time `json:"now"`
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
