package protocol

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
)

// Server accepts connections on any number of listeners and serves them
// with one Handler.
type Server struct {
	Handler        Handler
	MaxRequestSize int
	Logger         *zap.Logger
	Stats          *Stats

	frames framePool
	nextID atomic.Uint64
	mu     sync.Mutex
	lns    []net.Listener
	conns  map[*conn]struct{}
	wg     sync.WaitGroup
	closed bool
}

// NewServer returns a server; maxRequestSize is socket.request.max.bytes.
func NewServer(h Handler, maxRequestSize int, log *zap.Logger) *Server {
	return &Server{Handler: h, MaxRequestSize: maxRequestSize, Logger: log, Stats: new(Stats), conns: map[*conn]struct{}{}}
}

// Serve accepts connections on ln, naming them after listener, until
// Shutdown. It returns at once; accepting runs in the background.
func (s *Server) Serve(ln net.Listener, listener string) {
	s.mu.Lock()
	s.lns = append(s.lns, ln)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					s.Logger.Error("accept failed", zap.String("listener", listener), zap.Error(err))
				}
				return
			}
			s.startConn(nc, listener)
		}
	}()
}

func (s *Server) startConn(nc net.Conn, listener string) {
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	c := &conn{
		srv: s, nc: nc, id: s.nextID.Add(1), listener: listener,
		slots: make(chan *slot, maxInFlight), closing: make(chan struct{}),
		log: s.Logger.With(zap.String("listener", listener), zap.Stringer("remote", nc.RemoteAddr())),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.serve()
		c.close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
}

// Shutdown stops accepting, stops reading new requests, lets requests in
// flight answer until ctx ends, then closes every connection.
func (s *Server) Shutdown(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	for _, ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		// Unblock the reader; the writer keeps draining answered slots.
		if tc, ok := c.nc.(*net.TCPConn); ok {
			tc.CloseRead()
		} else {
			c.close()
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.close()
		}
		s.mu.Unlock()
		<-done
	}
}

// framePool recycles request frame buffers by power-of-two size class, so a
// busy connection does not allocate a buffer per request.
type framePool struct {
	classes [28]sync.Pool
}

func sizeClass(n int) int {
	c := 0
	for (1 << (c + 9)) < n {
		c++
	}
	return c
}

func (p *framePool) get(n int) *[]byte {
	c := sizeClass(n)
	if c < len(p.classes) {
		if b, ok := p.classes[c].Get().(*[]byte); ok {
			*b = (*b)[:n]
			return b
		}
		b := make([]byte, n, 1<<(c+9))
		return &b
	}
	b := make([]byte, n)
	return &b
}

func (p *framePool) put(b *[]byte) {
	if b == nil {
		return
	}
	c := sizeClass(cap(*b))
	if c < len(p.classes) && cap(*b) == 1<<(c+9) {
		p.classes[c].Put(b)
	}
}
