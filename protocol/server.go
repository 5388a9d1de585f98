package protocol

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"spool/security"
)

// Server accepts connections on any number of listeners and serves them
// with one Handler.
type Server struct {
	Handler        Handler
	MaxRequestSize int
	Logger         *zap.Logger
	Stats          *Stats
	// Limits are the connection limits; set them before Serve.
	Limits Limits
	// Requests counts requests per listener and API (NewServer sets it).
	Requests *RequestStats
	// RequestLog, when it has DEBUG enabled, gets one line per request
	// answered (Kafka's kafka.request.logger).
	RequestLog *zap.Logger
	// ConnectionQuota, when set, is asked about every new connection: a
	// positive answer holds the connection unread for that long and then
	// closes it, as Kafka does to an address over its
	// connection_creation_rate.
	ConnectionQuota func(listener string, ip netip.Addr, now time.Time) time.Duration
	// AcceptRate, when set, is asked before each accepted connection is
	// served: a positive answer holds the listener's accepting for that
	// long (Kafka's max.connection.creation.rate blocks its acceptor).
	AcceptRate func(listener string, now time.Time) time.Duration

	frames framePool
	budget *budget
	nextID atomic.Uint64
	count  *connCounter
	// ctx is every connection's parent: cancelled when Shutdown gives up
	// waiting for requests in flight.
	ctx      context.Context
	cancel   context.CancelFunc
	quit     chan struct{} // closed by Shutdown: accept loops stop backing off
	logLimit LogLimiter    // bounds log lines about bad input server-wide
	mu       sync.Mutex
	lns      []net.Listener
	conns    map[*conn]struct{}
	wg       sync.WaitGroup
	closed   bool
	// security is each listener's TLS and SASL (SetSecurity).
	security map[string]*security.Listener
}

// NewServer returns a server; maxRequestSize is socket.request.max.bytes.
func NewServer(h Handler, maxRequestSize int, log *zap.Logger) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		Handler: h, MaxRequestSize: maxRequestSize, Logger: log, Stats: new(Stats), Limits: DefaultLimits(),
		Requests: NewRequestStats(),
		count:    newConnCounter(), ctx: ctx, cancel: cancel, quit: make(chan struct{}),
		logLimit: LogLimiter{Every: 100 * time.Millisecond}, conns: map[*conn]struct{}{},
	}
}

// Serve accepts connections on ln, naming them after listener, until
// Shutdown. It returns at once; accepting runs in the background.
func (s *Server) Serve(ln net.Listener, listener string) {
	s.mu.Lock()
	if s.budget == nil {
		s.budget = newBudget(QueuedBytes(s.Limits.QueuedBytes, s.MaxRequestSize))
		s.frames.limit = s.budget.max
	}
	s.lns = append(s.lns, ln)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.acceptLoop(ln, listener)
	}()
}

// acceptLoop survives every accept error but the listener's closing: out of
// descriptors (EMFILE, ENFILE), out of memory, a connection aborted before
// it was accepted. Like net/http, it backs off from 5 ms to 1 s and tries
// again, so the listener serves once the cause has passed.
func (s *Server) acceptLoop(ln net.Listener, listener string) {
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err == nil {
			delay = 0
			if !s.waitAcceptRate(listener) {
				nc.Close()
				return
			}
			s.startConn(nc, listener)
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
		s.Stats.AcceptErrors.Add(1)
		delay = min(max(2*delay, 5*time.Millisecond), time.Second)
		if ok, dropped := s.logLimit.Allow(time.Now()); ok {
			s.Logger.Warn("accept failed; retrying", zap.String("listener", listener), zap.Error(err),
				zap.Duration("backoff", delay), zap.Int("lines_suppressed", dropped))
		}
		select {
		case <-s.quit:
			return
		case <-time.After(delay):
		}
	}
}

// waitAcceptRate waits out the accept throttle; false at shutdown.
func (s *Server) waitAcceptRate(listener string) bool {
	if s.AcceptRate == nil {
		return true
	}
	d := s.AcceptRate(listener, time.Now())
	if d <= 0 {
		return true
	}
	s.Stats.AcceptThrottled.Add(1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.quit:
		return false
	}
}

// closeAfter closes a throttled connection after d, or at shutdown.
func (s *Server) closeAfter(nc net.Conn, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.quit:
	}
	nc.Close()
}

