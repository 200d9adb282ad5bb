package sftptest

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// target is what both servers expose to a client.
type target interface {
	Addr() string
	User() string
	Dir() string
	KnownHostsPath() string
	ClientSigner() ssh.Signer
	CutConnections() int
	Restart() error
}

func dial(t *testing.T, tg target) (*ssh.Client, *sftp.Client) {
	t.Helper()
	cb, err := knownhosts.New(tg.KnownHostsPath())
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ssh.Dial("tcp", tg.Addr(), &ssh.ClientConfig{
		User:            tg.User(),
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(tg.ClientSigner())},
		HostKeyCallback: cb,
		Timeout:         10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := sftp.NewClient(sc)
	if err != nil {
		sc.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); sc.Close() })
	return sc, c
}

func servers(t *testing.T) map[string]func(dir string) target {
	return map[string]func(string) target{
		"inprocess": func(dir string) target { return Start(t, dir) },
		"openssh": func(dir string) target {
			o := StartOpenSSH(t, dir)
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("sshd log:\n%s", o.Log())
				}
			})
			return o
		},
	}
}

func TestServers(t *testing.T) {
	t.Parallel()
	for name, start := range servers(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello"), 0o644); err != nil {
				t.Fatal(err)
			}
			tg := start(dir)
			// The in-process server is rooted at dir; OpenSSH serves the
			// whole file system, so paths are absolute there.
			root := "/"
			if name == "openssh" {
				root = tg.Dir() + "/"
			}
			_, c := dial(t, tg)
			f, err := c.Open(root + "a.txt")
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(f)
			f.Close()
			if err != nil || string(data) != "hello" {
				t.Fatalf("read %q, %v", data, err)
			}
			w, err := c.Create(root + "b.txt")
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte("written"))
			w.Close()
			if got, _ := os.ReadFile(filepath.Join(dir, "b.txt")); string(got) != "written" {
				t.Fatalf("b.txt = %q", got)
			}
			infos, err := c.ReadDir(root)
			if err != nil || len(infos) != 2 {
				t.Fatalf("ReadDir: %d entries, %v", len(infos), err)
			}
			if _, err := c.Stat(root + "missing.txt"); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("stat missing: %v", err)
			}

			if n := tg.CutConnections(); n < 1 {
				t.Fatalf("cut %d connections", n)
			}
			if _, err := c.Stat(root + "a.txt"); err == nil {
				t.Fatal("stat worked on a cut connection")
			}
			if err := tg.Restart(); err != nil {
				t.Fatal(err)
			}
			_, c2 := dial(t, tg)
			if _, err := c2.Stat(root + "a.txt"); err != nil {
				t.Fatalf("after restart: %v", err)
			}
		})
	}
}

func TestServerRootCannotBeEscaped(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "root")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(parent, "secret.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := Start(t, dir)
	_, c := dial(t, s)
	for _, p := range []string{"../secret.txt", "/../secret.txt", "/a/../../secret.txt", "../../" + filepath.Base(parent) + "/secret.txt"} {
		if _, err := c.Open(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("open %q: %v, want not found", p, err)
		}
	}
	if err := c.Symlink("/etc/passwd", "/passwd"); err == nil {
		t.Error("symlink allowed")
	}
	if s.Handshakes() != 1 {
		t.Errorf("handshakes %d, want 1", s.Handshakes())
	}
}

func TestServerRefusesWrongClientKey(t *testing.T) {
	t.Parallel()
	s := Start(t, t.TempDir())
	other, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	_, err = ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
		User:            "x",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(other.Signer)},
		HostKeyCallback: ssh.FixedHostKey(s.HostKey()),
	})
	if err == nil {
		t.Fatal("a wrong client key was accepted")
	}
	if s.Handshakes() != 0 {
		t.Fatalf("handshakes %d after a refused login", s.Handshakes())
	}
}

func TestServerStall(t *testing.T) {
	t.Parallel()
	s := Start(t, t.TempDir())
	sc, _ := dial(t, s)
	if ok, _, err := sc.SendRequest("keepalive@openssh.com", true, nil); err != nil || ok {
		t.Fatalf("keepalive reply ok=%v err=%v, want a failure reply", ok, err)
	}
	s.Stall(true)
	replied := make(chan error, 1)
	go func() {
		_, _, err := sc.SendRequest("keepalive@openssh.com", true, nil)
		replied <- err
	}()
	for deadline := time.Now().Add(20 * time.Second); s.GlobalRequests() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the keepalive never reached the server")
		}
	}
	select {
	case <-replied:
		t.Fatal("a stalled server replied")
	default:
	}
	s.CutConnections()
	if err := <-replied; err == nil {
		t.Fatal("keepalive on a cut connection succeeded")
	}
}

func TestServerRestartKeepsPortAndKey(t *testing.T) {
	t.Parallel()
	s := Start(t, t.TempDir())
	port, key := s.Port(), s.HostKeyLine()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if s.Port() != port || s.HostKeyLine() != key {
		t.Fatalf("restart moved to %d / changed key", s.Port())
	}
	if _, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(); err == nil {
		t.Fatal("restart after close succeeded")
	}
}
