// Command bot is roundfeed's reference Discord bot. It imports every
// ET:Legacy stats file exactly once into SQLite and posts each round to a
// Discord channel, with the game server's webhook as the primary path and
// SSH/SFTP polling as the backup.
//
//	bot run [-config roundfeed.toml] [-env .env] [-check-config]
//	                                      the bot (one game server from the environment, or several from the file)
//	bot status [-config f] [-db roundfeed.db] [-json]
//	                                      what the database says: failover per server, files by state, quarantine, outbox
//	bot backfill [-config f] [-server name] [-dir folder] [-post] [-json]
//	                                      import every file of a server's stats folder (or a local folder), whatever its age
//	bot demo [-for 2m] [-speed 60] [-db file] [-json]
//	                                      the whole system on this machine, no Discord or game server needed
//
// Configuration is read from roundfeed.toml (-config, ROUNDFEED_CONFIG, or
// ./roundfeed.toml when present; see roundfeed.example.toml) or, without a
// file, from the environment and an optional .env file; see
// README-section.md for every variable and key.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// errUsage asks main to exit with status 2 (bad command line).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: bot <command> [flags]

commands:
  run       run the bot (Discord, webhook trigger, SFTP polling, publisher, /health) for one or more game servers
  status    show failover state per server, files by state, quarantine and outbox backlog from the database
  backfill  import every stats file of a server's stats folder over SFTP (or -dir), whatever its age
  demo      run the whole system locally with a simulated game server and Discord

run "bot <command> -h" for the flags of a command.
`

// run dispatches a command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(ctx, args[1:], stdout, stderr)
	case "status":
		err = cmdStatus(ctx, args[1:], stdout, stderr)
	case "backfill":
		err = cmdBackfill(ctx, args[1:], stdout, stderr)
	case "demo":
		err = cmdDemo(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "bot: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var ex exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &ex):
		if ex.msg != "" {
			fmt.Fprintln(stderr, ex.msg)
		}
		return ex.code
	default:
		fmt.Fprintf(stderr, "bot %s: %v\n", args[0], err)
		return 1
	}
}

// exitError ends a command with a given status, after it printed its output.
type exitError struct {
	code int
	msg  string
}

// Error describes the exit.
func (e exitError) Error() string { return fmt.Sprintf("exit %d: %s", e.code, e.msg) }
