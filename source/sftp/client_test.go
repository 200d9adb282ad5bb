package sftp

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/roundfeed/roundfeed/internal/testutil"
	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
	"github.com/roundfeed/roundfeed/source/sftp/sftptest"
)

const (
	nameA = "2026-01-15-222119-te_escape2-round-1.txt"
	nameB = "2026-01-15-223502-te_escape2-round-2.txt"
	nameC = "2026-01-15-223502-te_escape2-round-2-endstats.txt"
)

// server is one of the two real servers, seen the same way by the tests.
type server struct {
	kind      string
	statsDir  string // local path of the stats folder
	remoteDir string // the same folder as the client names it
	host      string
	port      int
	user      string
	hostKey   string
	known     string
	keyPath   string
	restart   func() error
	cut       func() int
	inproc    *sftptest.Server // nil for OpenSSH
	stall     func(bool)
	env       map[string]string
}

var serverKinds = []string{"inprocess", "openssh"}

func startServer(t testing.TB, kind string) *server {
	t.Helper()
	root := t.TempDir()
	stats := filepath.Join(root, "stats")
	if err := os.Mkdir(stats, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &server{kind: kind, statsDir: stats}
	switch kind {
	case "inprocess":
		is := sftptest.Start(t, root)
		s.remoteDir, s.inproc = "/stats", is
		s.host, s.port, s.user = is.Host(), is.Port(), is.User()
		s.hostKey, s.known, s.keyPath = is.HostKeyLine(), is.KnownHostsPath(), is.ClientKeyPath()
		s.restart, s.cut, s.stall = is.Restart, is.CutConnections, is.Stall
		s.env = is.Env(s.remoteDir)
	case "openssh":
		o := sftptest.StartOpenSSH(t, root)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("sshd log:\n%s", o.Log())
			}
		})
		s.remoteDir = stats
		s.host, s.port, s.user = o.Host(), o.Port(), o.User()
		s.hostKey, s.known, s.keyPath = o.HostKeyLine(), o.KnownHostsPath(), o.ClientKeyPath()
		s.restart, s.cut, s.stall = o.Restart, o.CutConnections, o.Stall
		s.env = o.Env(s.remoteDir)
	}
	return s
}

// config returns a Client config for s checking the host key by SSH_HOST_KEY.
func (s *server) config(clk Clock) Config {
	c := DefaultConfig()
	c.Host, c.Port, c.User = s.host, s.port, s.user
	c.KeyPath, c.HostKey, c.RemoteDir = s.keyPath, s.hostKey, s.remoteDir
	c.Clock = clk
	c.Jitter = func() float64 { return 0 }
	return c
}

func (s *server) write(t *testing.T, name, data string, mtime time.Time) {
	t.Helper()
	p := filepath.Join(s.statsDir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustName(t *testing.T, s string) parser.FileName {
	t.Helper()
	fn, err := parser.ValidateName(s)
	if err != nil {
		t.Fatal(err)
	}
	return fn
}

func forEachServer(t *testing.T, f func(t *testing.T, s *server)) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f(t, startServer(t, kind))
		})
	}
}

func TestHostKeyVerification(t *testing.T) {
	t.Parallel()
	other, err := sftptest.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	forEachServer(t, func(t *testing.T, s *server) {
		addr := knownhosts.Normalize(net.JoinHostPort(s.host, itoa(s.port)))
		writeKH := func(line string) string {
			p := filepath.Join(t.TempDir(), "known_hosts")
			if err := os.WriteFile(p, []byte(line+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
		tests := []struct {
			name    string
			mod     func(*Config)
			wantErr error
		}{
			{"configured host key", func(*Config) {}, nil},
			{"known_hosts", func(c *Config) { c.HostKey, c.KnownHostsPath = "", s.known }, nil},
			{"hashed known_hosts", func(c *Config) {
				c.HostKey = ""
				c.KnownHostsPath = writeKH(knownhosts.HashHostname(addr) + " " + s.hostKey)
			}, nil},
			{"wrong host key", func(c *Config) { c.HostKey = other.AuthorizedLine() }, ErrHostKeyMismatch},
			{"wrong key in known_hosts", func(c *Config) {
				c.HostKey = ""
				c.KnownHostsPath = writeKH(knownhosts.Line([]string{addr}, other.Signer.PublicKey()))
			}, ErrHostKeyMismatch},
			{"host missing from known_hosts", func(c *Config) {
				c.HostKey = ""
				c.KnownHostsPath = writeKH(knownhosts.Line([]string{"[10.9.9.9]:22"}, other.Signer.PublicKey()))
			}, ErrUnknownHost},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				cfg := s.config(nil)
				tt.mod(&cfg)
				c := newClient(t, cfg)
				_, err := c.List(context.Background())
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("List error %v, want %v", err, tt.wantErr)
				}
				if errors.Is(err, ErrHostKeyMismatch) && !strings.Contains(err.Error(), "host key mismatch") {
					t.Fatalf("error does not say so: %v", err)
				}
			})
		}
	})
}

