package sftptest_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/roundfeed/roundfeed/source/sftp/sftptest"
)

// A demo or test serves a folder over real SSH+SFTP on loopback, then cuts
// the connection as a fault script would.
func ExampleNewServer() {
	dir, _ := os.MkdirTemp("", "served")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello"), 0o644)

	srv, err := sftptest.NewServer(sftptest.Options{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	sc, err := ssh.Dial("tcp", srv.Addr(), &ssh.ClientConfig{
		User:            srv.User(),
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(srv.ClientSigner())},
		HostKeyCallback: ssh.FixedHostKey(srv.HostKey()),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sc.Close()
	c, _ := sftp.NewClient(sc)
	f, _ := c.Open("/hello.txt")
	data, _ := io.ReadAll(f)
	f.Close()
	fmt.Println(string(data), srv.Handshakes(), srv.CutConnections())
	// Output: hello 1 1
}
