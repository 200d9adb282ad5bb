// Package sftptest runs real SSH+SFTP servers on loopback for tests and for
// the reference bot's demo mode.
//
// Server is an in-process server in the style of litestream's
// MockSFTPServer: an x/crypto/ssh server with a generated ed25519 host key
// that accepts one generated client key and answers the "sftp" subsystem
// with pkg/sftp's request server, rooted at a folder. It can cut every
// connection, stop answering keepalives, and restart on the same port with
// the same host key, which is what fault scripts and reconnect tests need.
//
// OpenSSH runs the system's /usr/sbin/sshd (Debian package openssh-server)
// on a free loopback port with a temporary host key, authorized_keys and
// sshd_config, so the client is also checked against the server it meets in
// production.
//
// This is a normal package, not a _test file, so it must not import
// "testing": helpers take the small TB interface, which *testing.T and
// *testing.B satisfy.
package sftptest

// TB is the part of testing.TB the helpers use.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Logf(format string, args ...any)
}
