package harness

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/roundfeed/roundfeed/source/sftp/sftptest"
	"github.com/roundfeed/roundfeed/store"
)

// Options configure Run.
type Options struct {
	// Command returns the worker process for a config file: the chaos
	// binary's hidden "worker" subcommand, or a test binary re-run.
	Command func(configPath string) *exec.Cmd
	// TempDir is where run folders are made ("" for os.TempDir). A failed
	// run's folder (database, archive, worker logs) is kept.
	TempDir string
	// Keep keeps every run's folder.
	Keep bool
	// Verbose prints the schedule and every action to Log and makes the
	// workers log at info level into their log files.
	Verbose bool
	// Log receives the verbose output; nil discards.
	Log io.Writer
	// DrainTimeout bounds the end-of-run drain (default 30 s).
	DrainTimeout time.Duration
	// MaxAttempts is the workers' MAX_ATTEMPTS (0: DefaultMaxAttempts).
	MaxAttempts int
	// Intensity multiplies the number of random faults per run (default 1).
	Intensity int
	// Today dates the generated files (the day before it); zero means now.
	Today time.Time

	// tamper, in tests, changes the database after the drain so that the
	// check must fail.
	tamper func(db *sql.DB) error
}

// Result is one run's outcome. Problems empty means every check passed.
type Result struct {
	Seed    uint64
	Files   int
	Faults  map[string]int
	Workers int // worker processes started (kills + 2)
	Kills   int
	// Skipped counts fault actions that found nothing to act on (a kill
	// while no worker was up, a restart while the server was down) and
	// webhook messages sent while no worker was up (lost with it).
	Skipped, LostMessages int
	MidReadCuts           int64
	// Replays are re-publishes of a nonce (Discord returned the first
	// message); ReplaysAfterLostReply those whose earlier reply was lost,
	// the others came from a worker started after the one that got the
	// reply (killed before it recorded the message ID).
	Replays, ReplaysAfterLostReply int
	// MaxReplayGap is the longest time from a message's creation to a
	// re-publish of its nonce (Discord deduplicates only within minutes).
	MaxReplayGap time.Duration
	// OrphanPosts are round-2 posts made with cumulative figures (the
	// round 1 was not stored within R1_WAIT; it was linked later), and
	// UnlinkedEndstats awards stored without their round (ENDSTATS_WAIT
	// passed first). Both are allowed by the design; they measure how
	// often the faults beat the waits.
	OrphanPosts, UnlinkedEndstats int
	Elapsed, Drain                time.Duration
	Problems                      []string
	// Dir is the run's folder when kept.
	Dir string
}

// OK reports whether every check passed.
func (r Result) OK() bool { return len(r.Problems) == 0 }

// ControlChannel and WebhookID are the IDs the runs' messages carry.
const (
	ControlChannel = "1100000000000000001"
	WebhookID      = "1200000000000000002"
)

// run is one run's state.
type run struct {
	opts Options
	plan *Plan
	dir  string
	srv  *sftptest.Server
	px   *proxy
	dc   *discord
	db   *sql.DB
	base WorkerConfig
	res  *Result

	mu         sync.Mutex
	cur        *worker
	ids        int
	sshDown    bool
	archiveOff bool
}

// worker is one worker process.
type worker struct {
	id   int
	cmd  *exec.Cmd
	in   io.WriteCloser
	done chan error
}

func (w *worker) send(line []byte) error {
	_, err := w.in.Write(line)
	return err
}

func (w *worker) kill() {
	w.cmd.Process.Signal(syscall.SIGKILL)
	<-w.done
}

// stop asks the worker to finish (SIGTERM) and kills it after grace.
func (w *worker) stop(grace time.Duration) error {
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-w.done:
		return err
	case <-time.After(grace):
		w.cmd.Process.Signal(syscall.SIGKILL)
		<-w.done
		return fmt.Errorf("did not stop within %v after SIGTERM", grace)
	}
}

