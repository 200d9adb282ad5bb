// Command chaos runs roundfeed's chaos harness: seeded schedules of faults
// (webhook messages dropped, duplicated, delayed and reordered; SSH
// connections cut, cut mid-read, the server restarted or stalled; SQLite
// held busy; the bot process SIGKILLed and restarted; Discord down or
// losing replies) against the real pipeline, each run ending with a check
// that every file is stored once and posted once.
//
//	go run ./examples/chaos -runs 20          # CI
//	go run ./examples/chaos -runs 1000        # long mode
//	go run ./examples/chaos -seed S -runs 1 -v   # replay a failing seed
//
// The bot side runs in child processes: this binary's hidden "worker"
// subcommand. See package examples/chaos/internal/harness.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/roundfeed/roundfeed/examples/chaos/internal/harness"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "worker" {
		fs := flag.NewFlagSet("worker", flag.ExitOnError)
		cfg := fs.String("config", "", "worker config file (written by the parent)")
		fs.Parse(os.Args[2:])
		os.Exit(harness.WorkerMain(*cfg))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 0, "first seed (0: derived from the time); run i uses seed+i")
	runs := fs.Int("runs", 1, "number of schedules to run")
	parallel := fs.Int("parallel", 1, "runs at once")
	verbose := fs.Bool("v", false, "print each schedule and its actions; workers log at info level")
	keep := fs.Bool("keep", false, "keep every run's folder (failed runs' folders are always kept)")
	tmp := fs.String("tmp", "", "folder for run folders (default: the system's)")
	intensity := fs.Int("intensity", 1, "multiply the number of random faults per run (a seed replays only with the same intensity)")
	maxAttempts := fs.Int("max-attempts", 0, "the workers' MAX_ATTEMPTS (0: production's default, 5)")
	drain := fs.Duration("drain-timeout", 30*time.Second, "bound on the end-of-run drain")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *runs < 1 || *parallel < 1 {
		fmt.Fprintln(stderr, "chaos: -runs and -parallel must be at least 1")
		return 2
	}
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano()%1_000_000_000) + 1
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "chaos: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := harness.Options{
		Command: func(path string) *exec.Cmd { return exec.Command(self, "worker", "-config", path) },
		TempDir: *tmp, Keep: *keep, Verbose: *verbose, Log: stdout, DrainTimeout: *drain, Intensity: *intensity, MaxAttempts: *maxAttempts,
	}
	fmt.Fprintf(stdout, "chaos: %d runs, seeds %d..%d, %d at once\n", *runs, *seed, *seed+uint64(*runs)-1, *parallel)

	var (
		mu       sync.Mutex
		failed   []uint64
		done     int
		faults   = map[string]int{}
		files    int
		kills    int
		replays  int
		lost     int
		orphans  int
		unlinked int
		cuts     int64
		longest  time.Duration
		gap      time.Duration
		longSeed uint64
		gapSeed  uint64
		harnErrs int
	)
	start := time.Now()
	seeds := make(chan uint64)
	var wg sync.WaitGroup
	for range *parallel {
		wg.Go(func() {
			for s := range seeds {
				res, err := harness.Run(ctx, opts, s)
				mu.Lock()
				done++
				for k, v := range res.Faults {
					faults[k] += v
				}
				files += res.Files
				kills += res.Kills
				replays += res.Replays
				lost += res.ReplaysAfterLostReply
				orphans += res.OrphanPosts
				unlinked += res.UnlinkedEndstats
				cuts += res.MidReadCuts
				if res.Elapsed > longest {
					longest, longSeed = res.Elapsed, s
				}
				if res.MaxReplayGap > gap {
					gap, gapSeed = res.MaxReplayGap, s
				}
				switch {
				case err != nil && ctx.Err() == nil:
					harnErrs++
					failed = append(failed, s)
					fmt.Fprintf(stdout, "ERROR seed %d: %v (folder %s)\n", s, err, res.Dir)
				case err == nil && !res.OK():
					failed = append(failed, s)
					fmt.Fprintf(stdout, "FAIL seed %d (%d files, %d kills; folder %s):\n", s, res.Files, res.Kills, res.Dir)
					for _, p := range res.Problems {
						fmt.Fprintf(stdout, "    %s\n", p)
					}
					repro := ""
					if *intensity > 1 {
						repro = fmt.Sprintf(" -intensity %d", *intensity)
					}
					if *maxAttempts > 0 {
						repro += fmt.Sprintf(" -max-attempts %d", *maxAttempts)
					}
					fmt.Fprintf(stdout, "  reproduce: go run ./examples/chaos -seed %d -runs 1 -v%s\n", s, repro)
				case err == nil && (*verbose || *runs <= 50):
					fmt.Fprintf(stdout, "ok   seed %d: %d files, %d workers, %d kills, %d mid-read cuts, %d nonce replays (gap %v), %d lost messages, drain %v, %v\n",
						s, res.Files, res.Workers, res.Kills, res.MidReadCuts, res.Replays, res.MaxReplayGap.Round(time.Millisecond), res.LostMessages,
						res.Drain.Round(time.Millisecond), res.Elapsed.Round(time.Millisecond))
				}
				if *runs > 50 && done%50 == 0 {
					fmt.Fprintf(stdout, "chaos: %d/%d runs, %d failed, %v\n", done, *runs, len(failed), time.Since(start).Round(time.Second))
				}
				mu.Unlock()
			}
		})
	}
feed:
	for i := range *runs {
		select {
		case seeds <- *seed + uint64(i):
		case <-ctx.Done():
			break feed
		}
	}
	close(seeds)
	wg.Wait()

	keys := slices.Collect(maps.Keys(faults))
	sort.Strings(keys)
	var fl []string
	for _, k := range keys {
		fl = append(fl, fmt.Sprintf("%s %d", k, faults[k]))
	}
	fmt.Fprintf(stdout, "chaos: %d runs in %v (longest %v, seed %d): %d files, %d kills, %d mid-read cuts, %d nonce replays (%d after a lost reply, %d by a later worker; longest gap after the first post %v, seed %d); faults: %s\n",
		done, time.Since(start).Round(time.Millisecond), longest.Round(time.Millisecond), longSeed, files, kills, cuts, replays, lost, replays-lost,
		gap.Round(time.Millisecond), gapSeed, strings.Join(fl, ", "))
	fmt.Fprintf(stdout, "chaos: allowed by design: %d round-2 posts with cumulative figures (round 1 late), %d awards stored unlinked (round late)\n", orphans, unlinked)
	if ctx.Err() != nil {
		fmt.Fprintf(stdout, "chaos: interrupted after %d of %d runs\n", done, *runs)
	}
	if len(failed) > 0 {
		slices.Sort(failed)
		fmt.Fprintf(stdout, "chaos: %d FAILED (%d harness errors): seeds %v\n", len(failed), harnErrs, failed)
		return 1
	}
	if ctx.Err() != nil {
		return 1
	}
	fmt.Fprintln(stdout, "chaos: all runs passed")
	return 0
}