func (s *Server) startConn(nc net.Conn, listener string) {
	ip := remoteIP(nc.RemoteAddr())
	if err := s.count.admit(&s.Limits, listener, ip); err != nil {
		// Counted before the close, so whoever sees the close sees the
		// count; closed at once, never left in the backlog or half-served.
		s.Stats.ConnectionsRejected.Add(1)
		nc.Close()
		if ok, dropped := s.logLimit.Allow(time.Now()); ok {
			s.Logger.Info("connection refused: over a limit", zap.String("listener", listener),
				zap.Stringer("remote", nc.RemoteAddr()), zap.String("limit", err.Error()), zap.Int("lines_suppressed", dropped))
		}
		return
	}
	if s.ConnectionQuota != nil {
		if d := s.ConnectionQuota(listener, ip, time.Now()); d > 0 {
			s.count.release(&s.Limits, listener, ip)
			s.Stats.ConnectionsThrottled.Add(1)
			go s.closeAfter(nc, d)
			return
		}
	}
	s.Stats.ConnectionsAccepted.Add(1)
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	c := &conn{
		srv: s, nc: nc, tcp: nc, id: s.nextID.Add(1), listener: listener, ctx: ctx, cancel: cancel,
		slots: make(chan *slot, maxInFlight), closing: make(chan struct{}),
		log:     s.Logger.With(zap.String("listener", listener), zap.Stringer("remote", nc.RemoteAddr())),
		badLogs: LogLimiter{Every: badFrameLogInterval},
	}
	if s.Requests != nil {
		c.reqs = s.Requests.Listener(listener)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.count.release(&s.Limits, listener, ip)
		cancel()
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
		s.count.release(&s.Limits, listener, ip)
	}()
}

// allocFrame takes n bytes from the request budget, waiting while they do
// not fit, and returns a buffer for the frame; nil if stop closed first.
func (s *Server) allocFrame(n int, stop <-chan struct{}) *[]byte {
	if !s.budget.acquire(int64(n), stop) {
		return nil
	}
	return s.frames.get(n)
}

// freeFrame returns a frame's buffer and its bytes of the budget.
func (s *Server) freeFrame(b *[]byte) {
	if b == nil {
		return
	}
	s.budget.release(int64(len(*b)))
	s.frames.put(b)
}

// freeSlot returns a slot's frame and its decode charge to the budget.
func (s *Server) freeSlot(sl *slot) {
	s.freeFrame(sl.frame)
	if sl.charge > 0 {
		s.budget.release(sl.charge)
		sl.charge = 0
	}
}

// QueuedBytes is the request bytes held now (read and not yet answered).
func (s *Server) QueuedBytes() int64 {
	if s.budget == nil {
		return 0
	}
	return s.budget.inUse()
}

func (s *Server) shuttingDown() bool {
	select {
	case <-s.quit:
		return true
	default:
		return false
	}
}

// Connections returns the open connections per listener name.
func (s *Server) Connections() map[string]int {
	if s.count == nil {
		return nil
	}
	return s.count.snapshot()
}

// Shutdown stops accepting, stops reading new requests, lets requests in
// flight answer until ctx ends, then cancels their contexts and closes
// every connection.
func (s *Server) Shutdown(ctx context.Context) {
	s.mu.Lock()
	if !s.closed {
		close(s.quit)
	}
	s.closed = true
	for _, ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		// Unblock the reader; the writer keeps draining answered slots.
		if tc, ok := c.tcp.(*net.TCPConn); ok {
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
		s.cancel()
		s.mu.Lock()
		for c := range s.conns {
			c.close()
		}
		s.mu.Unlock()
		<-done
	}
	s.cancel()
}

// LogLimiter lets one log line through per interval and counts the rest,
// so a flood of bad input cannot turn into a flood of log lines.
type LogLimiter struct {
	Every      time.Duration
	mu         sync.Mutex
	next       time.Time
	suppressed int
}

// Allow reports whether a line may be logged now, and how many were
// suppressed since the last one that was.
func (l *LogLimiter) Allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.next) {
		l.suppressed++
		return false, 0
	}
	l.next = now.Add(l.Every)
	n := l.suppressed
	l.suppressed = 0
	return true, n
}