func TestConfigFromServerEnv(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, s *server) {
		s.write(t, nameA, "x", time.Now().Add(-time.Hour))
		for _, mod := range []func(map[string]string){
			func(map[string]string) {},
			func(e map[string]string) { e["SSH_HOST_KEY"], e["SSH_KNOWN_HOSTS"] = "", s.known },
		} {
			mod(s.env)
			cfg, err := ConfigFromEnv(env(s.env))
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(t, cfg)
			if got, err := c.List(context.Background()); err != nil || len(got) != 1 {
				t.Fatalf("List: %v, %v", got, err)
			}
		}
	})
}

func TestMissingHostKeyConfigRefused(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, s *server) {
		cfg := s.config(nil)
		cfg.HostKey = ""
		if _, err := NewClient(cfg); err == nil || !strings.Contains(err.Error(), "host key verification is mandatory") {
			t.Fatalf("NewClient without host key config: %v", err)
		}
	})
}

func TestReconnectAfterRestart(t *testing.T) {
	t.Parallel()
	old := time.Now().Add(-time.Hour)
	forEachServer(t, func(t *testing.T, s *server) {
		s.write(t, nameA, "round one", old)
		c := newClient(t, s.config(nil))
		ctx := context.Background()
		if got, err := c.List(ctx); err != nil || len(got) != 1 {
			t.Fatalf("List: %v %v", got, err)
		}
		for i, fault := range []struct {
			name string
			do   func() error
		}{
			{"restart", s.restart},
			{"cut", func() error { s.cut(); return nil }},
		} {
			if err := fault.do(); err != nil {
				t.Fatal(err)
			}
			s.write(t, []string{nameB, nameC}[i], fault.name, old)
			got, err := c.List(ctx)
			if err != nil {
				t.Fatalf("List after %s: %v", fault.name, err)
			}
			if len(got) != i+2 {
				t.Fatalf("List after %s: %d files, want %d", fault.name, len(got), i+2)
			}
			for _, e := range got {
				if _, err := c.Fetch(ctx, e.Name); err != nil {
					t.Fatalf("Fetch %s after %s: %v", e.Name, fault.name, err)
				}
			}
			if h := c.Counters().Handshakes; h != uint64(i+2) {
				t.Fatalf("handshakes %d after %s, want %d", h, fault.name, i+2)
			}
		}
	})
}

func TestFetchWaitsForCompleteFile(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, s *server) {
		clk := testutil.NewClock(time.Now().Truncate(time.Second).Add(300 * time.Millisecond))
		c := newClient(t, s.config(clk))
		ctx := context.Background()
		name := mustName(t, nameA)
		mtime := clk.Now().Truncate(time.Second)
		s.write(t, nameA, "part one\n", mtime)
		steps := []struct {
			advance time.Duration
			append  string
			wantErr error
		}{
			{0, "", source.ErrIncomplete},                      // first sight, written this second
			{500 * time.Millisecond, "", source.ErrIncomplete}, // unchanged, but only 0.5 s apart
			{0, "part two\n", source.ErrIncomplete},            // grew: the wait starts again
			{time.Second, "", nil},                             // unchanged for 1 s
		}
		for i, st := range steps {
			clk.Advance(st.advance)
			if st.append != "" {
				f, err := os.OpenFile(filepath.Join(s.statsDir, nameA), os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteString(st.append)
				f.Close()
				os.Chtimes(filepath.Join(s.statsDir, nameA), mtime, mtime) // same second
			}
			data, err := c.Fetch(ctx, name)
			if !errors.Is(err, st.wantErr) {
				t.Fatalf("step %d: Fetch error %v, want %v", i, err, st.wantErr)
			}
			if err == nil && string(data) != "part one\npart two\n" {
				t.Fatalf("step %d: Fetch = %q", i, data)
			}
		}
		// An mtime 2 s old is complete at first sight.
		s.write(t, nameB, "old", clk.Now().Add(-2*time.Second))
		if _, err := c.Fetch(ctx, mustName(t, nameB)); err != nil {
			t.Fatalf("Fetch of an old file: %v", err)
		}
		// A List counts as the first stat.
		s.write(t, nameC, "listed", mtime)
		if _, err := c.List(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
		if _, err := c.Fetch(ctx, mustName(t, nameC)); err != nil {
			t.Fatalf("Fetch 1 s after List: %v", err)
		}
	})
}

