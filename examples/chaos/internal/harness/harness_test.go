package harness

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/ingest"
)

// envWorker makes the test binary a worker: TestMain runs WorkerMain on
// the config file it names.
const envWorker = "ROUNDFEED_CHAOS_WORKER"

func TestMain(m *testing.M) {
	if path := os.Getenv(envWorker); path != "" {
		os.Exit(WorkerMain(path))
	}
	os.Exit(m.Run())
}

func testOptions(t *testing.T) Options {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		Command: func(path string) *exec.Cmd {
			cmd := exec.Command(self, "-test.run=^$")
			cmd.Env = append(os.Environ(), envWorker+"="+path)
			return cmd
		},
		TempDir: t.TempDir(),
	}
}

// TestChaos runs three schedules end to end (the CLI runs 20 in CI and
// 1,000 in long mode): every file stored once and posted once.
func TestChaos(t *testing.T) {
	opts := testOptions(t)
	for _, seed := range []uint64{101, 102, 103} {
		res, err := Run(context.Background(), opts, seed)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if !res.OK() {
			t.Errorf("seed %d (reproduce: go run ./examples/chaos -seed %d -runs 1 -v): %d problems:\n%s",
				seed, seed, len(res.Problems), strings.Join(res.Problems, "\n"))
		}
		if res.Kills < 2 || res.Workers != res.Kills+1 {
			t.Errorf("seed %d: %d kills, %d workers: want at least the planned kill and the end-of-run kill, one worker more", seed, res.Kills, res.Workers)
		}
		t.Logf("seed %d: %d files, %d kills, %d mid-read cuts, %d nonce replays, drain %v, %v",
			seed, res.Files, res.Kills, res.MidReadCuts, res.Replays, res.Drain, res.Elapsed)
	}
}

// TestCheckCatches proves the check is not vacuous: a run whose database is
// changed after the drain (a stored file lost, a post queued twice, a post
// never sent, a file left failed) must fail with those findings. (A file
// imported twice cannot be faked: rounds and endstats are UNIQUE per file.)
func TestCheckCatches(t *testing.T) {
	cases := []struct {
		name   string
		tamper string
		want   string
	}{
		{"awards file lost", `DELETE FROM endstats WHERE id = (SELECT MIN(id) FROM endstats)`, "stored 0 times"},
		{"post queued twice",
			`INSERT INTO outbox (server, file_name, kind, nonce, payload, created_ms) SELECT server, file_name, kind, nonce || 'x', payload, created_ms FROM outbox LIMIT 1`,
			"2 outbox rows"},
		{"post never sent", `UPDATE outbox SET message_id = '' WHERE id = (SELECT MIN(id) FROM outbox)`, "outbox holds message id \"\""},
		{"file not done", `UPDATE processed_files SET state = 'failed' WHERE rowid = (SELECT MIN(rowid) FROM processed_files)`, "state failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := testOptions(t)
			opts.tamper = func(db *sql.DB) error {
				_, err := db.Exec(c.tamper)
				return err
			}
			res, err := Run(context.Background(), opts, 7)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK() {
				t.Fatalf("check passed after %q", c.tamper)
			}
			if !strings.Contains(strings.Join(res.Problems, "\n"), c.want) {
				t.Errorf("problems %q do not mention %q", res.Problems, c.want)
			}
		})
	}
}

func TestPlanIsDrawnFromTheSeed(t *testing.T) {
	day := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	a, b := NewPlan(42, day, 1), NewPlan(42, day, 1)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two plans from seed 42 differ")
	}
	if c := NewPlan(43, day, 1); reflect.DeepEqual(a.Actions, c.Actions) {
		t.Fatal("seeds 42 and 43 drew the same schedule")
	}
	// Over many seeds every fault kind appears, every run has a kill, and
	// no message precedes its file.
	seen := map[string]bool{}
	for s := range uint64(200) {
		p := NewPlan(s, day, 1)
		if p.FaultCounts()["kill"] == 0 {
			t.Errorf("seed %d: no kill", s)
		}
		for k := range p.FaultCounts() {
			seen[k] = true
		}
		written := map[int]time.Duration{}
		for _, a := range p.Actions {
			switch a.Kind {
			case ActWrite:
				written[a.File] = a.At
			case ActMessage:
				if w, ok := written[a.File]; !ok || a.At < w {
					t.Errorf("seed %d: message for file %d at %v before its write", s, a.File, a.At)
				}
			}
		}
	}
	for _, k := range []string{"ssh-cut", "ssh-cut-mid-read", "ssh-restart", "ssh-stall", "sqlite-busy", "kill",
		"discord-outage", "discord-lost-reply", "twin-worker", "archive-unwritable", "webhook-drop", "webhook-dup", "webhook-delay", "webhook-reorder", "webhook-rate-limit"} {
		if !seen[k] {
			t.Errorf("no plan of 200 has fault %s", k)
		}
	}
}

// TestDiscordReplayClassification: a nonce posted again by the worker that
// got its reply is an outbox row sent twice; by another worker (the first
// was killed before recording the ID) it is the window the nonce covers.
func TestDiscordReplayClassification(t *testing.T) {
	d := &discord{msgs: map[string]*message{}}
	post := func(worker, nonce string) string {
		body, _ := json.Marshal(PostRequest{Nonce: nonce, EnforceNonce: true, Post: ingest.Post{Kind: ingest.PostRound, File: "f.txt"}})
		req := httptest.NewRequest(http.MethodPost, "/channels/1/messages", bytes.NewReader(body))
		req.Header.Set(WorkerHeader, worker)
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		var r PostReply
		json.NewDecoder(rec.Body).Decode(&r)
		return r.ID
	}
	first := post("1", "rabc")
	if again := post("2", "rabc"); again != first {
		t.Fatalf("nonce replay made message %s, want the first %s", again, first)
	}
	msgs, replays, probs := d.snapshot()
	if len(msgs) != 1 || replays != [2]int{1, 0} || len(probs) != 0 {
		t.Fatalf("after a replay by a later worker: %d messages, %d replays, problems %q", len(msgs), replays, probs)
	}
	post("2", "rabc")
	if _, _, probs := d.snapshot(); len(probs) != 1 || !strings.Contains(probs[0], "sent twice") {
		t.Fatalf("replay by the worker that had the reply: problems %q", probs)
	}
	d.outage(time.Now().Add(time.Hour))
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"nonce":"rdef","enforce_nonce":true}`))
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("during an outage: status %d", rec.Code)
	}
}
