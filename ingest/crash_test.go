package ingest_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/store"
	"github.com/roundfeed/roundfeed/tracker"
)

// The crash test's child process is this test binary re-run with
// -test.run=TestCrashChild and these variables set.
const (
	envChild = "ROUNDFEED_CRASH_CHILD" // the work folder
	envRun   = "ROUNDFEED_CRASH_RUN"   // restart number: the clock jumps an hour per restart
)

// crashMatches is the number of matches the crash test imports: four files
// each (R1, R2 and their endstats).
func crashMatches() int {
	if raceEnabled {
		return 12
	}
	return 40
}

// fileSends is a Publisher that appends each nonce it "posts" to a file, so
// the parent can count sends across killed children.
type fileSends struct {
	mu sync.Mutex
	f  *os.File
}

func (p *fileSends) Publish(_ context.Context, nonce string, _ ingest.Post) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.f.WriteString(nonce + "\n"); err != nil {
		return "", err
	}
	return "m-" + nonce, nil
}

// TestCrashChild is the child of TestCrash: it imports every file of the
// work folder's "server" folder and exits when all are done and posted. It
// does nothing unless started by TestCrash.
func TestCrashChild(t *testing.T) {
	work := os.Getenv(envChild)
	if work == "" {
		return // not a child: TestCrash runs it
	}
	run, _ := strconv.Atoi(os.Getenv(envRun))
	offset := time.Duration(run) * time.Hour // every earlier lease and retry time has passed
	now := func() time.Time { return time.Now().Add(offset) }

	db, err := store.Open(filepath.Join(work, "roundfeed.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := ingest.DefaultConfig()
	cfg.ArchiveDir = filepath.Join(work, "archive")
	cfg.RetryEvery = 20 * time.Millisecond
	tr, err := tracker.NewSQL(db, cfg.TrackerConfig(now), tracker.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.New(db, tr)
	if err != nil {
		t.Fatal(err)
	}
	sends, err := os.OpenFile(filepath.Join(work, "sends"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	scfg := ingest.DefaultSenderConfig()
	scfg.PollEvery = 20 * time.Millisecond
	snd, err := ingest.NewSender(scfg, st, &fileSends{f: sends}, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(work, "server")
	p, err := ingest.New(cfg, ingest.Deps{Tracker: tr, Store: st, Notify: snd.Notify, Now: now,
		Fetchers: map[string]source.Fetcher{"main": ingest.DirFetcher{Dir: dir}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { p.Run(ctx) })
	wg.Go(func() { snd.Run(ctx, time.Second) })
	fmt.Println("ready")

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	vias := []source.Via{source.ViaWebhook, source.ViaPoll, source.ViaProbe}
	for i, e := range entries {
		ev := event(t, e.Name(), vias[i%3])
		if err := p.Submit(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		counts, err := st.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b, err := st.OutboxBacklog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts[tracker.StateDone] == len(entries) && b.Pending == 0 {
			cancel()
			wg.Wait()
			fmt.Println("done")
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	counts, _ := st.Counts(context.Background())
	b, _ := st.OutboxBacklog(context.Background())
	var stuck []string
	for _, state := range []tracker.State{tracker.StatePending, tracker.StateClaimed, tracker.StateFailed, tracker.StateQuarantined} {
		recs, _ := tr.List(context.Background(), state, 5)
		for _, r := range recs {
			stuck = append(stuck, fmt.Sprintf("%s %s attempts %d retry %v lease %v err %q", r.Name, r.State, r.Attempts, r.RetryAt, r.LeaseUntil, r.LastError))
		}
	}
	t.Fatalf("child: not done within 30 s: counts %v of %d, outbox %+v, now %v, stuck:\n%s", counts, len(entries), b, now(), strings.Join(stuck, "\n"))
}

// TestCrash imports 160 files (48 under the race detector) in a child process killed with SIGKILL at
// random moments (seeded; at least 20 kills), restarts it, and proves at the
// end: every file imported exactly once, every post queued exactly once and
// sent, no claim left, every R2 paired, the archive intact.
func TestCrash(t *testing.T) {
	if os.Getenv(envChild) != "" {
		return
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ROUNDFEED_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (ROUNDFEED_CRASH_SEED=%d reproduces the kill schedule)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 2))

	work := t.TempDir()
	dir := filepath.Join(work, "server")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := genMatches(t, dir, seed, time.Now().Add(-30*time.Hour).Truncate(time.Second), crashMatches(), 12, true)

	start := func(run int) (*exec.Cmd, *bufio.Scanner) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envChild+"="+work, envRun+"="+strconv.Itoa(run))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, bufio.NewScanner(out)
	}
	waitLine := func(sc *bufio.Scanner, want string) bool {
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == want {
				return true
			}
		}
		return false
	}

	kills, run := 0, 0
	for kills < 20 {
		cmd, sc := start(run)
		run++
		if !waitLine(sc, "ready") {
			cmd.Wait()
			t.Fatalf("run %d: child exited before ready", run)
		}
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		kills++
	}
	cmd, sc := start(run)
	finished := waitLine(sc, "ready") && waitLine(sc, "done")
	if err := cmd.Wait(); err != nil || !finished {
		t.Fatalf("final run: %v (finished %v)", err, finished)
	}
	t.Logf("%d kills, %d runs", kills, run+1)

	db, err := sql.Open("sqlite", store.DSN(filepath.Join(work, "roundfeed.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	verifyExactlyOnce(t, db, files, crashMatches(), kills, filepath.Join(work, "sends"), []string{filepath.Join(work, "archive")})
}

// verifyExactlyOnce checks, after a crash test, every file imported exactly
// once (tracker, rounds, endstats, player rows), every R2 paired, every post
// queued once and sent, at most one repeated send per kill (a kill between
// a publish and the record of its message ID; the nonce makes Discord
// return the first message), and each file's bytes in one of the archives.
func verifyExactlyOnce(t *testing.T, db *sql.DB, files []genFile, matches, kills int, sendsPath string, archives []string) {
	t.Helper()
	count := func(q string) int {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	stats, ends := 0, 0
	for _, f := range files {
		if strings.HasSuffix(f.name, "-endstats.txt") {
			ends++
		} else {
			stats++
		}
	}
	checks := []struct {
		what string
		q    string
		want int
	}{
		{"files done", `SELECT COUNT(*) FROM processed_files WHERE state = 'done'`, len(files)},
		{"files not done (claims left, pending, failed)", `SELECT COUNT(*) FROM processed_files WHERE state <> 'done'`, 0},
		{"rounds", `SELECT COUNT(*) FROM rounds`, stats},
		{"distinct rounds", `SELECT COUNT(DISTINCT file_name) FROM rounds`, stats},
		{"endstats", `SELECT COUNT(*) FROM endstats`, ends},
		{"round 2 paired", `SELECT COUNT(*) FROM rounds WHERE r2_status = 'differential'`, matches},
		{"outbox rows", `SELECT COUNT(*) FROM outbox`, len(files)},
		{"distinct outbox files", `SELECT COUNT(DISTINCT file_name || kind) FROM outbox`, len(files)},
		{"posts sent", `SELECT COUNT(*) FROM outbox WHERE message_id <> ''`, len(files)},
		{"rows per raw player", `SELECT COUNT(*) FROM player_stats WHERE kind = 'raw'`, stats * 12},
	}
	for _, c := range checks {
		if got := count(c.q); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}
	raw, err := os.ReadFile(sendsPath)
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string]int{}
	for _, n := range strings.Fields(string(raw)) {
		sent[n]++
	}
	dups := 0
	for _, f := range files {
		kind := ingest.PostRound
		if strings.HasSuffix(f.name, "-endstats.txt") {
			kind = ingest.PostAwards
		}
		n := sent[ingest.Nonce("main", f.name, kind)]
		if n == 0 {
			t.Errorf("%s: never posted", f.name)
		}
		dups += max(0, n-1)
	}
	if len(sent) != len(files) || dups > kills {
		t.Errorf("%d nonces sent for %d files, %d repeated sends for %d kills", len(sent), len(files), dups, kills)
	}
	t.Logf("repeated sends (kill between publish and record): %d", dups)
	for _, f := range files {
		ok := false
		for _, a := range archives {
			if got, err := os.ReadFile(filepath.Join(a, "main", f.name)); err == nil {
				if string(got) != string(f.data) {
					t.Errorf("archive %s: %d bytes differ from the %d of the file", filepath.Join(a, f.name), len(got), len(f.data))
				}
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s: in no archive", f.name)
		}
	}
}