func TestProbeSameSecond(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, s *server) {
		sec := time.Now().Truncate(time.Second)
		clk := testutil.NewClock(sec.Add(300 * time.Millisecond))
		c := newClient(t, s.config(clk))
		setDir := func(mtime time.Time) {
			if err := os.Chtimes(s.statsDir, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
		setDir(sec)
		steps := []struct {
			name    string
			advance time.Duration
			create  string    // file created before the probe
			dirTime time.Time // folder mtime the server then shows
			want    bool
		}{
			{"first probe", 0, "", sec, true},
			{"file created in the same second", 500 * time.Millisecond, nameA, sec, true},
			{"one echo after the change", 2 * time.Second, "", sec, true},
			{"quiet", 2 * time.Second, "", sec, false},
			{"still quiet", time.Minute, "", sec, false},
			{"file in a later second", time.Second, nameB, sec.Add(3 * time.Second), true},
		}
		for _, st := range steps {
			clk.Advance(st.advance)
			if st.create != "" {
				s.write(t, st.create, "x", time.Time{})
			}
			setDir(st.dirTime)
			got, err := c.Probe(context.Background())
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if got != st.want {
				t.Fatalf("%s: changed = %v, want %v", st.name, got, st.want)
			}
		}
		if h := c.Counters().Handshakes; h != 1 {
			t.Fatalf("%d handshakes for six probes, want 1", h)
		}
	})
}

func TestFetchTooLargeUnread(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, s *server) {
		cfg := s.config(nil)
		cfg.MaxFileSize = 100
		c := newClient(t, cfg)
		old := time.Now().Add(-time.Hour)
		s.write(t, nameA, strings.Repeat("x", 101), old)
		s.write(t, nameB, strings.Repeat("y", 100), old)
		ctx := context.Background()
		if _, err := c.List(ctx); err != nil { // connect first, so only Fetch is counted below
			t.Fatal(err)
		}
		before := c.Counters().Requests
		_, err := c.Fetch(ctx, mustName(t, nameA))
		if !errors.Is(err, source.ErrTooLarge) {
			t.Fatalf("Fetch of 101 bytes: %v, want ErrTooLarge", err)
		}
		if n := c.Counters().Requests - before; n != 3 {
			t.Fatalf("%d requests, want 3 (open, fstat, close; no read)", n)
		}
		if c.Counters().BytesRead != 0 {
			t.Fatal("bytes counted for a refused file")
		}
		if s.inproc != nil && s.inproc.BytesServed() != 0 {
			t.Fatalf("server sent %d bytes of a refused file", s.inproc.BytesServed())
		}
		data, err := c.Fetch(ctx, mustName(t, nameB))
		if err != nil || len(data) != 100 || c.Counters().BytesRead != 100 {
			t.Fatalf("Fetch at the limit: %d bytes, %v", len(data), err)
		}
	})
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, s *server) {
		now := time.Now()
		s.write(t, nameA, "recent", now.Add(-time.Hour))
		s.write(t, nameB, "old", now.Add(-8*24*time.Hour))
		s.write(t, "2026-01-15-222119-te_escape2-round-1_ws.txt", "sidecar", now)
		s.write(t, "notes.txt", "x", now)
		s.write(t, ".2026-01-15-222119-te_escape2-round-1.txt.swp", "x", now)
		if err := os.Mkdir(filepath.Join(s.statsDir, "2026-01-15-222119-dir-round-1.txt"), 0o755); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			lookback time.Duration
			want     []string
		}{
			{7 * 24 * time.Hour, []string{nameA}},
			{0, []string{nameA, nameB}},
		}
		for _, tt := range tests {
			cfg := s.config(nil)
			cfg.Lookback = tt.lookback
			c := newClient(t, cfg)
			got, err := c.List(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range got {
				names = append(names, e.Name.Raw)
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("lookback %v: List = %v, want %v", tt.lookback, names, tt.want)
			}
			if got[0].Size != int64(len("recent")) {
				t.Fatalf("size %d", got[0].Size)
			}
			if c.Counters().SkippedNames != 3 {
				t.Fatalf("skipped %d names, want 3", c.Counters().SkippedNames)
			}
			if _, err := c.Fetch(context.Background(), mustName(t, "2026-01-15-222119-dir-round-1.txt")); !errors.Is(err, source.ErrNotFound) {
				t.Fatalf("Fetch of a folder: %v, want ErrNotFound", err)
			}
		}
	})
}

