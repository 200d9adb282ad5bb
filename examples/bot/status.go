package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/roundfeed/roundfeed/examples/bot/internal/app"
	"github.com/roundfeed/roundfeed/examples/bot/internal/config"
	"github.com/roundfeed/roundfeed/failover"
	"github.com/roundfeed/roundfeed/store"
	"github.com/roundfeed/roundfeed/tracker"
)

// statusReport is what the status command prints (-json: as this object).
type statusReport struct {
	DB string `json:"db"`
	// Failover is the first server's ("main" for a single-server bot).
	Failover statusFailover `json:"failover"`
	// Servers holds every server's failover state, in name order (the
	// servers of the configuration file and those the events name).
	Servers []statusFailover `json:"servers"`
	Files   map[string]int   `json:"files"`
	// Quarantined lists quarantined files with their last error.
	Quarantined []statusFile `json:"quarantined"`
	Outbox      statusOutbox `json:"outbox"`
	// LastFile is the most recently imported file.
	LastFile *statusFile `json:"last_file,omitempty"`
}

type statusFailover struct {
	Server string `json:"server"`
	// Mode is the mode after the last stored transition ("polling" or
	// "webhook"); a restarted bot starts in polling until push proves healthy.
	Mode              string    `json:"mode"`
	LastTransition    time.Time `json:"last_transition,omitzero"`
	LastReason        string    `json:"last_reason,omitempty"`
	Failovers         int       `json:"failovers"`
	Recoveries        int       `json:"recoveries"`
	MeanTimeToRecover string    `json:"mean_time_to_recover,omitempty"`
	TimeWebhook       string    `json:"time_webhook"`
	TimePolling       string    `json:"time_polling"`
	Alerts            int       `json:"alerts"`
}

