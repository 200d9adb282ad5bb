package sftp

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
	"testing"
)

type nopCloser struct{ bytes.Buffer }

func (*nopCloser) Close() error { return nil }

func TestPacketCounter(t *testing.T) {
	t.Parallel()
	packet := func(body string) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
		return append(b, body...)
	}
	stream := bytes.Join([][]byte{packet("init"), packet(""), packet(string(make([]byte, 9000))), packet("x")}, nil)
	tests := []struct {
		name  string
		split int // write in chunks of this size
	}{
		{"one write", len(stream)},
		{"byte by byte", 1},
		{"3-byte chunks split headers", 3},
		{"4 KiB chunks", 4096},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Uint64
			w := &nopCloser{}
			pc := &packetCounter{w: w, n: &n}
			for i := 0; i < len(stream); i += tt.split {
				end := min(i+tt.split, len(stream))
				if _, err := pc.Write(stream[i:end]); err != nil {
					t.Fatal(err)
				}
			}
			if n.Load() != 4 {
				t.Fatalf("counted %d packets, want 4", n.Load())
			}
			if !bytes.Equal(w.Bytes(), stream) {
				t.Fatal("bytes altered on the way through")
			}
		})
	}
}
