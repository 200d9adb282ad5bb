package testutil

import (
	"net"
	"testing"
	"time"
)

// WaitFor polls cond until it holds, for state that another goroutine
// changes in reply to real I/O. It is a synchronisation point, not a timing
// assertion: the 20 s deadline only keeps a hung test from hanging the run,
// and stops the test naming what.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// FreeAddr returns a loopback TCP address ("127.0.0.1:port") that was free a
// moment ago and that nobody listens on now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
