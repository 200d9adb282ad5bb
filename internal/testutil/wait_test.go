package testutil

import (
	"net"
	"sync/atomic"
	"testing"
)

func TestWaitForReturnsOnceCondHolds(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	WaitFor(t, "third poll", func() bool { return n.Add(1) >= 3 })
	if got := n.Load(); got != 3 {
		t.Fatalf("cond called %d times, want 3", got)
	}
}

func TestFreeAddrNobodyListens(t *testing.T) {
	t.Parallel()
	addr := FreeAddr(t)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("FreeAddr %s is taken: %v", addr, err)
	}
	ln.Close()
}