// Run executes the schedule drawn from seed against a fresh database, SSH
// server and Discord stand-in, drains, and checks. The error is a harness
// failure (a worker that would not start); broken invariants are
// Result.Problems.
func Run(ctx context.Context, opts Options, seed uint64) (res Result, err error) {
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = 30 * time.Second
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Today.IsZero() {
		opts.Today = time.Now()
	}
	start := time.Now()
	plan := NewPlan(seed, opts.Today, opts.Intensity)
	res = Result{Seed: seed, Files: len(plan.Files), Faults: plan.FaultCounts()}
	if opts.Verbose {
		fmt.Fprint(opts.Log, plan.String())
	}
	dir, err := os.MkdirTemp(opts.TempDir, fmt.Sprintf("chaos-%d-", seed))
	if err != nil {
		return res, fmt.Errorf("chaos: %w", err)
	}
	r := &run{opts: opts, plan: plan, dir: dir, res: &res}
	defer func() {
		r.close()
		res.Elapsed = time.Since(start)
		if opts.Keep || err != nil || len(res.Problems) > 0 {
			res.Dir = dir
			return
		}
		os.RemoveAll(dir)
	}()
	if err := r.setup(); err != nil {
		return res, err
	}
	if err := r.execute(ctx); err != nil {
		return res, err
	}
	if err := r.drain(ctx); err != nil {
		return res, err
	}
	if opts.tamper != nil {
		if err := opts.tamper(r.db); err != nil {
			return res, fmt.Errorf("chaos: tamper: %w", err)
		}
	}
	res.Problems = append(res.Problems, r.check()...)
	res.MidReadCuts = r.px.cuts.Load()
	return res, nil
}

func (r *run) setup() error {
	folder := filepath.Join(r.dir, "server")
	if err := os.Mkdir(folder, 0o755); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	if err := os.Mkdir(filepath.Join(r.dir, "keys"), 0o700); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	var err error
	r.srv, err = sftptest.NewServer(sftptest.Options{Dir: folder, KeyDir: filepath.Join(r.dir, "keys")})
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	r.px, err = newProxy(r.srv.Addr)
	if err != nil {
		return fmt.Errorf("chaos: proxy: %w", err)
	}
	r.dc, err = newDiscord()
	if err != nil {
		return fmt.Errorf("chaos: discord: %w", err)
	}
	dbPath := filepath.Join(r.dir, "roundfeed.db")
	// The parent creates the schema, so workers never race on migrations,
	// and keeps the connection for the busy fault and the checks.
	if r.db, err = store.Open(dbPath); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	r.base = WorkerConfig{
		DB: dbPath, ArchiveDir: filepath.Join(r.dir, "archive"),
		SSHHost: "127.0.0.1", SSHPort: r.px.addr().Port, SSHUser: r.srv.User(),
		KeyPath: r.srv.ClientKeyPath(), HostKey: r.srv.HostKeyLine(),
		DiscordURL:     r.dc.url(),
		ControlChannel: ControlChannel, WebhookID: WebhookID,
		FileRate: r.plan.FileRate, MaxAttempts: r.opts.MaxAttempts, Verbose: r.opts.Verbose,
	}
	return nil
}

func (r *run) close() {
	r.mu.Lock()
	w := r.cur
	r.cur = nil
	r.mu.Unlock()
	if w != nil {
		w.kill()
	}
	if r.db != nil {
		r.db.Close()
	}
	if r.dc != nil {
		r.dc.close()
	}
	if r.px != nil {
		r.px.close()
	}
	if r.srv != nil {
		r.srv.Close()
	}
}

// start starts a worker and waits for its ready line.
func (r *run) start(drain bool) (*worker, error) {
	r.mu.Lock()
	r.ids++
	id := r.ids
	r.res.Workers++
	r.mu.Unlock()
	cfg := r.base
	cfg.ID, cfg.Drain = id, drain
	path := filepath.Join(r.dir, fmt.Sprintf("worker-%d.json", id))
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	logf, err := os.Create(filepath.Join(r.dir, fmt.Sprintf("worker-%d.log", id)))
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	defer logf.Close() // the child holds its own descriptor
	cmd := r.opts.Command(path)
	cmd.Stderr = logf
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("chaos: start worker: %w", err)
	}
	w := &worker{id: id, cmd: cmd, in: in, done: make(chan error, 1)}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if !ok && strings.TrimSpace(sc.Text()) == ReadyLine {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
		w.done <- cmd.Wait()
	}()
	select {
	case ok := <-ready:
		if ok {
			r.logf("worker %d ready (pid %d, drain %v)", id, cmd.Process.Pid, drain)
			return w, nil
		}
		err := <-w.done
		return nil, fmt.Errorf("chaos: worker %d exited before ready: %v (log %s)", id, err, logf.Name())
	case <-time.After(30 * time.Second):
		w.kill()
		return nil, fmt.Errorf("chaos: worker %d not ready within 30 s (log %s)", id, logf.Name())
	}
}

func (r *run) logf(format string, a ...any) {
	if r.opts.Verbose {
		fmt.Fprintf(r.opts.Log, "  seed %d: "+format+"\n", append([]any{r.plan.Seed}, a...)...)
	}
}

