package sftptest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHDPath is where Debian's openssh-server installs sshd. sshd refuses to
// start from a relative path.
const SSHDPath = "/usr/sbin/sshd"

// ErrNoSSHD means sshd or ssh-keygen is not installed.
var ErrNoSSHD = errors.New("sftptest: OpenSSH sshd not installed (apt-get install openssh-server)")

// OpenSSH is a running system sshd on loopback with a temporary
// configuration. It serves the whole file system as the current user; point
// REMOTE_STATS_DIR at Dir.
type OpenSSH struct {
	dir, tmp   string
	port       int
	hostKey    ssh.PublicKey
	client     Key
	clientPath string
	knownHosts string
	cfgPath    string
	user       string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// NewOpenSSH starts sshd serving dir (the folder tests put files in) with a
// fresh ed25519 host key from ssh-keygen, a generated client key in
// authorized_keys, and an sshd_config in a temporary folder. It returns
// ErrNoSSHD when sshd is missing. Call Close to stop it.
func NewOpenSSH(dir string) (*OpenSSH, error) {
	if _, err := os.Stat(SSHDPath); err != nil {
		return nil, ErrNoSSHD
	}
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		return nil, ErrNoSSHD
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("sftptest: dir: %w", err)
	}
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("sftptest: current user: %w", err)
	}
	// sshd needs its privilege-separation folder even when it never uses it.
	if os.Geteuid() == 0 {
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return nil, fmt.Errorf("sftptest: /run/sshd: %w", err)
		}
	}
	tmp, err := os.MkdirTemp("", "sftptest-sshd-")
	if err != nil {
		return nil, fmt.Errorf("sftptest: temp: %w", err)
	}
	o := &OpenSSH{dir: abs, tmp: tmp, user: u.Username}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	hostKeyPath := filepath.Join(tmp, "ssh_host_ed25519_key")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", hostKeyPath).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("sftptest: ssh-keygen: %v: %s", err, out)
	}
	pub, err := os.ReadFile(hostKeyPath + ".pub")
	if err != nil {
		return nil, fmt.Errorf("sftptest: host key: %w", err)
	}
	if o.hostKey, _, _, _, err = ssh.ParseAuthorizedKey(pub); err != nil {
		return nil, fmt.Errorf("sftptest: host key: %w", err)
	}
	if o.client, err = NewKey(); err != nil {
		return nil, err
	}
	o.clientPath = filepath.Join(tmp, "client_ed25519")
	if err := o.client.WritePrivate(o.clientPath); err != nil {
		return nil, err
	}
	authKeys := filepath.Join(tmp, "authorized_keys")
	if err := os.WriteFile(authKeys, []byte(o.client.AuthorizedLine()+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("sftptest: authorized_keys: %w", err)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if o.port, err = freePort(); err != nil {
			return nil, err
		}
		o.cfgPath = filepath.Join(tmp, "sshd_config")
		cfg := strings.Join([]string{
			"Port " + strconv.Itoa(o.port),
			"ListenAddress 127.0.0.1",
			"HostKey " + hostKeyPath,
			"PidFile " + filepath.Join(tmp, "sshd.pid"),
			"AuthorizedKeysFile " + authKeys,
			"StrictModes no",
			"UsePAM no",
			"PubkeyAuthentication yes",
			"PasswordAuthentication no",
			"KbdInteractiveAuthentication no",
			"PermitRootLogin prohibit-password",
			"AllowUsers " + o.user,
			"Subsystem sftp internal-sftp",
			"LogLevel VERBOSE",
			"",
		}, "\n")
		if err := os.WriteFile(o.cfgPath, []byte(cfg), 0o600); err != nil {
			return nil, fmt.Errorf("sftptest: sshd_config: %w", err)
		}
		if lastErr = o.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(o.Addr())}, o.hostKey)
	if o.knownHosts, err = writeKnownHosts(tmp, line); err != nil {
		o.stop()
		return nil, err
	}
	ok = true
	return o, nil
}

