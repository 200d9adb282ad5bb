package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestJSONKeys checks the -json output: an array of rows with exactly the
// documented keys, filtered by -policy and -scenario.
func TestJSONKeys(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if err := run([]string{"-seed", "3", "-nights", "1", "-json", "-policy", "roundfeed,both", "-scenario", "healthy"}, noEnv, &out, &errOut); err != nil {
		t.Fatalf("run: %v (stderr %s)", err, errOut.String())
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("output is not a JSON array: %v\n%s", err, out.String())
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2 (two policies, one scenario)", len(rows))
	}
	want := []string{"policy", "scenario", "files", "lost", "duplicates", "latency_p50_s", "latency_p99_s",
		"latency_max_s", "ssh_handshakes_per_active_hour", "discovery_requests_per_active_hour", "failovers"}
	slices.Sort(want)
	for _, r := range rows {
		var keys []string
		for k := range r {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, want) {
			t.Errorf("keys %v, want exactly %v", keys, want)
		}
		if r["scenario"] != "healthy" {
			t.Errorf("scenario %v, want healthy", r["scenario"])
		}
	}
	if rows[0]["policy"] != "both" || rows[1]["policy"] != "roundfeed" {
		t.Errorf("policies %v, %v: want table order both, roundfeed", rows[0]["policy"], rows[1]["policy"])
	}
}

// TestSameSeedSameOutput runs the command twice.
func TestSameSeedSameOutput(t *testing.T) {
	t.Parallel()
	var a, b bytes.Buffer
	args := []string{"-seed", "9", "-nights", "1", "-scenario", "flapping,bot-restart"}
	if err := run(args, noEnv, &a, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if err := run(args, noEnv, &b, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Errorf("two runs differ:\n%s\n%s", a.String(), b.String())
	}
	if lines := strings.Count(a.String(), "\n"); lines != 7 {
		t.Errorf("%d lines, want a header and 6 rows:\n%s", lines, a.String())
	}
}

func TestBadArguments(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"-policy", "nope,both,worse"}, []string{`unknown policy "nope"`, `unknown policy "worse"`}},
		{[]string{"-scenario", "meteor"}, []string{`unknown scenario "meteor"`}},
		{[]string{"-nights", "0"}, []string{"nights 0"}},
		{[]string{"extra"}, []string{`unexpected argument "extra"`}},
	} {
		err := run(c.args, noEnv, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil {
			t.Errorf("%v: no error", c.args)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not say %q", c.args, err, w)
			}
		}
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run([]string{"-list"}, noEnv, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"policy   roundfeed", "scenario dead-hours"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("-list output lacks %q:\n%s", w, out.String())
		}
	}
}

// TestVerbose logs events with virtual time.
func TestVerbose(t *testing.T) {
	t.Parallel()
	var out, log bytes.Buffer
	if err := run([]string{"-v", "-policy", "roundfeed", "-scenario", "notifier-crash"}, noEnv, &out, &log); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`msg="missed by push"`, "msg=transition", `at="01-15 `, "policy=roundfeed"} {
		if !strings.Contains(log.String(), w) {
			t.Errorf("log lacks %q", w)
		}
	}
	if strings.Contains(log.String(), " time=") || strings.HasPrefix(log.String(), "time=") {
		t.Errorf("log carries wall-clock time")
	}
}

func noEnv(string) (string, bool) { return "", false }

// TestEnv configures the machine and the schedule from the bot's variables.
func TestEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PROBE_INTERVAL": "30"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	args := []string{"-json", "-policy", "roundfeed", "-scenario", "healthy"}
	var def, tuned bytes.Buffer
	if err := run(args, lookup, &def, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if err := run(append(args, "-env"), lookup, &tuned, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var a, b []struct {
		Discovery float64 `json:"discovery_requests_per_active_hour"`
	}
	if err := json.Unmarshal(def.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(tuned.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	if len(a) != 1 || len(b) != 1 || b[0].Discovery <= a[0].Discovery {
		t.Errorf("probing every 30 s should cost more than every 60 s: %s vs %s", def.String(), tuned.String())
	}
	env = map[string]string{"WEBHOOK_HEARTBEAT_TIMEOUT": "soon", "PROBE_INTERVAL": "-5"}
	err := run(append(args, "-env"), lookup, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil {
		t.Fatal("bad variables accepted")
	}
	for _, w := range []string{"WEBHOOK_HEARTBEAT_TIMEOUT", "PROBE_INTERVAL"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %s", err, w)
		}
	}
}

// TestMultiServer: the multi-server scenario lists each server under the
// table, in the JSON rows' "servers" and in -v's server field; only the
// crashed server fails over.
func TestMultiServer(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	args := []string{"-seed", "2", "-policy", "roundfeed", "-scenario", "multi-server-crash", "-v"}
	if err := run(args, noEnv, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"roundfeed/multi-server-crash server alpha (notifier-crash):",
		"roundfeed/multi-server-crash server bravo (healthy): ",
		"roundfeed/multi-server-crash server charlie (healthy): ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "(healthy):") && !strings.HasSuffix(line, "failovers=0") {
			t.Errorf("healthy server failed over: %s", line)
		}
	}
	if !strings.Contains(errOut.String(), "server=alpha") || !strings.Contains(errOut.String(), "server=charlie") {
		t.Error("-v lines carry no server field")
	}
	out.Reset()
	if err := run([]string{"-seed", "2", "-policy", "roundfeed", "-scenario", "multi-server-crash", "-json"}, noEnv, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Failovers int `json:"failovers"`
		Servers   []struct {
			Server    string `json:"server"`
			Failovers int    `json:"failovers"`
			Lost      int    `json:"lost"`
		} `json:"servers"`
	}
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil || len(rows) != 1 || len(rows[0].Servers) != 3 {
		t.Fatalf("json: %v\n%s", err, out.String())
	}
	s := rows[0].Servers
	if s[0].Server != "alpha" || s[0].Failovers < 1 || s[1].Failovers != 0 || s[2].Failovers != 0 || rows[0].Failovers != s[0].Failovers {
		t.Errorf("servers %+v", s)
	}
}
