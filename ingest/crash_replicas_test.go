package ingest_test

import (
	"bufio"
	"context"
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
	"github.com/roundfeed/roundfeed/store/pgtest"
	"github.com/roundfeed/roundfeed/tracker"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// The replica test's children are this test binary re-run with
// -test.run=TestReplicaChild and these variables set.
const (
	envReplica   = "ROUNDFEED_REPLICA_WORK" // the work folder
	envReplicaDB = "ROUNDFEED_REPLICA_DB"   // the PostgreSQL URL
	envReplicaID = "ROUNDFEED_REPLICA_ID"   // "a" or "b": its archive folder
	// EnvReplicaFiles sets the replica test's file count (a multiple of 4:
	// R1, R2 and their endstats per match). Default 200 (48 under -race);
	// the proof is 1,000.
	envReplicaFiles = "ROUNDFEED_CRASH_FILES"
)

func replicaFiles(t *testing.T) int {
	n := 200
	if raceEnabled {
		n = 48
	}
	if s := os.Getenv(envReplicaFiles); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 4 {
			t.Fatalf("%s=%q: want a number of files >= 4", envReplicaFiles, s)
		}
		n = v
	}
	return n / 4 * 4
}

// TestReplicaChild is one replica of TestReplicasPostgres: a bot's pipeline
// and sender on the shared PostgreSQL database, submitting every file of
// the work folder's "server" folder twice (as the webhook and as a poll
// would), in its own random order. It prints "ready" once running and
// "done" when every file is done and posted, then exits. It does nothing
// unless started by TestReplicasPostgres.
func TestReplicaChild(t *testing.T) {
	work := os.Getenv(envReplica)
	if work == "" {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, d, err := store.OpenURL(ctx, os.Getenv(envReplicaDB), "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := ingest.DefaultConfig()
	cfg.ArchiveDir = filepath.Join(work, "archive-"+os.Getenv(envReplicaID))
	// A short lease: a killed replica's files go to the other within 2 s
	// of real time (no clock jumps here: both replicas share the clock).
	cfg.Lease = 2 * time.Second
	cfg.RetryEvery = 20 * time.Millisecond
	cfg.RetryBase, cfg.RetryMax = 50*time.Millisecond, time.Second
	cfg.DeferMin, cfg.DeferMax = 20*time.Millisecond, 200*time.Millisecond
	tr, err := tracker.NewSQL(db, cfg.TrackerConfig(nil), d)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.NewWith(db, tr, store.Options{OutboxLease: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sends, err := os.OpenFile(filepath.Join(work, "sends"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	scfg := ingest.DefaultSenderConfig()
	scfg.PollEvery = 20 * time.Millisecond
	scfg.Base, scfg.Max = 20*time.Millisecond, 200*time.Millisecond
	snd, err := ingest.NewSender(scfg, st, &fileSends{f: sends}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(work, "server")
	p, err := ingest.New(cfg, ingest.Deps{Tracker: tr, Store: st, Notify: snd.Notify,
		Fetchers: map[string]source.Fetcher{"main": ingest.DirFetcher{Dir: dir}}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { p.Run(ctx) })
	wg.Go(func() { snd.Run(ctx, time.Second) })
	fmt.Println("ready")

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var evs []source.Event
	for _, e := range entries {
		evs = append(evs, event(t, e.Name(), source.ViaWebhook), event(t, e.Name(), source.ViaPoll))
	}
	rand.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	go func() {
		for _, ev := range evs {
			if err := p.Submit(ctx, ev); err != nil {
				return // shutting down
			}
		}
	}()
	deadline := time.Now().Add(30*time.Second + time.Duration(len(entries))*50*time.Millisecond)
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
		time.Sleep(10 * time.Millisecond)
	}
	counts, _ := st.Counts(context.Background())
	b, _ := st.OutboxBacklog(context.Background())
	t.Fatalf("replica %s: not done in time: counts %v of %d, outbox %+v", os.Getenv(envReplicaID), counts, len(entries), b)
}

// TestReplicasPostgres is the exactly-once proof for two bot replicas on
// one PostgreSQL database: two child processes import the same folder
// (every file named by both paths, in each replica's own order) while the
// parent SIGKILLs one or the other at random moments (seeded; at least 20
// kills) and restarts it. At the end: every file imported exactly once, in
// the database and in the outbox, every post sent, every R2 paired and
// every endstats linked. ROUNDFEED_CRASH_FILES sets the file count
// (default 200; the figure is 1,000).
func TestReplicasPostgres(t *testing.T) {
	if os.Getenv(envReplica) != "" {
		return
	}
	dbURL := pgtest.URL(t)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ROUNDFEED_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	n := replicaFiles(t)
	t.Logf("seed %d (ROUNDFEED_CRASH_SEED reproduces the kill schedule), %d files", seed, n)
	rng := rand.New(rand.NewPCG(seed, 3))

	work := t.TempDir()
	dir := filepath.Join(work, "server")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	matches := n / 4
	files := genMatches(t, dir, seed, time.Now().Add(-time.Duration(matches+2)*30*time.Minute).Truncate(time.Second), matches, 12, true)

	// Migrate once here, so that the children race on the data, not the schema.
	db, _, err := store.OpenURL(context.Background(), dbURL, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	type child struct {
		cmd   *exec.Cmd
		lines chan string
	}
	start := func(id string) *child {
		cmd := exec.Command(os.Args[0], "-test.run=^TestReplicaChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envReplica+"="+work, envReplicaDB+"="+dbURL, envReplicaID+"="+id)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c := &child{cmd: cmd, lines: make(chan string, 16)}
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				c.lines <- strings.TrimSpace(sc.Text())
			}
			close(c.lines)
		}()
		return c
	}
	wait := func(c *child, want string) bool {
		for l := range c.lines {
			if l == want {
				return true
			}
		}
		return false
	}
	ids := []string{"a", "b"}
	kids := []*child{start("a"), start("b")}
	for i, c := range kids {
		if !wait(c, "ready") {
			t.Fatalf("replica %s exited before ready", ids[i])
		}
	}
	kills, t0 := 0, time.Now()
	for kills < 20 {
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		i := rng.IntN(2)
		kids[i].cmd.Process.Signal(syscall.SIGKILL)
		kids[i].cmd.Wait()
		kills++
		kids[i] = start(ids[i])
		if !wait(kids[i], "ready") {
			t.Fatalf("replica %s exited before ready after kill %d", ids[i], kills)
		}
	}
	for i, c := range kids {
		finished := wait(c, "done")
		if err := c.cmd.Wait(); err != nil || !finished {
			t.Fatalf("replica %s: %v (finished %v)", ids[i], err, finished)
		}
	}
	t.Logf("%d files, %d kills, %v", n, kills, time.Since(t0).Round(time.Millisecond))

	verifyExactlyOnce(t, db, files, matches, kills, filepath.Join(work, "sends"),
		[]string{filepath.Join(work, "archive-a"), filepath.Join(work, "archive-b")})
	var linked int
	if err := db.QueryRow(`SELECT COUNT(*) FROM endstats WHERE round_id IS NOT NULL`).Scan(&linked); err != nil || linked != 2*matches {
		t.Errorf("endstats linked: %d, %v; want %d", linked, err, 2*matches)
	}
}