func TestFetchNotFoundAndForgedName(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, s *server) {
		c := newClient(t, s.config(nil))
		if _, err := c.Fetch(context.Background(), mustName(t, nameA)); !errors.Is(err, source.ErrNotFound) {
			t.Fatalf("missing file: %v", err)
		}
		if _, err := c.Fetch(context.Background(), parser.FileName{Raw: "../../etc/passwd"}); !errors.Is(err, parser.ErrBadName) {
			t.Fatalf("forged name: %v", err)
		}
		cfg := s.config(nil)
		cfg.RemoteDir = s.remoteDir + "/absent"
		c2 := newClient(t, cfg)
		if _, err := c2.List(context.Background()); err == nil {
			t.Fatal("List of a missing folder succeeded")
		}
		if _, err := c2.Probe(context.Background()); err == nil {
			t.Fatal("Probe of a missing folder succeeded")
		}
		if c2.Counters().Handshakes != 1 {
			t.Fatalf("a missing folder cost %d handshakes, want 1", c2.Counters().Handshakes)
		}
	})
}

// TestKeepalive drives the keepalive with a virtual clock against a server
// that stops answering.
func TestKeepalive(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, s *server) {
		clk := testutil.NewClock(time.Now())
		c := newClient(t, s.config(clk))
		ctx := context.Background()
		if _, err := c.List(ctx); err != nil {
			t.Fatal(err)
		}
		interval, timeout := c.cfg.KeepaliveInterval, c.cfg.KeepaliveTimeout
		// A live server answers: the next keepalive is scheduled and the
		// connection stays.
		for i := 0; i < 2; i++ {
			next := clk.Now().Add(interval)
			testutil.WaitFor(t, "keepalive timer", func() bool { return clk.HasTimerAt(next) })
			clk.Advance(interval)
			next = clk.Now().Add(interval)
			testutil.WaitFor(t, "answered keepalive", func() bool { return clk.HasTimerAt(next) })
			if cur, _ := c.current(); cur == nil {
				t.Fatal("connection dropped after an answered keepalive")
			}
		}
		// A stalled server does not: after KeepaliveTimeout the connection goes.
		s.stall(true)
		clk.Advance(interval)
		replyBy := clk.Now().Add(timeout)
		testutil.WaitFor(t, "reply timer", func() bool { return clk.HasTimerAt(replyBy) })
		clk.Advance(timeout - time.Millisecond)
		if cur, _ := c.current(); cur == nil {
			t.Fatal("connection dropped before the reply timeout")
		}
		clk.Advance(time.Millisecond)
		testutil.WaitFor(t, "connection dropped", func() bool { cur, _ := c.current(); return cur == nil })
		s.stall(false)
		if _, err := c.List(ctx); err != nil {
			t.Fatal(err)
		}
		if h := c.Counters().Handshakes; h != 2 {
			t.Fatalf("handshakes %d, want 2", h)
		}
	})
}

