package harness

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// proxy is a TCP relay between the worker's SSH client and the SSH server.
// It gives workers a fixed address across server restarts and cuts a
// connection in the middle of a server reply: when armed, the first
// server-to-client chunk of at least cutReadMin bytes (a file or a listing
// being read) is forwarded in part and then both sides are closed.
type proxy struct {
	ln     net.Listener
	target func() string

	armedUntil atomic.Int64 // unix nanos; 0: not armed
	cuts       atomic.Int64 // mid-read cuts made

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// cutReadMin is the smallest server chunk treated as a read in progress.
const cutReadMin = 512

func newProxy(target func() string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	return p, nil
}

func (p *proxy) addr() *net.TCPAddr { return p.ln.Addr().(*net.TCPAddr) }

// armCutRead arms the mid-read cut for d (once).
func (p *proxy) armCutRead(d time.Duration) { p.armedUntil.Store(time.Now().Add(d).UnixNano()) }

// takeArm reports whether the cut is armed and disarms it.
func (p *proxy) takeArm() bool {
	u := p.armedUntil.Load()
	if u == 0 || time.Now().UnixNano() > u {
		return false
	}
	return p.armedUntil.CompareAndSwap(u, 0)
}

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

func (p *proxy) track(c net.Conn, add bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		if p.closed {
			return false
		}
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
	return true
}

func (p *proxy) serve(client net.Conn) {
	defer client.Close()
	server, err := net.DialTimeout("tcp", p.target(), time.Second)
	if err != nil {
		return // the server is down: the client sees the connection close
	}
	defer server.Close()
	if !p.track(client, true) || !p.track(server, true) {
		return
	}
	defer p.track(client, false)
	defer p.track(server, false)
	done := make(chan struct{}, 2)
	go func() { io.Copy(server, client); done <- struct{}{} }()
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 {
				chunk := buf[:n]
				if n >= cutReadMin && p.takeArm() {
					client.Write(chunk[:n/2])
					p.cuts.Add(1)
					break
				}
				if _, werr := client.Write(chunk); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		done <- struct{}{}
	}()
	<-done
	client.Close()
	server.Close()
	<-done
}

func (p *proxy) close() error {
	p.mu.Lock()
	p.closed = true
	err := p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
