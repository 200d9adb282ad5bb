package sftp

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	const min, max = time.Second, time.Minute
	tests := []struct {
		failures int
		jitter   float64
		want     time.Duration
	}{
		{0, 0.5, 0},
		{1, 0, 500 * time.Millisecond},
		{1, 0.5, 750 * time.Millisecond},
		{2, 0, time.Second},
		{3, 0.999999, 4 * time.Second},
		{6, 0, 16 * time.Second},
		{7, 0, 30 * time.Second}, // 64 s capped at 60 s
		{50, 0, 30 * time.Second},
		{50, 1, 60 * time.Second}, // out-of-range jitter clamped
		{2, -1, time.Second},
	}
	for _, tt := range tests {
		got := backoff(tt.failures, min, max, tt.jitter)
		if got < tt.want-time.Millisecond || got > tt.want {
			t.Errorf("backoff(%d, jitter %v) = %v, want %v", tt.failures, tt.jitter, got, tt.want)
		}
	}
}
