package sftp

import (
	"testing"
	"time"
)

// waitFor polls cond (state changed by another goroutine in reply to real
// I/O) until it holds; it is a synchronisation point, not a timeout test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
