package sftp

import (
	"encoding/binary"
	"io"
	"sync/atomic"
)

// packetCounter counts the SFTP packets written through it by following the
// protocol's framing (a uint32 length, then that many bytes), whatever way
// pkg/sftp splits its writes. Every packet a client sends is a request.
type packetCounter struct {
	w       io.WriteCloser
	n       *atomic.Uint64
	hdr     [4]byte
	hdrLen  int    // bytes of the current length prefix seen
	bodyLen uint32 // bytes of the current body still to come
}

func (p *packetCounter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.scan(b[:n])
	return n, err
}

func (p *packetCounter) Close() error { return p.w.Close() }

func (p *packetCounter) scan(b []byte) {
	for len(b) > 0 {
		if p.bodyLen > 0 {
			k := min(uint32(len(b)), p.bodyLen)
			p.bodyLen -= k
			b = b[k:]
			continue
		}
		k := copy(p.hdr[p.hdrLen:], b)
		p.hdrLen += k
		b = b[k:]
		if p.hdrLen == 4 {
			p.hdrLen = 0
			p.bodyLen = binary.BigEndian.Uint32(p.hdr[:])
			p.n.Add(1)
		}
	}
}
