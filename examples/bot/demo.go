package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/roundfeed/roundfeed/examples/bot/internal/demo"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dur := fs.Duration("for", 2*time.Minute, "how long the game night runs, in real time")
	speed := fs.Float64("speed", 60, "how much faster than real time the game clock runs (60: a second is a game minute)")
	db := fs.String("db", "", "SQLite file to keep (default: a temporary file, removed at the end)")
	asJSON := fs.Bool("json", false, "print only the summary, as one JSON object, on stdout (the console goes to stderr)")
	logFile := fs.String("log", "", "write the components' logs (slog JSON) to this file")
	seed := fs.Uint64("seed", 1, "seed of the simulated rounds")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *dur <= 0 || *speed <= 0 {
		fmt.Fprintln(stderr, "bot demo: -for and -speed must be positive")
		return errUsage
	}
	console := stdout
	if *asJSON {
		console = stderr
	}
	opts := demo.Options{For: *dur, Speed: *speed, DBPath: *db, Console: console, Seed: *seed}
	if *logFile != "" {
		f, err := os.Create(*logFile)
		if err != nil {
			return fmt.Errorf("log file: %w", err)
		}
		defer f.Close()
		opts.Logger = slog.New(slog.NewJSONHandler(f, nil))
	}
	sum, err := demo.Run(ctx, opts)
	if err != nil {
		return err
	}
	if *asJSON {
		b, _ := json.Marshal(sum)
		fmt.Fprintln(stdout, string(b))
	} else {
		fmt.Fprintf(stdout, "\nsummary: %d files written in %d rounds (%d game minutes); %d imported, %d quarantined, %d lost, %d duplicates;\n"+
			"         %d failovers, %d recoveries; %d Discord posts; %d SSH handshakes, %d SFTP requests\n",
			sum.Files, sum.Rounds, sum.GameMinutes, sum.Processed, sum.Quarantined, sum.Lost, sum.Duplicates,
			sum.Failovers, sum.Recoveries, sum.Posts, sum.SSHHandshakes, sum.SFTPRequests)
	}
	if !sum.OK() {
		return exitError{code: 1, msg: fmt.Sprintf("bot demo: FAILED: %d lost, %d duplicates", sum.Lost, sum.Duplicates)}
	}
	return nil
}
