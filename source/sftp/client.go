package sftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source"
)

var (
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("sftp: client closed")
	// ErrKeepaliveTimeout: a keepalive got no reply within KeepaliveTimeout,
	// so the connection was closed. It is the cause logged for the loss.
	ErrKeepaliveTimeout = errors.New("sftp: keepalive timed out")
)

// Counters are a Client's running totals, for metrics and for the failover
// simulator's cost model.
type Counters struct {
	// Handshakes counts completed SSH handshakes (connects).
	Handshakes uint64
	// Requests counts SFTP request packets sent, including each session's
	// init.
	Requests uint64
	// BytesRead counts file bytes returned by Fetch.
	BytesRead uint64
	// DialFailures counts failed connect attempts.
	DialFailures uint64
	// SkippedNames counts listed names refused by parser.ValidateName.
	SkippedNames uint64
}

// Client is one persistent SSH connection with an SFTP session to one
// server's stats folder. It connects on first use, keeps the connection
// open with keepalives, and reconnects with exponential backoff after any
// connection error. It implements source.Lister and source.Fetcher; all
// methods are safe for concurrent use.
type Client struct {
	cfg      Config
	addr     string
	clock    Clock
	jitter   func() float64
	log      *slog.Logger
	signer   ssh.Signer
	hostKey  ssh.HostKeyCallback
	keyAlgos []string

	dialMu sync.Mutex // one connect at a time

	mu       sync.Mutex
	cur      *conn
	failures int
	retryAt  time.Time
	lastErr  error
	closed   bool
	wg       sync.WaitGroup

	handshakes, requests, bytesRead, dialFailures, skipped atomic.Uint64

	probeMu   sync.Mutex
	probed    bool
	lastProbe time.Time
	lastMtime time.Time

	seenMu sync.Mutex
	seen   map[string]observation
}

var (
	_ source.Lister  = (*Client)(nil)
	_ source.Fetcher = (*Client)(nil)
)

// observation is one stat of a file, for the completeness rule of Fetch.
type observation struct {
	size  int64
	mtime time.Time
	at    time.Time
}

// conn is one SSH connection and its SFTP session.
type conn struct {
	ssh  *ssh.Client
	sftp *sftp.Client
	done chan struct{}
	once sync.Once
}

func (cn *conn) close() {
	cn.once.Do(func() {
		close(cn.done)
		cn.sftp.Close()
		cn.ssh.Close()
	})
}

func (cn *conn) dead() bool {
	select {
	case <-cn.done:
		return true
	default:
		return false
	}
}

// NewClient checks cfg, loads the private key and the host-key
// configuration, and returns a Client. It does not connect: the first
// Probe, List or Fetch does.
func NewClient(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{
		cfg:    cfg,
		addr:   net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		clock:  cfg.Clock,
		jitter: cfg.Jitter,
		log:    cfg.Logger,
		signer: cfg.Signer,
		seen:   map[string]observation{},
	}
	if c.clock == nil {
		c.clock = systemClock{}
	}
	if c.jitter == nil {
		c.jitter = rand.Float64
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.signer == nil && cfg.KeyPath != "" {
		s, err := loadKey(cfg.KeyPath, cfg.KeyPassphrase)
		if err != nil {
			return nil, err
		}
		c.signer = s
	}
	// The key is decrypted: drop the passphrase, so that formatting a
	// Client (%+v reaches unexported fields) cannot print it.
	c.cfg.KeyPassphrase = ""
	var err error
	if c.hostKey, c.keyAlgos, err = hostKeyCheck(cfg); err != nil {
		return nil, err
	}
	return c, nil
}

// loadKey reads a private key file. Errors name the file, never the
// passphrase.
func loadKey(path, passphrase string) (ssh.Signer, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sftp: key %s: %w", path, err)
	}
	var s ssh.Signer
	if passphrase == "" {
		s, err = ssh.ParsePrivateKey(pem)
	} else {
		s, err = ssh.ParsePrivateKeyWithPassphrase(pem, []byte(passphrase))
	}
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, fmt.Errorf("sftp: key %s is encrypted: set %s", path, EnvKeyPassphrase)
	}
	if err != nil {
		return nil, fmt.Errorf("sftp: key %s: %w", path, err)
	}
	return s, nil
}

// Counters returns the running totals.
func (c *Client) Counters() Counters {
	return Counters{
		Handshakes:   c.handshakes.Load(),
		Requests:     c.requests.Load(),
		BytesRead:    c.bytesRead.Load(),
		DialFailures: c.dialFailures.Load(),
		SkippedNames: c.skipped.Load(),
	}
}

