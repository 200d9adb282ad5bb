package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/internal/testutil"
)

func TestHealthJSON(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 15, 22, 21, 19, 0, time.UTC)
	var tr Tracker
	tr.Processed(LastFile{Name: "2026-01-15-222119-te_escape2-round-1.txt", Via: "webhook", Outcome: "imported", At: at})
	tests := []struct {
		name   string
		report func(context.Context) (Report, error)
		code   int
		check  func(t *testing.T, body map[string]any)
	}{
		{
			name: "ok",
			report: func(context.Context) (Report, error) {
				return Report{Status: "ok", Mode: ModeWebhook, LastFile: tr.Last(), Now: at.Add(time.Minute),
					Failover: Failover{SmartEnabled: true, ConsecutiveSuccesses: 3, Failovers: 1, Recoveries: 1, OutboxBacklog: 2}}, nil
			},
			code: 200,
			check: func(t *testing.T, body map[string]any) {
				if body["status"] != "ok" || body["mode"] != "webhook" {
					t.Errorf("status/mode = %v/%v", body["status"], body["mode"])
				}
				lf := body["last_file"].(map[string]any)
				if lf["name"] != "2026-01-15-222119-te_escape2-round-1.txt" || lf["at"] != "2026-01-15T22:21:19Z" || lf["via"] != "webhook" {
					t.Errorf("last_file = %v", lf)
				}
				fo := body["failover"].(map[string]any)
				if fo["polling_on"] != false || fo["consecutive_successes"] != 3.0 || fo["outbox_backlog"] != 2.0 {
					t.Errorf("failover = %v", fo)
				}
			},
		},
		{
			name: "degraded",
			report: func(context.Context) (Report, error) {
				return Report{Status: "degraded", Problems: []string{"outbox backlog 120"}, Mode: ModePolling}, nil
			},
			code: 200,
			check: func(t *testing.T, body map[string]any) {
				if body["status"] != "degraded" || body["last_file"] != nil {
					t.Errorf("body = %v", body)
				}
			},
		},
		{
			name:   "error",
			report: func(context.Context) (Report, error) { return Report{}, errors.New("store: database is locked") },
			code:   503,
			check: func(t *testing.T, body map[string]any) {
				if body["status"] != "error" || body["error"] != "store: database is locked" {
					t.Errorf("body = %v", body)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(Handler(tc.report, NewMetrics(Sources{})))
			defer srv.Close()
			code, body := testutil.HTTPGet(t, srv.URL+"/health")
			if code != tc.code {
				t.Errorf("code %d, want %d", code, tc.code)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(body), &m); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			tc.check(t, m)
		})
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	polling := true
	m := NewMetrics(Sources{
		OutboxBacklog: func() float64 { return 2 },
		Quarantine:    func() float64 { return 1 },
		Servers: []ServerSources{{
			Server:        "alpha",
			SSHHandshakes: func() float64 { return 3 },
			SFTPRequests:  func() float64 { return 41 },
			ModeSeconds:   func() (float64, float64) { return 3600, 120 },
			PollingOn:     func() bool { return polling },
		}, {
			Server:      "bravo",
			ModeSeconds: func() (float64, float64) { return 10, 0 },
			PollingOn:   func() bool { return false },
		}},
	})
	m.Files.WithLabelValues("alpha", "webhook", "imported").Add(5)
	m.Files.WithLabelValues("alpha", "poll", "imported").Inc()
	m.Files.WithLabelValues("bravo", "webhook", "quarantined").Inc()
	m.Latency.WithLabelValues("alpha").Observe(0.3)
	m.Transitions.WithLabelValues("alpha", "polling", "missed").Inc()
	m.Published.WithLabelValues("ok").Inc()
	srv := httptest.NewServer(Handler(func(context.Context) (Report, error) { return Report{Status: "ok"}, nil }, m))
	defer srv.Close()
	code, body := testutil.HTTPGet(t, srv.URL+"/metrics")
	if code != 200 {
		t.Fatalf("code %d", code)
	}
	for _, want := range []string{
		`roundfeed_files_total{outcome="imported",server="alpha",via="webhook"} 5`,
		`roundfeed_files_total{outcome="imported",server="alpha",via="poll"} 1`,
		`roundfeed_files_total{outcome="quarantined",server="bravo",via="webhook"} 1`,
		`roundfeed_processing_latency_seconds_count{server="alpha"} 1`,
		`roundfeed_processing_latency_seconds_bucket{server="alpha",le="0.5"} 1`,
		`roundfeed_failover_transitions_total{reason="missed",server="alpha",to="polling"} 1`,
		`roundfeed_failover_polling{server="alpha"} 1`,
		`roundfeed_failover_polling{server="bravo"} 0`,
		`roundfeed_failover_mode_seconds_total{mode="webhook",server="alpha"} 3600`,
		`roundfeed_failover_mode_seconds_total{mode="polling",server="alpha"} 120`,
		`roundfeed_failover_mode_seconds_total{mode="webhook",server="bravo"} 10`,
		`roundfeed_ssh_handshakes_total{server="alpha"} 3`,
		`roundfeed_sftp_requests_total{server="alpha"} 41`,
		`roundfeed_outbox_backlog 2`,
		`roundfeed_quarantine_files 1`,
		`roundfeed_discord_posts_total{outcome="ok"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %q", want)
		}
	}
}

func TestServeDisabledAndShutdown(t *testing.T) {
	t.Parallel()
	if err := Serve(context.Background(), "", http.NotFoundHandler(), nil); err != nil {
		t.Fatalf("empty addr: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Serve(ctx, "127.0.0.1:0", http.NotFoundHandler(), nil); err != nil {
		t.Fatalf("canceled: %v", err)
	}
	if err := Serve(context.Background(), "256.0.0.1:1", http.NotFoundHandler(), nil); err == nil {
		t.Fatal("bad address accepted")
	}
}
