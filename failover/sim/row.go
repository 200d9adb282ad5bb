package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is the outcome of one policy on one scenario. Its JSON keys are part
// of the command's interface.
type Row struct {
	Policy   string `json:"policy"`
	Scenario string `json:"scenario"`
	// Files is how many files the game server wrote during the run.
	Files int `json:"files"`
	// Lost counts files written but neither imported nor quarantined by
	// the end of the run (12:00 after the last night).
	Lost int `json:"lost"`
	// Duplicates counts imports beyond the first of a file.
	Duplicates int `json:"duplicates"`
	// Latencies run from the file's write to its import (or quarantine), in
	// seconds, over the files that were imported.
	LatencyP50 float64 `json:"latency_p50_s"`
	LatencyP99 float64 `json:"latency_p99_s"`
	LatencyMax float64 `json:"latency_max_s"`
	// HandshakesPerActiveHour counts SSH handshakes made while at least 4
	// players were in voice, per hour with at least 4 players in voice.
	HandshakesPerActiveHour float64 `json:"ssh_handshakes_per_active_hour"`
	// DiscoveryPerActiveHour counts the SFTP requests spent finding files
	// (stat, opendir, readdir, close; not downloads) the same way.
	DiscoveryPerActiveHour float64 `json:"discovery_requests_per_active_hour"`
	// Failovers counts the machine's transitions from polling OFF to ON.
	Failovers int `json:"failovers"`
	// Servers, for a multi-server scenario, holds each game server's own
	// counts (the columns above add them up).
	Servers []ServerRow `json:"servers,omitempty"`
}

// ServerRow is one game server's part of a multi-server row.
type ServerRow struct {
	Server     string  `json:"server"`
	Scenario   string  `json:"scenario"`
	Files      int     `json:"files"`
	Lost       int     `json:"lost"`
	Duplicates int     `json:"duplicates"`
	LatencyMax float64 `json:"latency_max_s"`
	Failovers  int     `json:"failovers"`
}

// WriteJSON writes rows as an indented JSON array, the format of the
// command's -json output and of the golden file.
func WriteJSON(w io.Writer, rows []Row) error {
	if rows == nil {
		rows = []Row{}
	}
	b, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return fmt.Errorf("sim: encode rows: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("sim: write json: %w", err)
	}
	return nil
}

// WriteTable writes rows as an aligned text table.
func WriteTable(w io.Writer, rows []Row) error {
	// Numbers align right, names left: pad the names to their column's width.
	pw, sw := len("policy"), len("scenario")
	for _, r := range rows {
		pw, sw = max(pw, len(r.Policy)), max(sw, len(r.Scenario))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\t%-*s\tfiles\tlost\tdup\tp50 s\tp99 s\tmax s\thandshakes/h\tdiscovery/h\tfailovers\t\n", pw, "policy", sw, "scenario")
	for _, r := range rows {
		fmt.Fprintf(tw, "%-*s\t%-*s\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.2f\t%.1f\t%d\t\n",
			pw, r.Policy, sw, r.Scenario, r.Files, r.Lost, r.Duplicates,
			r.LatencyP50, r.LatencyP99, r.LatencyMax,
			r.HandshakesPerActiveHour, r.DiscoveryPerActiveHour, r.Failovers)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("sim: write table: %w", err)
	}
	// Multi-server rows: one line per game server under the table.
	for _, r := range rows {
		for _, s := range r.Servers {
			if _, err := fmt.Fprintf(w, "  %s/%s server %s (%s): files=%d lost=%d dup=%d max=%.1fs failovers=%d\n",
				r.Policy, r.Scenario, s.Server, s.Scenario, s.Files, s.Lost, s.Duplicates, s.LatencyMax, s.Failovers); err != nil {
				return fmt.Errorf("sim: write table: %w", err)
			}
		}
	}
	return nil
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted, or 0 for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(len(sorted), rank))
	return sorted[rank-1]
}

// latencyStats fills the latency columns of r from lat.
func (r *Row) latencyStats(lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r.LatencyP50 = round(percentile(lat, 50).Seconds(), 1)
	r.LatencyP99 = round(percentile(lat, 99).Seconds(), 1)
	r.LatencyMax = round(percentile(lat, 100).Seconds(), 1)
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// perHour divides n by the active hours, rounded to two decimals.
func perHour(n int, active time.Duration) float64 {
	if active <= 0 {
		return 0
	}
	return round(float64(n)/active.Hours(), 2)
}

// String formats a row on one line, for test failures.
func (r Row) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s files=%d lost=%d dup=%d p50=%.1fs p99=%.1fs max=%.1fs hs/h=%.2f disc/h=%.1f failovers=%d",
		r.Policy, r.Scenario, r.Files, r.Lost, r.Duplicates, r.LatencyP50, r.LatencyP99, r.LatencyMax,
		r.HandshakesPerActiveHour, r.DiscoveryPerActiveHour, r.Failovers)
	for _, s := range r.Servers {
		fmt.Fprintf(&b, " [%s %s files=%d lost=%d dup=%d failovers=%d]", s.Server, s.Scenario, s.Files, s.Lost, s.Duplicates, s.Failovers)
	}
	return b.String()
}
