// Package pgtest gives tests a real PostgreSQL server and a fresh database
// per test.
//
// When the environment variable ROUNDFEED_PG_URL is set (a URL of a server
// where the user may CREATE DATABASE, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable), that server
// is used. Otherwise the first test that asks starts a private server: it
// finds initdb and pg_ctl (on PATH, else under /usr/lib/postgresql/*/bin),
// creates a data folder in the temp dir, and starts postgres on a free
// loopback port with no Unix socket. PostgreSQL refuses to run as root, so
// as root the server runs as the "postgres" user (runuser) and the data
// folder is given to it. Main stops the server and removes its folder when
// the package's tests end:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// Tests call DB or URL. When PostgreSQL is not installed they skip with a
// message saying so, except when the environment variable CI is "true":
// then they fail, so that CI cannot pass without running them.
//
// The core of the package does not import testing: it takes the small TB
// interface, which *testing.T and *testing.B satisfy.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// EnvURL names the variable holding an existing server's URL.
const EnvURL = "ROUNDFEED_PG_URL"

// ErrNotInstalled is returned by Start when no server URL is given and no
// PostgreSQL binaries are found.
var ErrNotInstalled = errors.New("pgtest: PostgreSQL is not installed (initdb and pg_ctl not found; apt-get install -y postgresql, or set " + EnvURL + ")")

// TB is the part of testing.TB the helpers use.
type TB interface {
	Helper()
	Skip(args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Server is a PostgreSQL server for tests.
type Server struct {
	// URL connects to the server's "postgres" database as a user that may
	// create databases.
	URL string

	dir    string   // the private server's folder ("" for EnvURL)
	asUser []string // command prefix to run as the postgres user, if root
	pgCtl  string
}

// Start returns the server of EnvURL, or starts a private one.
func Start(ctx context.Context) (*Server, error) {
	if u := os.Getenv(EnvURL); u != "" {
		return &Server{URL: u}, nil
	}
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	s := &Server{pgCtl: filepath.Join(bin, "pg_ctl")}
	if os.Geteuid() == 0 {
		s.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	s.dir, err = os.MkdirTemp("", "roundfeed-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if err := s.start(ctx, bin); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context, bin string) error {
	data := filepath.Join(s.dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if s.asUser != nil {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("pgtest: running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{s.dir, data} {
			if err := os.Chown(p, uid, gid); err != nil {
				return fmt.Errorf("pgtest: %w", err)
			}
		}
	}
	if out, err := s.run(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	var last error
	for range 3 { // the free port can be taken between the probe and the start
		port, err := freePort()
		if err != nil {
			return err
		}
		// synchronous_commit=off: like SQLite's synchronous=NORMAL, a crash
		// of the machine may lose the last commits, never consistency.
		opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c synchronous_commit=off -c max_connections=200", port)
		out, err := s.run(ctx, s.pgCtl, "-D", data, "-o", opts, "-l", filepath.Join(s.dir, "log"), "-w", "-t", "60", "start")
		if err == nil {
			s.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
			return nil
		}
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		last = fmt.Errorf("pgtest: pg_ctl start: %w\n%s\n%s", err, out, log)
	}
	return last
}

func (s *Server) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	argv := append(append(append([]string{}, s.asUser...), name), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

// Stop stops a private server and removes its folder; for EnvURL's server
// it does nothing.
func (s *Server) Stop() error {
	if s.dir == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := s.run(ctx, s.pgCtl, "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	rmErr := os.RemoveAll(s.dir)
	if err != nil {
		return fmt.Errorf("pgtest: pg_ctl stop: %w\n%s", err, out)
	}
	return rmErr
}

// CreateDatabase creates a database with a fresh name and returns its URL
// and a function that drops it.
func (s *Server) CreateDatabase(ctx context.Context) (string, func() error, error) {
	admin, err := sql.Open("pgx", s.URL)
	if err != nil {
		return "", nil, fmt.Errorf("pgtest: %w", err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "roundfeed_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("pgtest: create database: %w", err)
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("pgtest: server URL: %w", err)
	}
	u.Path = "/" + name
	drop := func() error {
		defer admin.Close()
		_, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		return err
	}
	return u.String(), drop, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// findBin returns the folder holding initdb and pg_ctl.
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

var (
	mu     sync.Mutex
	shared *Server
	// startErr is remembered: a server that failed to start is not tried
	// again by every test.
	startErr error
)

// Shared returns the package's server, starting it on first use.
func Shared(ctx context.Context) (*Server, error) {
	mu.Lock()
	defer mu.Unlock()
	if shared == nil && startErr == nil {
		shared, startErr = Start(ctx)
	}
	return shared, startErr
}

// Main runs the tests of m and then stops the shared server, if one was
// started. Call it from TestMain.
func Main(m interface{ Run() int }) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		shared = nil
	}
	return code
}

// Required reports whether PostgreSQL tests must run (CI=true): a missing
// server is then a failure, not a skip.
func Required() bool {
	return strings.EqualFold(os.Getenv("CI"), "true")
}

// URL returns the URL of a fresh database on the shared server, dropped
// when tb ends. It skips tb (fails it when Required) when PostgreSQL is not
// available.
func URL(tb TB) string {
	tb.Helper()
	ctx := context.Background()
	s, err := Shared(ctx)
	if err != nil {
		if errors.Is(err, ErrNotInstalled) && !Required() {
			tb.Skip(err.Error() + " (CI=true makes this a failure)")
		}
		tb.Fatal(err)
	}
	u, drop, err := s.CreateDatabase(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Fatalf("pgtest: drop database: %v", err)
		}
	})
	return u
}

// DB opens a fresh database (see URL) with the "pgx" driver, closed when tb
// ends.
func DB(tb TB) *sql.DB {
	tb.Helper()
	db, err := sql.Open("pgx", URL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
