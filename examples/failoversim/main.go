// Command failoversim compares roundfeed's polling policies on simulated game
// nights with faults. It runs each policy (both, proposal, roundfeed) on each
// scenario on a virtual clock and prints a table, or JSON with -json.
//
//	go run ./examples/failoversim -seed 1 -nights 3
//	go run ./examples/failoversim -json -policy roundfeed -scenario notifier-crash
//
// The same seed always prints the same output. With -env the machine and
// schedule read the bot's environment variables, to try a configuration
// before deploying it:
//
//	PROBE_INTERVAL=30 WEBHOOK_HEARTBEAT_TIMEOUT=1800 go run ./examples/failoversim -env -nights 3
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/failover/sim"
)

func main() {
	if err := run(os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "failoversim:", err)
		}
		os.Exit(2)
	}
}

// run is the command; lookup reads the environment (os.LookupEnv).
func run(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("failoversim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "random seed; the same seed gives the same output")
	nights := fs.Int("nights", 1, "game nights to simulate (20:00-01:00 each)")
	asJSON := fs.Bool("json", false, "print a JSON array of rows instead of a table")
	policies := fs.String("policy", "", "comma-separated policies to run (default all: "+joinNames(sim.Policies(), policyName)+")")
	scenarios := fs.String("scenario", "", "comma-separated scenarios to run (default all: "+joinNames(sim.Scenarios(), scenarioName)+")")
	list := fs.Bool("list", false, "describe the policies and scenarios and exit")
	folder := fs.Int("folder", sim.DefaultFolderFiles, "files already in the stats folder (sets the cost of a listing)")
	env := fs.Bool("env", false, "configure the machine and schedule from the bot's environment variables (SMART_FAILOVER_ENABLED, WEBHOOK_*, POLL_*, PROBE_INTERVAL, ANTI_ENTROPY_INTERVAL)")
	verbose := fs.Bool("v", false, "log every event of every run to stderr (virtual time in the at field)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *list {
		for _, p := range sim.Policies() {
			fmt.Fprintf(stdout, "policy   %-18s %s\n", p.Name, p.Doc)
		}
		for _, s := range sim.Scenarios() {
			fmt.Fprintf(stdout, "scenario %-18s %s\n", s.Name, s.Doc)
		}
		return nil
	}
	ps, err := pick("policy", *policies, sim.Policies(), policyName)
	if err != nil {
		return err
	}
	ss, err := pick("scenario", *scenarios, sim.Scenarios(), scenarioName)
	if err != nil {
		return err
	}
	o := sim.Options{Seed: *seed, Nights: *nights, FolderFiles: *folder}
	if *env {
		mc, merr := failover.ConfigFromEnv(lookup)
		sc, serr := failover.ScheduleConfigFromEnv(lookup)
		if err := errors.Join(merr, serr); err != nil {
			return err
		}
		o.Machine, o.Schedule = &mc, &sc
	}
	if *verbose {
		o.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{ReplaceAttr: dropTime}))
	}
	rows, err := sim.Table(ps, ss, o)
	if err != nil {
		return err
	}
	if *asJSON {
		return sim.WriteJSON(stdout, rows)
	}
	return sim.WriteTable(stdout, rows)
}

// dropTime removes the wall-clock time from log lines: only virtual time
// (the at field) means anything in a simulation.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

func policyName(p sim.Policy) string      { return p.Name }
func scenarioName(sc sim.Scenario) string { return sc.Name }

// pick returns the items of all named in list (comma-separated), in table
// order; empty means all. An unknown name is an error naming the flag.
func pick[T any](flag, list string, all []T, name func(T) string) ([]T, error) {
	if list == "" {
		return all, nil
	}
	known := map[string]bool{}
	for _, it := range all {
		known[name(it)] = true
	}
	want := map[string]bool{}
	var errs []error
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if !known[n] {
			errs = append(errs, fmt.Errorf("-%s: unknown %s %q (have %s)", flag, flag, n, joinNames(all, name)))
		}
		want[n] = true
	}
	var out []T
	for _, it := range all {
		if want[name(it)] {
			out = append(out, it)
		}
	}
	return out, errors.Join(errs...)
}

// joinNames lists the names of all, comma-separated.
func joinNames[T any](all []T, name func(T) string) string {
	n := make([]string, 0, len(all))
	for _, it := range all {
		n = append(n, name(it))
	}
	return strings.Join(n, ", ")
}