// StartOpenSSH is NewOpenSSH for tests: it skips the test when sshd is not
// installed, except that it fails it when the environment says CI=true (CI
// installs openssh-server, so a missing sshd there is a broken setup). The
// server is stopped when the test ends.
func StartOpenSSH(t TB, dir string) *OpenSSH {
	t.Helper()
	o, err := NewOpenSSH(dir)
	if errors.Is(err, ErrNoSSHD) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v; CI=true requires it", err)
		}
		t.Skipf("%v", err)
	}
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if err := o.Close(); err != nil {
			t.Logf("sftptest: stop sshd: %v", err)
		}
	})
	return o
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("sftptest: free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// start runs sshd -D -e and waits until the port answers with an SSH banner.
func (o *OpenSSH) start() error {
	cmd := exec.Command(SSHDPath, "-D", "-e", "-f", o.cfgPath)
	stderr := &bytes.Buffer{}
	cmd.Stderr = &lockedWriter{w: stderr}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("sftptest: start sshd: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("sftptest: sshd exited: %s", cmd.Stderr.(*lockedWriter).String())
		default:
		}
		c, err := net.DialTimeout("tcp", o.Addr(), 200*time.Millisecond)
		if err == nil {
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			banner := make([]byte, 4)
			_, err = c.Read(banner)
			c.Close()
			if err == nil && string(banner) == "SSH-" {
				break
			}
		}
		if time.Now().After(deadline) {
			syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			return fmt.Errorf("sftptest: sshd did not answer on %s: %s", o.Addr(), cmd.Stderr.(*lockedWriter).String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	o.mu.Lock()
	o.cmd, o.exited = cmd, exited
	o.mu.Unlock()
	return nil
}

// stop ends the sessions sshd forked and then sshd itself.
func (o *OpenSSH) stop() {
	o.mu.Lock()
	cmd, exited := o.cmd, o.exited
	o.cmd = nil
	o.mu.Unlock()
	if cmd == nil {
		return
	}
	if o.killChildren(cmd.Process.Pid) > 0 {
		// Let sshd reap its sessions before it goes, so no zombie is left
		// to a parent that may not reap.
		for i := 0; i < 100 && len(descendants(cmd.Process.Pid)) > 0; i++ {
			time.Sleep(10 * time.Millisecond)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
}

// killChildren ends every descendant of pid (the per-connection sshd
// processes, which call setsid and so leave sshd's process group), by id.
func (o *OpenSSH) killChildren(pid int) int {
	n := 0
	for _, child := range descendants(pid) {
		if syscall.Kill(child, syscall.SIGKILL) == nil {
			n++
		}
	}
	return n
}

// descendants walks /proc for the processes below pid.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	parent := map[int]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parens.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			parent[p] = pp
		}
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for c, pp := range parent {
			if pp == p {
				out = append(out, c)
				walk(c)
			}
		}
	}
	walk(pid)
	return out
}

// CutConnections ends every session sshd is serving; sshd keeps listening.
// It returns how many processes were ended.
func (o *OpenSSH) CutConnections() int {
	o.mu.Lock()
	cmd := o.cmd
	o.mu.Unlock()
	if cmd == nil {
		return 0
	}
	return o.killChildren(cmd.Process.Pid)
}

// Stall freezes (on) or thaws (off) every session sshd is serving now, with
// SIGSTOP and SIGCONT: a frozen session answers nothing, keepalives
// included, like a hung peer behind a half-open connection. Sessions opened
// later are not frozen.
func (o *OpenSSH) Stall(on bool) {
	o.mu.Lock()
	cmd := o.cmd
	o.mu.Unlock()
	if cmd == nil {
		return
	}
	sig := syscall.SIGCONT
	if on {
		sig = syscall.SIGSTOP
	}
	for _, p := range descendants(cmd.Process.Pid) {
		syscall.Kill(p, sig)
	}
}

// Restart stops sshd and every session, and starts it again on the same
// port with the same host key.
func (o *OpenSSH) Restart() error {
	o.stop()
	var err error
	for i := 0; i < 50; i++ {
		if err = o.start(); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

// Close stops sshd and removes the temporary folder. It is idempotent.
func (o *OpenSSH) Close() error {
	o.stop()
	return os.RemoveAll(o.tmp)
}

// Addr returns "127.0.0.1:port".
func (o *OpenSSH) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(o.port)) }

// Host returns "127.0.0.1".
func (o *OpenSSH) Host() string { return "127.0.0.1" }

// Port returns the listen port.
func (o *OpenSSH) Port() int { return o.port }

// Dir returns the absolute path of the folder given to NewOpenSSH.
func (o *OpenSSH) Dir() string { return o.dir }

// User returns the login name (the current user).
func (o *OpenSSH) User() string { return o.user }

// HostKeyLine returns the host key in authorized_keys form (SSH_HOST_KEY).
func (o *OpenSSH) HostKeyLine() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(o.hostKey)))
}

// HostKey returns the host's public key.
func (o *OpenSSH) HostKey() ssh.PublicKey { return o.hostKey }

// KnownHostsPath returns a known_hosts file naming this server (SSH_KNOWN_HOSTS).
func (o *OpenSSH) KnownHostsPath() string { return o.knownHosts }

// ClientKeyPath returns the client's private key file (SSH_KEY_PATH).
func (o *OpenSSH) ClientKeyPath() string { return o.clientPath }

// ClientSigner returns the client's key as a signer.
func (o *OpenSSH) ClientSigner() ssh.Signer { return o.client.Signer }

// Log returns what sshd wrote to stderr so far, for test failure messages.
func (o *OpenSSH) Log() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cmd == nil {
		return ""
	}
	return o.cmd.Stderr.(*lockedWriter).String()
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

// Env returns the environment a roundfeed bot needs to reach this sshd,
// with remoteDir (an absolute path) as REMOTE_STATS_DIR.
func (o *OpenSSH) Env(remoteDir string) map[string]string {
	return env(o.Host(), o.Port(), o.User(), o.ClientKeyPath(), o.HostKeyLine(), remoteDir)
}