// execute plays the plan's actions at their times. Faults with a duration
// end in the background; execute returns when all have ended.
func (r *run) execute(ctx context.Context) error {
	w, err := r.start(false)
	if err != nil {
		return err
	}
	r.cur = w
	var bg sync.WaitGroup
	var bgErr error
	var errMu sync.Mutex
	t0 := time.Now()
	folder := filepath.Join(r.dir, "server")
	for _, a := range r.plan.Actions {
		if d := time.Until(t0.Add(a.At)); d > 0 {
			select {
			case <-ctx.Done():
				bg.Wait()
				return ctx.Err()
			case <-time.After(d):
			}
		}
		switch a.Kind {
		case ActWrite:
			f := r.plan.Files[a.File]
			if err := writeChunked(filepath.Join(folder, f.Name), f.Data); err != nil {
				bg.Wait()
				return fmt.Errorf("chaos: write %s: %w", f.Name, err)
			}
		case ActMessage:
			r.message(a)
		case ActCut:
			r.logf("ssh cut: %d connections", r.srv.CutConnections())
		case ActCutRead:
			r.logf("ssh cut mid-read armed for %v", a.Dur)
			r.px.armCutRead(a.Dur)
		case ActRestart:
			r.mu.Lock()
			down := r.sshDown
			r.sshDown = true
			r.mu.Unlock()
			if down {
				r.res.Skipped++
				continue
			}
			r.logf("ssh server down for %v", a.Dur)
			r.srv.Stop()
			bg.Go(func() {
				time.Sleep(a.Dur)
				if err := r.srv.Start(); err != nil {
					errMu.Lock()
					bgErr = errors.Join(bgErr, fmt.Errorf("chaos: ssh restart: %w", err))
					errMu.Unlock()
				}
				r.mu.Lock()
				r.sshDown = false
				r.mu.Unlock()
			})
		case ActStall:
			r.logf("ssh stall for %v", a.Dur)
			r.srv.Stall(true)
			bg.Go(func() { time.Sleep(a.Dur); r.srv.Stall(false) })
		case ActBusy:
			r.logf("sqlite write lock held for %v", a.Dur)
			bg.Go(func() {
				if err := r.holdWriteLock(a.Dur); err != nil {
					r.logf("sqlite busy: %v", err)
				}
			})
		case ActKill:
			r.mu.Lock()
			w := r.cur
			r.cur = nil
			r.mu.Unlock()
			if w == nil {
				r.res.Skipped++
				continue
			}
			w.kill()
			r.mu.Lock()
			r.res.Kills++
			r.mu.Unlock()
			r.logf("worker %d killed; next in %v", w.id, a.Dur)
			bg.Go(func() {
				time.Sleep(a.Dur)
				nw, err := r.start(false)
				if err != nil {
					errMu.Lock()
					bgErr = errors.Join(bgErr, err)
					errMu.Unlock()
					return
				}
				r.mu.Lock()
				r.cur = nw
				r.mu.Unlock()
			})
		case ActTwin:
			bg.Go(func() {
				tw, err := r.start(false)
				if err != nil {
					errMu.Lock()
					bgErr = errors.Join(bgErr, err)
					errMu.Unlock()
					return
				}
				r.logf("twin worker %d runs for %v", tw.id, a.Dur)
				time.Sleep(a.Dur)
				tw.kill()
				r.mu.Lock()
				r.res.Kills++
				r.mu.Unlock()
			})
		case ActArchive:
			r.mu.Lock()
			busy := r.archiveOff
			r.archiveOff = true
			r.mu.Unlock()
			if busy {
				r.res.Skipped++
				continue
			}
			r.logf("archive unwritable for %v", a.Dur)
			restore, err := r.archiveUnwritable()
			if err != nil {
				bg.Wait()
				return err
			}
			bg.Go(func() {
				time.Sleep(a.Dur)
				if err := restore(); err != nil {
					errMu.Lock()
					bgErr = errors.Join(bgErr, err)
					errMu.Unlock()
				}
				r.mu.Lock()
				r.archiveOff = false
				r.mu.Unlock()
			})
		case ActOutage:
			r.logf("discord outage for %v", a.Dur)
			r.dc.outage(time.Now().Add(a.Dur))
		case ActLostReply:
			r.logf("discord loses the next %d replies", a.N)
			r.dc.loseNext(a.N)
		}
	}
	bg.Wait()
	return bgErr
}