// TestReconnectBackoff checks that failed connects back off exponentially on
// the virtual clock and that the client comes back when the server does.
func TestReconnectBackoff(t *testing.T) {
	t.Parallel()
	s := startServer(t, "inprocess")
	clk := testutil.NewClock(time.Now())
	c := newClient(t, s.config(clk))
	if err := s.inproc.Stop(); err != nil { // the server is down
		t.Fatal(err)
	}
	ctx := context.Background()
	steps := []struct {
		advance  time.Duration
		failures uint64 // DialFailures after the call
		waiting  bool   // refused without dialing
	}{
		{0, 1, false},                      // dial fails, next in 0.5 s
		{400 * time.Millisecond, 1, true},  // too early
		{100 * time.Millisecond, 2, false}, // dial fails, next in 1 s
		{900 * time.Millisecond, 2, true},
		{100 * time.Millisecond, 3, false}, // next in 2 s
		{time.Second, 3, true},
	}
	for i, st := range steps {
		clk.Advance(st.advance)
		_, err := c.List(ctx)
		if err == nil {
			t.Fatalf("step %d: List succeeded with the server down", i)
		}
		if got := c.Counters().DialFailures; got != st.failures {
			t.Fatalf("step %d: %d dial failures, want %d (%v)", i, got, st.failures, err)
		}
		if st.waiting != strings.Contains(err.Error(), "next attempt in") {
			t.Fatalf("step %d: error %v", i, err)
		}
	}
	if err := s.inproc.Start(); err != nil {
		t.Fatal(err)
	}
	if s.inproc.Port() != s.port {
		t.Fatalf("server came back on port %d, not %d", s.inproc.Port(), s.port)
	}
	clk.Advance(time.Second)
	if _, err := c.List(ctx); err != nil {
		t.Fatalf("List once the server is back: %v", err)
	}
	s.cut()
	// After a loss the first reconnect is immediate: failures were reset.
	if _, err := c.List(ctx); err != nil {
		t.Fatalf("List after a cut: %v", err)
	}
	if h := c.Counters().Handshakes; h != 2 {
		t.Fatalf("handshakes %d, want 2", h)
	}
}

func TestAgentAuth(t *testing.T) {
	t.Parallel()
	s := startServer(t, "inprocess")
	keyring := agent.NewKeyring()
	pem, err := os.ReadFile(s.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ssh.ParseRawPrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	if err := keyring.Add(agent.AddedKey{PrivateKey: raw}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			agent.ServeAgent(keyring, conn)
			conn.Close()
		}
	}()
	cfg := s.config(nil)
	cfg.KeyPath, cfg.AgentSocket = "", sock
	c := newClient(t, cfg)
	if _, err := c.List(context.Background()); err != nil {
		t.Fatalf("List with agent auth: %v", err)
	}
}

func TestInsecureWarnsAtEveryConnect(t *testing.T) {
	t.Parallel()
	s := startServer(t, "inprocess")
	var buf testutil.SyncBuffer
	cfg := s.config(nil)
	cfg.HostKey, cfg.InsecureIgnoreHostKey = "", true
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	c := newClient(t, cfg)
	for i := 0; i < 2; i++ {
		if _, err := c.List(context.Background()); err != nil {
			t.Fatal(err)
		}
		s.cut()
		testutil.WaitFor(t, "loss noticed", func() bool { cur, _ := c.current(); return cur == nil })
	}
	if n := strings.Count(buf.String(), "host key NOT verified"); n != 2 {
		t.Fatalf("%d warnings for 2 connects:\n%s", n, buf.String())
	}
}

func TestCloseAndCancel(t *testing.T) {
	t.Parallel()
	s := startServer(t, "inprocess")
	c := newClient(t, s.config(nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.List(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("List on a canceled context: %v", err)
	}
	if c.Counters().DialFailures != 0 {
		t.Fatal("a canceled call counted as a dial failure")
	}
	if _, err := c.Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Probe(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Probe after Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestConcurrentFetch shares one Client among goroutines while the
// connection is cut under them: every fetch succeeds and the reconnect is
// one handshake, not one per goroutine.
func TestConcurrentFetch(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, s *server) {
		old := time.Now().Add(-time.Hour)
		names := []string{nameA, nameB, nameC}
		for _, n := range names {
			s.write(t, n, "data of "+n, old)
		}
		c := newClient(t, s.config(nil))
		ctx := context.Background()
		if _, err := c.Probe(ctx); err != nil {
			t.Fatal(err)
		}
		const workers, rounds = 8, 30
		var wg sync.WaitGroup
		errs := make(chan error, workers*rounds)
		start := make(chan struct{})
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := 0; i < rounds; i++ {
					n := names[(w+i)%len(names)]
					data, err := c.Fetch(ctx, mustName(t, n))
					if err == nil && string(data) != "data of "+n {
						err = errors.New("wrong bytes for " + n)
					}
					if err != nil {
						errs <- err
					}
				}
			}()
		}
		close(start)
		testutil.WaitFor(t, "some fetches", func() bool { return c.Counters().BytesRead > 0 })
		s.cut()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if h := c.Counters().Handshakes; h > 2 {
			t.Fatalf("%d handshakes for one cut, want at most 2", h)
		}
	})
}