// Close closes the connection and stops the keepalive. Calls after Close
// return ErrClosed. It is idempotent.
func (c *Client) Close() error {
	c.dialMu.Lock() // let a connect in progress finish first
	c.mu.Lock()
	c.closed = true
	cur := c.cur
	c.cur = nil
	c.mu.Unlock()
	c.dialMu.Unlock()
	if cur != nil {
		cur.close()
	}
	c.wg.Wait()
	return nil
}

// get returns the open connection, connecting if there is none and the
// backoff allows.
func (c *Client) get(ctx context.Context) (*conn, error) {
	if cn, err := c.current(); cn != nil || err != nil {
		return cn, err
	}
	c.dialMu.Lock()
	defer c.dialMu.Unlock()
	if cn, err := c.current(); cn != nil || err != nil {
		return cn, err // another caller connected meanwhile
	}
	c.mu.Lock()
	if wait := c.retryAt.Sub(c.clock.Now()); wait > 0 {
		err := fmt.Errorf("connect %s: next attempt in %v after %d failures: %w",
			c.addr, wait.Round(time.Millisecond), c.failures, c.lastErr)
		c.mu.Unlock()
		return nil, err
	}
	c.mu.Unlock()

	cn, derr := c.dial(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if derr != nil {
		err := fmt.Errorf("connect %s: %w", c.addr, derr)
		if ctx.Err() != nil {
			return nil, err // the caller gave up; not the server's fault
		}
		c.dialFailures.Add(1)
		c.failures++
		wait := backoff(c.failures, c.cfg.ReconnectMin, c.cfg.ReconnectMax, c.jitter())
		c.retryAt = c.clock.Now().Add(wait)
		c.lastErr = derr
		level := slog.LevelWarn
		if errors.Is(err, ErrHostKeyMismatch) || errors.Is(err, ErrUnknownHost) {
			level = slog.LevelError
		}
		c.log.Log(ctx, level, "sftp: connect failed", "addr", c.addr, "failures", c.failures, "retry_in", wait, "err", derr)
		return nil, err
	}
	if c.closed {
		cn.close()
		return nil, ErrClosed
	}
	c.failures, c.lastErr, c.retryAt = 0, nil, time.Time{}
	c.cur = cn
	c.wg.Add(2)
	go c.watch(cn)
	go c.keepalive(cn)
	c.log.Info("sftp: connected", "addr", c.addr, "user", c.cfg.User, "handshakes", c.handshakes.Load())
	return cn, nil
}

func (c *Client) current() (*conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.cur != nil && !c.cur.dead() {
		return c.cur, nil
	}
	return nil, nil
}

// dial opens TCP, the SSH handshake and the SFTP session, within
// DialTimeout and ctx. Its errors are wrapped by get with the address.
func (c *Client) dial(ctx context.Context) (*conn, error) {
	if c.cfg.InsecureIgnoreHostKey {
		c.log.Warn("sftp: host key NOT verified", "addr", c.addr, "setting", EnvInsecureIgnoreHostKey+"=true")
	}
	auth, closeAgent, err := c.auth()
	if err != nil {
		return nil, err
	}
	defer closeAgent()
	d := net.Dialer{Timeout: c.cfg.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(c.cfg.DialTimeout)) // real I/O bound, not logic
	// A cancelled ctx aborts the handshake by moving the deadline to the past.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	sc, chans, reqs, err := ssh.NewClientConn(nc, c.addr, &ssh.ClientConfig{
		User:              c.cfg.User,
		Auth:              auth,
		HostKeyCallback:   c.hostKey,
		HostKeyAlgorithms: c.keyAlgos,
		ClientVersion:     "SSH-2.0-roundfeed",
	})
	if err != nil {
		nc.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	c.handshakes.Add(1)
	client := ssh.NewClient(sc, chans, reqs)
	fail := func(what string, err error) (*conn, error) {
		client.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	sess, err := client.NewSession()
	if err != nil {
		return fail("session", err)
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		return fail("sftp subsystem", err)
	}
	w, err := sess.StdinPipe()
	if err != nil {
		return fail("sftp subsystem", err)
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		return fail("sftp subsystem", err)
	}
	s, err := sftp.NewClientPipe(r, &packetCounter{w: w, n: &c.requests})
	if err != nil {
		return fail("sftp init", err)
	}
	stopped = true
	if !stop() { // ctx ended after all: the deadline may be in the past
		s.Close()
		return fail("connect", ctx.Err())
	}
	nc.SetDeadline(time.Time{})
	return &conn{ssh: client, sftp: s, done: make(chan struct{})}, nil
}

// auth returns the authentication methods and a function that releases an
// agent connection after the handshake.
func (c *Client) auth() ([]ssh.AuthMethod, func(), error) {
	if c.signer != nil {
		return []ssh.AuthMethod{ssh.PublicKeys(c.signer)}, func() {}, nil
	}
	ac, err := net.Dial("unix", c.cfg.AgentSocket)
	if err != nil {
		return nil, nil, fmt.Errorf("ssh-agent %s: %w", c.cfg.AgentSocket, err)
	}
	return []ssh.AuthMethod{ssh.PublicKeysCallback(agent.NewClient(ac).Signers)}, func() { ac.Close() }, nil
}

// watch notices the server closing the connection.
func (c *Client) watch(cn *conn) {
	defer c.wg.Done()
	err := cn.ssh.Wait()
	c.lost(cn, err)
}

// keepalive sends keepalive@openssh.com every KeepaliveInterval and closes
// the connection when a reply takes longer than KeepaliveTimeout. Any reply,
// even a refusal, proves the peer alive.
func (c *Client) keepalive(cn *conn) {
	defer c.wg.Done()
	for {
		select {
		case <-cn.done:
			return
		case <-c.clock.After(c.cfg.KeepaliveInterval):
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := cn.ssh.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		select {
		case <-cn.done:
			return
		case err := <-reply:
			if err != nil {
				c.lost(cn, fmt.Errorf("sftp: keepalive: %w", err))
				return
			}
		case <-c.clock.After(c.cfg.KeepaliveTimeout):
			c.lost(cn, ErrKeepaliveTimeout)
			return
		}
	}
}

// lost closes cn and forgets it; the next call reconnects.
func (c *Client) lost(cn *conn, cause error) {
	c.mu.Lock()
	wasCurrent := c.cur == cn
	if wasCurrent {
		c.cur = nil
	}
	closed := c.closed
	c.mu.Unlock()
	already := cn.dead()
	cn.close()
	if wasCurrent && !already && !closed {
		c.log.Warn("sftp: connection lost", "addr", c.addr, "err", cause)
	}
}

// connLost reports whether err means the connection, not the request,
// failed.
func connLost(err error, cn *conn) bool {
	var se *sftp.StatusError
	switch {
	case errors.Is(err, sftp.ErrSSHFxConnectionLost), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrClosedPipe), errors.Is(err, net.ErrClosed):
		return true
	case errors.As(err, &se), errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission),
		errors.Is(err, source.ErrTooLarge), errors.Is(err, source.ErrIncomplete):
		return false
	}
	var ne net.Error
	return cn.dead() || errors.As(err, &ne)
}

