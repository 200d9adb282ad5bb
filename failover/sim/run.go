package sim

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/roundfeed/roundfeed/failover"
)

// ErrBadOptions is returned (wrapped) by Run, RunOptions and Table for
// options out of range.
var ErrBadOptions = errors.New("sim: bad options")

// DefaultFolderFiles is how many files the stats folder holds, all already
// imported, when a run starts, unless Options.FolderFiles says otherwise.
// It sets the cost of a listing (one readdir per 100 entries).
const DefaultFolderFiles = 200

// Options are a run's parameters beyond the policy and the scenario.
type Options struct {
	// Seed picks the nights and the faults. The same options always give
	// the same rows.
	Seed uint64
	// Nights is how many game nights to play, at least 1. A run starts at
	// 18:00 on the first night and drains until 12:00 after the last.
	Nights int
	// FolderFiles is how many files are already in the stats folder; 0
	// means DefaultFolderFiles.
	FolderFiles int
	// Machine and Schedule replace failover.DefaultConfig and
	// failover.DefaultScheduleConfig (nil keeps the defaults). Policies
	// still impose what defines them: "both" runs with smart failover
	// disabled, "proposal" without probes, anti-entropy and
	// HeartbeatQuietOK (the design's heartbeat). The schedule's
	// Zone is always UTC, the clock the script is written in.
	Machine  *failover.Config
	Schedule *failover.ScheduleConfig
	// Log receives every event of the run (files written, webhook
	// messages, listings, imports, transitions), each with its virtual
	// time in the "at" field. Nil discards.
	Log *slog.Logger
}

// Validate reports every problem of o at once, or nil.
func (o Options) Validate() error {
	var errs []error
	if o.Nights < 1 {
		errs = append(errs, fmt.Errorf("%w: nights %d: must be at least 1", ErrBadOptions, o.Nights))
	}
	if o.FolderFiles < 0 {
		errs = append(errs, fmt.Errorf("%w: folder files %d: must not be negative", ErrBadOptions, o.FolderFiles))
	}
	return errors.Join(errs...)
}

// Run plays nights game nights of scenario under policy with the given seed
// and returns the row of the table. The same arguments always give the
// same row.
func Run(p Policy, sc Scenario, seed uint64, nights int) (Row, error) {
	return RunOptions(p, sc, Options{Seed: seed, Nights: nights})
}

// RunOptions is Run with every option.
func RunOptions(p Policy, sc Scenario, o Options) (Row, error) {
	if err := o.Validate(); err != nil {
		return Row{}, err
	}
	if o.FolderFiles == 0 {
		o.FolderFiles = DefaultFolderFiles
	}
	if len(sc.servers) > 0 {
		return runServers(p, sc, o)
	}
	w, err := newWorld(p, sc, o)
	if err != nil {
		return Row{}, fmt.Errorf("sim: %s/%s: %w", p.Name, sc.Name, err)
	}
	if err := w.run(); err != nil {
		return Row{}, fmt.Errorf("sim: %s/%s: %w", p.Name, sc.Name, err)
	}
	return w.row(), nil
}

// Table runs every policy on every scenario and returns the rows
// scenario-major: the policies of one scenario are adjacent.
func Table(policies []Policy, scenarios []Scenario, o Options) ([]Row, error) {
	rows := make([]Row, 0, len(policies)*len(scenarios))
	for _, sc := range scenarios {
		for _, p := range policies {
			po := o
			if o.Log != nil {
				po.Log = o.Log.With("policy", p.Name, "scenario", sc.Name)
			}
			r, err := RunOptions(p, sc, po)
			if err != nil {
				return nil, err
			}
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// runServers plays a multi-server scenario: one independent world per game
// server (its own script, folder, notifier, SSH connection, Machine and
// schedule), as one bot with one Machine per server runs them. Server i
// plays its scenario with seed o.Seed*1000003+i, so the servers' nights
// differ but the run stays a function of the options. The row adds the
// servers' counts (files, lost, duplicates, failovers, and the SSH costs,
// since each server has its own connection), takes the latencies over every
// file, and lists each server in Servers.
func runServers(p Policy, sc Scenario, o Options) (Row, error) {
	r := Row{Policy: p.Name, Scenario: sc.Name}
	var lat []time.Duration
	for i, plan := range sc.servers {
		sub, ok := ScenarioByName(plan.Scenario)
		if !ok || len(sub.servers) > 0 {
			return Row{}, fmt.Errorf("%w: %s: server %s: unknown single-server scenario %q", ErrBadOptions, sc.Name, plan.Name, plan.Scenario)
		}
		so := o
		so.Seed = o.Seed*1000003 + uint64(i)
		if o.Log != nil {
			so.Log = o.Log.With("server", plan.Name)
		}
		w, err := newWorld(p, sub, so)
		if err != nil {
			return Row{}, fmt.Errorf("sim: %s/%s/%s: %w", p.Name, sc.Name, plan.Name, err)
		}
		if err := w.run(); err != nil {
			return Row{}, fmt.Errorf("sim: %s/%s/%s: %w", p.Name, sc.Name, plan.Name, err)
		}
		wr := w.row()
		lat = append(lat, w.latencies()...)
		r.Files += wr.Files
		r.Lost += wr.Lost
		r.Duplicates += wr.Duplicates
		r.Failovers += wr.Failovers
		r.HandshakesPerActiveHour = round(r.HandshakesPerActiveHour+wr.HandshakesPerActiveHour, 2)
		r.DiscoveryPerActiveHour = round(r.DiscoveryPerActiveHour+wr.DiscoveryPerActiveHour, 2)
		r.Servers = append(r.Servers, ServerRow{Server: plan.Name, Scenario: plan.Scenario, Files: wr.Files,
			Lost: wr.Lost, Duplicates: wr.Duplicates, LatencyMax: wr.LatencyMax, Failovers: wr.Failovers})
	}
	r.latencyStats(lat)
	return r, nil
}
