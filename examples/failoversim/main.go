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
	policies := fs.String("policy", "", "comma-separated policies to run (default all: "+names(sim.Policies())+")")
	scenarios := fs.String("scenario", "", "comma-separated scenarios to run (default all: "+scenarioNames(sim.Scenarios())+")")
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
	ps, err := pickPolicies(*policies)
	if err != nil {
		return err
	}
	ss, err := pickScenarios(*scenarios)
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

// pickPolicies returns the policies named in list (comma-separated), in
// table order; empty means all.
func pickPolicies(list string) ([]sim.Policy, error) {
	all := sim.Policies()
	if list == "" {
		return all, nil
	}
	want := map[string]bool{}
	var errs []error
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if _, ok := sim.PolicyByName(n); !ok {
			errs = append(errs, fmt.Errorf("-policy: unknown policy %q (have %s)", n, names(all)))
		}
		want[n] = true
	}
	var out []sim.Policy
	for _, p := range all {
		if want[p.Name] {
			out = append(out, p)
		}
	}
	return out, errors.Join(errs...)
}

// pickScenarios returns the scenarios named in list (comma-separated), in
// table order; empty means all.
func pickScenarios(list string) ([]sim.Scenario, error) {
	all := sim.Scenarios()
	if list == "" {
		return all, nil
	}
	want := map[string]bool{}
	var errs []error
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if _, ok := sim.ScenarioByName(n); !ok {
			errs = append(errs, fmt.Errorf("-scenario: unknown scenario %q (have %s)", n, scenarioNames(all)))
		}
		want[n] = true
	}
	var out []sim.Scenario
	for _, s := range all {
		if want[s.Name] {
			out = append(out, s)
		}
	}
	return out, errors.Join(errs...)
}

func names(ps []sim.Policy) string {
	var n []string
	for _, p := range ps {
		n = append(n, p.Name)
	}
	return strings.Join(n, ", ")
}

func scenarioNames(ss []sim.Scenario) string {
	var n []string
	for _, s := range ss {
		n = append(n, s.Name)
	}
	return strings.Join(n, ", ")
}