// do runs fn on the connection. When the connection turns out dead, it is
// dropped and fn runs once more on a new one: every request this package
// makes only reads, so a repeat is harmless. When ctx ends first, do returns
// ctx's error and fn finishes in the background (pkg/sftp requests cannot be
// cancelled one by one).
func (c *Client) do(ctx context.Context, fn func(*sftp.Client) error) error {
	for attempt := 0; ; attempt++ {
		cn, err := c.get(ctx)
		if err != nil {
			return err
		}
		err = run(ctx, cn, fn)
		if err == nil || ctx.Err() != nil || !connLost(err, cn) {
			return err
		}
		c.lost(cn, err)
		if attempt == 1 {
			return err
		}
	}
}

func run(ctx context.Context, cn *conn, fn func(*sftp.Client) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ctx.Done() == nil {
		return fn(cn.sftp)
	}
	done := make(chan error, 1)
	go func() { done <- fn(cn.sftp) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Probe stats the stats folder on the open connection (no listing) and
// reports whether it may have changed since the previous successful Probe.
// The first Probe reports true. SFTP v3 gives the folder's mtime in whole
// seconds, so a file created in the same second as the previous probe
// leaves the mtime equal to what that probe saw; Probe therefore also
// reports true whenever the mtime is not older than one second before the
// previous probe. That costs one extra listing after a change and never
// misses one, provided the server's and the bot's clocks agree (NTP).
// Probes are serialized.
func (c *Client) Probe(ctx context.Context) (bool, error) {
	c.probeMu.Lock()
	defer c.probeMu.Unlock()
	at := c.clock.Now()
	var fi os.FileInfo
	err := c.do(ctx, func(s *sftp.Client) error {
		var err error
		fi, err = s.Stat(c.cfg.RemoteDir)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sftp: probe %s: %w", c.cfg.RemoteDir, err)
	}
	mtime := fi.ModTime()
	changed := !c.probed || !mtime.Equal(c.lastMtime) || !mtime.Before(c.lastProbe.Add(-time.Second))
	c.probed, c.lastProbe, c.lastMtime = true, at, mtime
	return changed, nil
}

// List returns the stats files of the folder modified within Lookback (all
// when Lookback is 0), sorted by name. Names that fail parser.ValidateName
// are skipped and counted. Each listed size and mtime counts as one stat for
// the completeness rule of Fetch.
func (c *Client) List(ctx context.Context) ([]source.Entry, error) {
	var infos []os.FileInfo
	err := c.do(ctx, func(s *sftp.Client) error {
		var err error
		infos, err = s.ReadDir(c.cfg.RemoteDir)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sftp: list %s: %w", c.cfg.RemoteDir, err)
	}
	now := c.clock.Now()
	out := make([]source.Entry, 0, len(infos))
	for _, fi := range infos {
		if !fi.Mode().IsRegular() {
			continue
		}
		fn, err := parser.ValidateName(fi.Name())
		if err != nil {
			c.skipped.Add(1)
			continue
		}
		if c.cfg.Lookback > 0 && fi.ModTime().Before(now.Add(-c.cfg.Lookback)) {
			continue
		}
		out = append(out, source.Entry{Name: fn, Size: fi.Size(), ModTime: fi.ModTime()})
		c.observe(fn.Raw, fi.Size(), fi.ModTime(), now)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name.Raw < out[j].Name.Raw })
	return out, nil
}

// observe records a stat; an unchanged file keeps its first time seen.
func (c *Client) observe(name string, size int64, mtime, now time.Time) {
	c.seenMu.Lock()
	defer c.seenMu.Unlock()
	if o, ok := c.seen[name]; ok && o.size == size && o.mtime.Equal(mtime) {
		return
	}
	if len(c.seen) >= 4096 { // bound memory: forget stats older than the rule needs
		for n, o := range c.seen {
			if now.Sub(o.at) > time.Minute {
				delete(c.seen, n)
			}
		}
	}
	c.seen[name] = observation{size: size, mtime: mtime, at: now}
}

// complete applies the rule: mtime at least SettleAge old, or the same size
// and mtime seen at least SettleGap ago. It records this stat either way.
func (c *Client) complete(name string, size int64, mtime, now time.Time) bool {
	if now.Sub(mtime) >= c.cfg.SettleAge {
		return true
	}
	c.seenMu.Lock()
	o, ok := c.seen[name]
	c.seenMu.Unlock()
	if ok && o.size == size && o.mtime.Equal(mtime) && now.Sub(o.at) >= c.cfg.SettleGap {
		return true
	}
	c.observe(name, size, mtime, now)
	return false
}

// Fetch returns the bytes of one file. It opens the file and stats the open
// handle first: a file over MaxFileSize is refused unread (source.ErrTooLarge,
// wrapped); a missing one (or a folder) is source.ErrNotFound; a file not yet known
// complete is source.ErrIncomplete. Complete means its mtime is SettleAge
// (2 s) old by the Client's clock, or an earlier Fetch or List saw the same
// size and mtime at least SettleGap (1 s) ago; so a caller that retries an
// incomplete file after a second gets it once it stopped changing. This
// compares the server's mtimes with the bot's clock: keep both on NTP.
func (c *Client) Fetch(ctx context.Context, name parser.FileName) ([]byte, error) {
	// A FileName can be built by hand; check again so no path escapes the folder.
	if _, err := parser.ValidateName(name.Raw); err != nil {
		return nil, fmt.Errorf("sftp: fetch: %w", err)
	}
	p := path.Join(c.cfg.RemoteDir, name.Raw)
	var data []byte
	err := c.do(ctx, func(s *sftp.Client) error {
		data = nil
		f, err := s.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("not a regular file: %w", source.ErrNotFound)
		}
		size := fi.Size()
		if size > c.cfg.MaxFileSize {
			return fmt.Errorf("%d bytes over the limit of %d: %w", size, c.cfg.MaxFileSize, source.ErrTooLarge)
		}
		if !c.complete(name.Raw, size, fi.ModTime(), c.clock.Now()) {
			return fmt.Errorf("size %d, modified %s: %w", size, fi.ModTime().UTC().Format(time.RFC3339), source.ErrIncomplete)
		}
		buf := make([]byte, size)
		n, err := io.ReadFull(f, buf)
		if errors.Is(err, io.ErrUnexpectedEOF) || (errors.Is(err, io.EOF) && size > 0) {
			// A short read means the file shrank, or the connection died
			// under the read (pkg/sftp may then report EOF): a second
			// stat of the handle tells which.
			if _, serr := f.Stat(); serr != nil {
				return serr
			}
			return fmt.Errorf("shrank from %d to %d bytes while read: %w", size, n, source.ErrIncomplete)
		}
		if err != nil {
			return err
		}
		data = buf
		return nil
	})
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("sftp: fetch %s: %w", name.Raw, source.ErrNotFound)
	default:
		return nil, fmt.Errorf("sftp: fetch %s: %w", name.Raw, err)
	}
	c.seenMu.Lock()
	delete(c.seen, name.Raw)
	c.seenMu.Unlock()
	c.bytesRead.Add(uint64(len(data)))
	return data, nil
}
