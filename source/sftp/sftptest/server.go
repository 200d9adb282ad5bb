package sftptest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Options configures an in-process Server.
type Options struct {
	// Dir is the folder served as the SFTP root "/". Required.
	Dir string
	// KeyDir receives the client's private key (client_ed25519) and a
	// known_hosts file. Empty means a new temporary folder, removed by Close.
	KeyDir string
	// Addr is the listen address. Default "127.0.0.1:0".
	Addr string
	// HostKey and ClientKey default to freshly generated ed25519 keys.
	HostKey, ClientKey *Key
	// Logger receives one line per connection event; nil discards.
	Logger *slog.Logger
}

// Server is an in-process SSH server answering the "sftp" subsystem over a
// folder. Its methods are safe for concurrent use.
type Server struct {
	dir, keyDir string
	ownKeyDir   bool
	host        Key
	client      Key
	clientPath  string
	knownHosts  string
	log         *slog.Logger
	config      *ssh.ServerConfig

	mu     sync.Mutex
	addr   string // fixed across Restart when the port can be had again
	ln     net.Listener
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup

	handshakes, globalRequests, served atomic.Uint64
	stall                              atomic.Bool
}

// NewServer generates keys, writes the client key and known_hosts to KeyDir
// and starts listening.
func NewServer(opts Options) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("sftptest: Options.Dir is empty")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("sftptest: dir: %w", err)
	}
	s := &Server{dir: dir, keyDir: opts.KeyDir, log: opts.Logger, conns: map[net.Conn]struct{}{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.keyDir == "" {
		if s.keyDir, err = os.MkdirTemp("", "sftptest-keys-"); err != nil {
			return nil, fmt.Errorf("sftptest: key dir: %w", err)
		}
		s.ownKeyDir = true
	}
	fail := func(err error) (*Server, error) {
		if s.ownKeyDir {
			os.RemoveAll(s.keyDir)
		}
		return nil, err
	}
	for _, k := range []struct {
		opt *Key
		dst *Key
	}{{opts.HostKey, &s.host}, {opts.ClientKey, &s.client}} {
		if k.opt != nil {
			*k.dst = *k.opt
			continue
		}
		if *k.dst, err = NewKey(); err != nil {
			return fail(err)
		}
	}
	s.clientPath = filepath.Join(s.keyDir, "client_ed25519")
	if err := s.client.WritePrivate(s.clientPath); err != nil {
		return fail(err)
	}
	want := s.client.Signer.PublicKey().Marshal()
	s.config = &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(key.Marshal(), want) {
				return nil, nil
			}
			return nil, errors.New("sftptest: unknown client key")
		},
	}
	s.config.AddHostKey(s.host.Signer)
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fail(fmt.Errorf("sftptest: listen: %w", err))
	}
	s.addr = ln.Addr().String()
	if s.knownHosts, err = writeKnownHosts(s.keyDir, s.KnownHostsLine()); err != nil {
		ln.Close()
		return fail(err)
	}
	s.start(ln)
	return s, nil
}

// Start is NewServer for tests: it serves dir, fails t on error and closes
// the server when the test ends.
func Start(t TB, dir string) *Server {
	t.Helper()
	s, err := NewServer(Options{Dir: dir})
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func (s *Server) start(ln net.Listener) {
	s.ln = ln
	s.wg.Add(1)
	go s.accept(ln)
	s.log.Info("sftptest: listening", "addr", s.addr)
}

// Addr returns "127.0.0.1:port".
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Host returns the listen IP.
func (s *Server) Host() string {
	h, _, _ := net.SplitHostPort(s.Addr())
	return h
}

// Port returns the listen port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// Dir returns the absolute path of the served folder.
func (s *Server) Dir() string { return s.dir }

// User is the login name; the server accepts any user with the client key.
func (s *Server) User() string { return "roundfeed" }

// HostKeyLine returns the host's public key in authorized_keys form, the
// value SSH_HOST_KEY takes.
func (s *Server) HostKeyLine() string { return s.host.AuthorizedLine() }

// HostKey returns the host's public key.
func (s *Server) HostKey() ssh.PublicKey { return s.host.Signer.PublicKey() }

// KnownHostsLine returns the host key as a known_hosts line for Addr.
func (s *Server) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr())}, s.host.Signer.PublicKey())
}

// KnownHostsPath returns a known_hosts file naming this server, the value
// SSH_KNOWN_HOSTS takes. It is rewritten if Restart changes the port.
func (s *Server) KnownHostsPath() string { return s.knownHosts }

// ClientKeyPath returns the client's private key file (unencrypted), the
// value SSH_KEY_PATH takes.
func (s *Server) ClientKeyPath() string { return s.clientPath }

// ClientSigner returns the client's key as a signer.
func (s *Server) ClientSigner() ssh.Signer { return s.client.Signer }

// Handshakes returns how many SSH handshakes completed.
func (s *Server) Handshakes() uint64 { return s.handshakes.Load() }

// BytesServed returns how many file bytes clients have read.
func (s *Server) BytesServed() uint64 { return s.served.Load() }