type statusFile struct {
	Name      string    `json:"name"`
	Via       string    `json:"via,omitempty"`
	Attempts  int       `json:"attempts,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	At        time.Time `json:"at,omitzero"`
}

type statusOutbox struct {
	Pending int       `json:"pending"`
	GivenUp int       `json:"given_up"`
	Sent    int       `json:"sent"`
	Oldest  time.Time `json:"oldest_pending,omitzero"`
}

func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envFile := fs.String("env", ".env", "optional file of KEY=VALUE settings (for DB_PATH)")
	configFile := fs.String("config", "", "TOML configuration file (for db_path and the server names; default $"+config.EnvConfigFile+", else ./"+config.DefaultConfigFile+" if present)")
	dbPath := fs.String("db", "", "SQLite file (default DB_PATH or db_path, else roundfeed.db)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	cfg, _, cerr := loadConfig(*envFile, *configFile, 0)
	if errors.Is(cerr, config.ErrFile) {
		return cerr
	}
	dbURL := cfg.DBURL.Reveal()
	if *dbPath == "" {
		*dbPath = cfg.DBPath
	} else {
		dbURL = "" // an explicit SQLite file
	}
	var names []string
	for _, s := range cfg.Servers {
		names = append(names, s.Name)
	}
	rep, err := readStatusURL(ctx, *dbPath, dbURL, names...)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printStatus(stdout, rep)
	return nil
}

// readStatus reads the SQLite database at path; servers are the
// configured servers' names (the events add any other).
func readStatus(ctx context.Context, path string, servers ...string) (statusReport, error) {
	return readStatusURL(ctx, path, "", servers...)
}

// readStatusURL is readStatus on PostgreSQL when dbURL is set (the
// snapshots are still read beside path).
func readStatusURL(ctx context.Context, path, dbURL string, servers ...string) (statusReport, error) {
	if dbURL == "" {
		if _, err := os.Stat(path); err != nil {
			return statusReport{}, fmt.Errorf("database %s: %w", path, err)
		}
	}
	db, dialect, err := store.OpenURL(ctx, dbURL, path)
	if err != nil {
		return statusReport{}, err
	}
	defer db.Close()
	tr, err := tracker.NewSQL(db, tracker.DefaultConfig(), dialect)
	if err != nil {
		return statusReport{}, err
	}
	st, err := store.New(db, tr)
	if err != nil {
		return statusReport{}, err
	}
	rep := statusReport{DB: path, Files: map[string]int{}, Quarantined: []statusFile{}}
	counts, err := st.Counts(ctx)
	if err != nil {
		return rep, err
	}
	for _, s := range tracker.States {
		rep.Files[string(s)] = counts[s]
	}
	q, err := st.Quarantined(ctx, 100)
	if err != nil {
		return rep, err
	}
	for _, r := range q {
		rep.Quarantined = append(rep.Quarantined, statusFile{Name: r.Name, Via: r.Via, Attempts: r.Attempts, LastError: r.LastError, At: r.Updated})
	}
	b, err := st.OutboxBacklog(ctx)
	if err != nil {
		return rep, err
	}
	rep.Outbox = statusOutbox{Pending: b.Pending, GivenUp: b.GivenUp, Sent: b.Sent, Oldest: b.Oldest}
	if r, err := st.LastProcessed(ctx, ""); err == nil {
		rep.LastFile = &statusFile{Name: r.Name, Via: r.Via, At: r.Updated}
	} else if !errors.Is(err, store.ErrNotFound) {
		return rep, err
	}

	events, err := st.FailoverEvents(ctx, 1000)
	if err != nil {
		return rep, err
	}
	byServer := map[string]*statusFailover{}
	order := slices.Clone(servers)
	get := func(name string) *statusFailover {
		f := byServer[name]
		if f == nil {
			// "polling": the safe start, before any transition.
			f = &statusFailover{Server: name, Mode: "polling"}
			byServer[name] = f
		}
		return f
	}
	for _, name := range servers {
		get(name)
	}
	for _, e := range events { // newest first
		if byServer[e.Server] == nil {
			order = append(order, e.Server)
		}
		f := get(e.Server)
		if e.Kind == "alert" {
			f.Alerts++
			continue
		}
		if f.LastTransition.IsZero() {
			f.LastTransition, f.LastReason = e.At, e.Reason
			if e.To == failover.PollingOff.String() {
				f.Mode = "webhook"
			}
		}
	}
	if len(order) == 0 {
		order = []string{config.DefaultServer}
		get(config.DefaultServer)
	}
	for _, name := range order {
		f := byServer[name]
		// Totals come from the machine's snapshot, kept beside the database.
		if b, err := os.ReadFile(app.SnapshotPath(path, name)); err == nil {
			m, err := failover.NewMachine(failover.DefaultConfig(), failover.NewManualClock(f.LastTransition))
			if err == nil && m.Restore(b) == nil {
				s := m.Status()
				f.Failovers, f.Recoveries = s.Failovers, s.Recoveries
				if s.Recoveries > 0 {
					f.MeanTimeToRecover = s.MeanTimeToRecover.Round(time.Second).String()
				}
				f.TimeWebhook = s.TimeOff.Round(time.Second).String()
				f.TimePolling = s.TimeOn.Round(time.Second).String()
			}
		}
		rep.Servers = append(rep.Servers, *f)
	}
	rep.Failover = rep.Servers[0]
	return rep, nil
}

func printStatus(w io.Writer, r statusReport) {
	fmt.Fprintf(w, "database   %s\n", r.DB)
	for _, f := range r.Servers {
		mode := "WEBHOOK primary (polling off)"
		if f.Mode == "polling" {
			mode = "SSH POLLING backup active"
		}
		if len(r.Servers) > 1 {
			fmt.Fprintf(w, "server     %s\n", f.Server)
		}
		fmt.Fprintf(w, "failover   %s", mode)
		if !f.LastTransition.IsZero() {
			fmt.Fprintf(w, " since %s (%s)", f.LastTransition.UTC().Format(time.RFC3339), f.LastReason)
		}
		fmt.Fprintf(w, "\n           failovers %d, recoveries %d, mean time to recover %s, alerts %d\n",
			f.Failovers, f.Recoveries, orDash(f.MeanTimeToRecover), f.Alerts)
		if f.TimeWebhook != "" {
			fmt.Fprintf(w, "           time in webhook mode %s, in polling mode %s\n", f.TimeWebhook, f.TimePolling)
		}
	}
	fmt.Fprintf(w, "files     ")
	for _, s := range tracker.States {
		fmt.Fprintf(w, " %s %d", s, r.Files[string(s)])
	}
	fmt.Fprintln(w)
	if r.LastFile != nil {
		fmt.Fprintf(w, "last file  %s (via %s) at %s\n", r.LastFile.Name, r.LastFile.Via, r.LastFile.At.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(w, "outbox     pending %d, given up %d, sent %d", r.Outbox.Pending, r.Outbox.GivenUp, r.Outbox.Sent)
	if !r.Outbox.Oldest.IsZero() {
		fmt.Fprintf(w, ", oldest pending %s", r.Outbox.Oldest.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "quarantine %d file(s)\n", len(r.Quarantined))
	for _, q := range r.Quarantined {
		fmt.Fprintf(w, "           %s (%d attempts): %s\n", q.Name, q.Attempts, q.LastError)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