// writeChunked writes data as a game server does: the file exists, then
// grows, then is complete.
func writeChunked(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	half := len(data) / 2
	if _, err := f.Write(data[:half]); err != nil {
		f.Close()
		return err
	}
	time.Sleep(2 * time.Millisecond)
	if _, err := f.Write(data[half:]); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// message sends one webhook message, as the gateway would deliver it, to
// the current worker; with no worker up it is lost (a gateway outage).
func (r *run) message(a Action) {
	f := r.plan.Files[a.File]
	m := &discordgo.Message{
		ID: a.MsgID, ChannelID: ControlChannel, WebhookID: WebhookID,
		Author:    &discordgo.User{ID: WebhookID, Username: WebhookUsername, Bot: true},
		Content:   "📊 `" + f.Name + "`",
		Timestamp: time.Now(),
	}
	line, err := json.Marshal(m)
	if err != nil {
		panic(err) // a Message always marshals
	}
	line = append(line, '\n')
	r.mu.Lock()
	w := r.cur
	r.mu.Unlock()
	if w == nil || w.send(line) != nil {
		r.res.LostMessages++
		r.logf("message %s for %s lost: no worker", a.MsgID, f.Name)
	}
}

// archiveUnwritable makes the worker's archive folder unwritable, as a full
// disk would (a permission change would not stop root): the server's
// folder is moved aside and a plain file takes its name, so creating a
// file in it fails and reading an archived copy finds none (the pipeline
// then fetches from the server). restore puts the folder back.
func (r *run) archiveUnwritable() (restore func() error, err error) {
	dir := filepath.Join(r.base.ArchiveDir, Server)
	aside := dir + ".aside"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("chaos: archive: %w", err)
	}
	if err := os.Rename(dir, aside); err != nil {
		return nil, fmt.Errorf("chaos: archive: %w", err)
	}
	if err := os.WriteFile(dir, []byte("disk full\n"), 0o444); err != nil {
		return nil, fmt.Errorf("chaos: archive: %w", err)
	}
	return func() error {
		if err := os.Remove(dir); err != nil {
			return fmt.Errorf("chaos: archive restore: %w", err)
		}
		// A worker may create the folder again between the Remove and the
		// Rename; what it archived there moves into the folder put back.
		var err error
		for range 20 {
			if err = os.Rename(aside, dir); err == nil {
				return nil
			}
			entries, rerr := os.ReadDir(dir)
			if rerr != nil {
				continue
			}
			for _, e := range entries {
				os.Rename(filepath.Join(dir, e.Name()), filepath.Join(aside, e.Name()))
			}
			os.Remove(dir)
		}
		return fmt.Errorf("chaos: archive restore: %w", err)
	}, nil
}

// holdWriteLock takes SQLite's write lock from a second connection (an
// immediate transaction) and holds it for d: every worker write waits on
// the busy timeout meanwhile.
func (r *run) holdWriteLock(d time.Duration) error {
	ctx := context.Background()
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil) // _txlock=immediate: the write lock now
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE processed_files SET updated_ms = updated_ms WHERE 0`); err != nil {
		return err
	}
	time.Sleep(d)
	return nil
}

// drain heals every fault, kills the chaos worker and runs a clean worker
// with polling always on until every file is done and posted, or the
// deadline passes.
func (r *run) drain(ctx context.Context) error {
	r.srv.Stall(false)
	if err := r.srv.Start(); err != nil {
		return fmt.Errorf("chaos: ssh start: %w", err)
	}
	r.px.armedUntil.Store(0)
	r.dc.healthy()
	r.mu.Lock()
	w := r.cur
	r.cur = nil
	r.mu.Unlock()
	if w != nil {
		w.kill()
		r.res.Kills++
	}
	t0 := time.Now()
	w, err := r.start(true)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.cur = w
	r.mu.Unlock()
	deadline := time.Now().Add(r.opts.DrainTimeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if r.settled() {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.res.Drain = time.Since(t0)
	r.mu.Lock()
	r.cur = nil
	r.mu.Unlock()
	if err := w.stop(10 * time.Second); err != nil {
		r.res.Problems = append(r.res.Problems, fmt.Sprintf("drain worker %d: %v", w.id, err))
	}
	return ctx.Err()
}

// settled reports whether every file is done and every post sent.
func (r *run) settled() bool {
	var done, unsent, rows int
	err := r.db.QueryRow(`SELECT
		(SELECT COUNT(*) FROM processed_files WHERE state = 'done'),
		(SELECT COUNT(*) FROM outbox WHERE message_id = ''),
		(SELECT COUNT(*) FROM outbox)`).Scan(&done, &unsent, &rows)
	return err == nil && done >= len(r.plan.Files) && rows >= len(r.plan.Files) && unsent == 0
}