// GlobalRequests returns how many global requests (keepalives) arrived.
func (s *Server) GlobalRequests() uint64 { return s.globalRequests.Load() }

// Stall makes the server stop answering global requests (on) or answer them
// again (off), as a hung peer behind a half-open TCP connection would: the
// client's keepalive gets no reply.
func (s *Server) Stall(on bool) { s.stall.Store(on) }

// CutConnections closes every open connection and returns how many there
// were. The listener stays up, so clients can reconnect at once.
func (s *Server) CutConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cutLocked()
}

func (s *Server) cutLocked() int {
	n := len(s.conns)
	for c := range s.conns {
		c.Close()
	}
	if n > 0 {
		s.log.Info("sftptest: cut connections", "count", n)
	}
	return n
}

// Stop stops listening and cuts every connection, as a server that went
// down would; Start brings it back. Stop on a stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("sftptest: stop after Close")
	}
	s.stopLocked()
	return nil
}

func (s *Server) stopLocked() {
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	s.cutLocked()
}

// Start listens again after Stop with the same host key, on the same port
// when it can be had (else on a new port, and KnownHostsPath is rewritten).
// Start on a running server does nothing.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("sftptest: start after Close")
	}
	return s.startLocked()
}

func (s *Server) startLocked() error {
	if s.ln != nil {
		return nil
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // the old socket is being torn down
	}
	if err != nil {
		host, _, _ := net.SplitHostPort(s.addr)
		if ln, err = net.Listen("tcp", net.JoinHostPort(host, "0")); err != nil {
			return fmt.Errorf("sftptest: listen: %w", err)
		}
		s.addr = ln.Addr().String()
		line := knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, s.host.Signer.PublicKey())
		if _, err := writeKnownHosts(s.keyDir, line); err != nil {
			ln.Close()
			return err
		}
	}
	s.start(ln)
	return nil
}

// Restart is Stop then Start: every connection is cut and the server
// listens again with the same host key, on the same port when it can.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("sftptest: restart after Close")
	}
	s.stopLocked()
	return s.startLocked()
}

// Close stops the server, cuts every connection, waits for its goroutines
// and removes the key folder it created. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.stopLocked()
	s.mu.Unlock()
	s.wg.Wait()
	if s.ownKeyDir {
		return os.RemoveAll(s.keyDir)
	}
	return nil
}

func (s *Server) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed || s.ln != ln {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(nc)
	}
}

func (s *Server) serveConn(nc net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
		nc.Close()
	}()
	nc.SetDeadline(time.Now().Add(10 * time.Second)) // handshake only
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.config)
	if err != nil {
		s.log.Debug("sftptest: handshake failed", "remote", nc.RemoteAddr().String(), "err", err)
		return
	}
	nc.SetDeadline(time.Time{})
	s.handshakes.Add(1)
	s.log.Debug("sftptest: connected", "remote", nc.RemoteAddr().String(), "user", sc.User())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for req := range reqs {
			s.globalRequests.Add(1)
			if s.stall.Load() {
				continue // never answered, like a hung peer
			}
			if req.WantReply {
				req.Reply(false, nil) // as OpenSSH answers keepalive@openssh.com
			}
		}
	}()
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "only session channels")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.session(ch, creqs)
		}()
	}
	sc.Close()
	wg.Wait()
}

// session serves one channel: it answers "subsystem sftp" and refuses all
// else.
func (s *Server) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	served := make(chan struct{})
	started := false
	for req := range reqs {
		if started || req.Type != "subsystem" || subsystemName(req.Payload) != "sftp" {
			req.Reply(false, nil)
			continue
		}
		req.Reply(true, nil)
		started = true
		srv := sftp.NewRequestServer(ch, rootFS{root: s.dir, served: &s.served}.handlers())
		go func() {
			defer close(served)
			srv.Serve()
			srv.Close()
		}()
	}
	if started {
		<-served
	}
}

// subsystemName decodes the SSH string payload of a "subsystem" request.
func subsystemName(p []byte) string {
	if len(p) < 4 {
		return ""
	}
	n := binary.BigEndian.Uint32(p)
	if uint64(n) > uint64(len(p)-4) {
		return ""
	}
	return string(p[4 : 4+n])
}

// Env returns the environment a roundfeed bot needs to reach this server
// (the names of package source/sftp), with remoteDir as REMOTE_STATS_DIR
// ("/" is the served folder). The demo mode feeds it to sftp.ConfigFromEnv.
func (s *Server) Env(remoteDir string) map[string]string {
	return env(s.Host(), s.Port(), s.User(), s.ClientKeyPath(), s.HostKeyLine(), remoteDir)
}

// env spells the variables of source/sftp; this package cannot import it
// (its tests import this package).
func env(host string, port int, user, keyPath, hostKey, remoteDir string) map[string]string {
	return map[string]string{
		"SSH_HOST":         host,
		"SSH_PORT":         strconv.Itoa(port),
		"SSH_USER":         user,
		"SSH_KEY_PATH":     keyPath,
		"SSH_HOST_KEY":     hostKey,
		"REMOTE_STATS_DIR": remoteDir,
	}
}
