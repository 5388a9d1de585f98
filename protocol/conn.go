package protocol

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"go.uber.org/zap"

	"spool/security"
)

var errUnknownKey = errors.New("unknown api key")

// maxInFlight bounds the requests a connection may have unanswered; the
// reader stops reading until the oldest is written.
const maxInFlight = 128

// slot is one request's place in the connection's response order.
type slot struct {
	done     chan struct{}
	answered atomic.Bool
	resp     Response
	hdr      Header
	flexible bool
	frame    *[]byte
	// charge is the decode charge taken besides the frame's bytes.
	charge int64
	read   time.Time // when the request was read, for its latency
	who    security.Principal
}

type conn struct {
	srv *Server
	nc  net.Conn
	// tcp is the accepted socket under nc (nc is a *tls.Conn on TLS
	// listeners); Shutdown half-closes it.
	tcp      net.Conn
	auth     *ConnAuth
	id       uint64
	listener string
	log      *zap.Logger
	slots    chan *slot
	closing  chan struct{}
	closeMu  sync.Once
	// ctx is every request's context: cancelled when the connection closes.
	ctx    context.Context
	cancel context.CancelFunc
	// inflight counts requests read and not yet written back; a connection
	// waiting on one is not idle.
	inflight atomic.Int32
	badLogs  LogLimiter
	reqs     *ListenerRequests // nil when the server counts nothing
	// mutedUntil (unix nanoseconds) holds the reader back after a
	// throttled response (KIP-219).
	mutedUntil atomic.Int64
}

// badFrameLogInterval is how often one connection may log bad input.
const badFrameLogInterval = 10 * time.Second

func (c *conn) close() {
	c.closeMu.Do(func() {
		close(c.closing)
		c.cancel()
		c.nc.Close()
	})
}

// badFrame counts a request that closes the connection and logs it, at most
// one line per connection per interval and a few a second per server.
func (c *conn) badFrame(msg string, fields ...zap.Field) {
	c.srv.Stats.BadFrames.Add(1)
	ok, dropped := c.badLogs.Allow(time.Now())
	if !ok {
		return
	}
	if ok, d := c.srv.logLimit.Allow(time.Now()); !ok {
		return
	} else {
		dropped += d
	}
	c.log.Warn(msg, append(fields, zap.Int("lines_suppressed", dropped))...)
}

// serve runs the reader on the calling goroutine and the writer beside it.
func (c *conn) serve() {
	if !c.secure() {
		return
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	c.readLoop()
	if !c.srv.shuttingDown() {
		// The peer went away (or sent something that closes the
		// connection): nobody will read the answers in flight. On
		// shutdown they get the grace period instead.
		c.cancel()
	}
	close(c.slots)
	<-writerDone
}

func (c *conn) readLoop() {
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("panic reading request; closing connection", zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
			c.close()
		}
	}()
	var size [4]byte
	for {
		if !c.waitUnmuted() {
			return
		}
		if !c.readSize(size[:]) {
			return
		}
		n := int32(binary.BigEndian.Uint32(size[:]))
		if limit := c.maxFrame(); n < 0 || int(n) > limit {
			c.badFrame("request frame too large; closing connection",
				zap.Int32("size", n), zap.Int("limit", limit))
			return
		}
		frame := c.srv.allocFrame(int(n), c.closing)
		if frame == nil {
			return
		}
		c.nc.SetReadDeadline(time.Now().Add(c.srv.Limits.FrameTimeout))
		if _, err := io.ReadFull(c.nc, *frame); err != nil {
			c.srv.freeFrame(frame)
			if isTimeout(err) {
				c.srv.Stats.SlowClosed.Add(1)
				c.badFrame("request frame arrived too slowly; closing connection", zap.Int32("size", n),
					zap.Duration("socket.request.read.timeout.ms", c.srv.Limits.FrameTimeout))
				return
			}
			c.logReadErr(err)
			return
		}
		if c.auth.SASL != nil && c.auth.SASL.RawTokens() {
			if !c.rawToken(frame) {
				return
			}
			continue
		}
		if !c.dispatch(frame) {
			return
		}
	}
}

// mute stops the reader for d from now (or longer, if already muted
// longer), once the throttled response is on its way.
func (c *conn) mute(d time.Duration) {
	until := time.Now().Add(d).UnixNano()
	for {
		cur := c.mutedUntil.Load()
		if cur >= until || c.mutedUntil.CompareAndSwap(cur, until) {
			break
		}
	}
	c.srv.Stats.ThrottleMutes.Add(1)
}

// waitUnmuted waits out a mute; false when the connection closes first.
func (c *conn) waitUnmuted() bool {
	for {
		wait := time.Until(time.Unix(0, c.mutedUntil.Load()))
		if wait <= 0 {
			return true
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.closing:
			t.Stop()
			return false
		}
	}
}

// readSize reads the next frame's size. The connection may stay silent for
// connections.max.idle.ms while nothing is in flight; a request still being
// served (a long poll) keeps it open. Once a frame has started, its size
// must arrive within the frame timeout like the rest of it.
func (c *conn) readSize(size []byte) bool {
	for {
		c.nc.SetReadDeadline(time.Now().Add(c.srv.Limits.Idle))
		got, err := io.ReadFull(c.nc, size[:1])
		if err == nil {
			break
		}
		if !isTimeout(err) || got > 0 {
			c.logReadErr(err)
			return false
		}
		if c.inflight.Load() > 0 {
			continue
		}
		c.srv.Stats.IdleClosed.Add(1)
		c.log.Debug("idle connection closed", zap.Duration("connections.max.idle.ms", c.srv.Limits.Idle))
		return false
	}
	c.nc.SetReadDeadline(time.Now().Add(c.srv.Limits.FrameTimeout))
	if _, err := io.ReadFull(c.nc, size[1:]); err != nil {
		if isTimeout(err) {
			c.srv.Stats.SlowClosed.Add(1)
			c.badFrame("request frame arrived too slowly; closing connection",
				zap.Duration("socket.request.read.timeout.ms", c.srv.Limits.FrameTimeout))
			return false
		}
		c.logReadErr(err)
		return false
	}
	return true
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (c *conn) logReadErr(err error) {
	select {
	case <-c.closing:
		return
	default:
	}
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return
	}
	c.log.Debug("connection read failed", zap.Error(err))
}

// dispatch parses one frame and hands it to the handler; false closes the
// connection.
func (c *conn) dispatch(frame *[]byte) bool {
	hdr, msg, body, err := parseHeader(*frame)
	if err != nil {
		c.badFrame("unparseable request header; closing connection", zap.Error(err))
		c.srv.freeFrame(frame)
		return false
	}
	if !c.admit(hdr.Key) {
		c.srv.freeFrame(frame)
		return false
	}
	s := &slot{done: make(chan struct{}), hdr: hdr, frame: frame, read: time.Now(), who: c.auth.Principal}
	if msg != nil {
		s.flexible = msg.IsFlexible()
	}
	if !c.chargeDecode(s, len(body)) {
		c.srv.freeFrame(frame)
		return false
	}
	c.inflight.Add(1)
	select {
	case c.slots <- s:
	case <-c.closing:
		c.inflight.Add(-1)
		c.srv.freeSlot(s)
		return false
	}
	req := &Request{Header: hdr, Listener: c.listener, Remote: c.nc.RemoteAddr(), Body: body, Msg: msg, ConnID: c.id, ctx: c.ctx, conn: c,
		Principal: c.auth.Principal, TokenAuthenticated: c.auth.TokenAuthenticated, Auth: c.auth}
	c.callHandler(req, s)
	select {
	case <-c.closing:
		return false
	default:
		return true
	}
}

// chargeDecode takes a request's decode charge (decode_charge.go) from the
// budget, waiting for room; false closes the connection: it closed, or the
// request could decode to more than the whole budget.
func (c *conn) chargeDecode(s *slot, n int) bool {
	charge := decodeCharge(s.hdr.Key, n)
	if charge == 0 {
		return true
	}
	if charge > c.srv.budget.max {
		c.badFrame("request could decode to more than queued.max.request.bytes; closing connection",
			zap.Int16("api_key", s.hdr.Key), zap.Int("size", n), zap.Int64("worst_case", charge))
		return false
	}
	if !c.srv.budget.acquire(charge, c.closing) {
		return false
	}
	s.charge = charge
	return true
}

func (c *conn) callHandler(req *Request, s *slot) {
	respond := func(r Response) {
		if s.answered.Swap(true) {
			return
		}
		s.resp = r
		close(s.done)
	}
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("panic serving request; closing connection",
				zap.Int16("api_key", req.Key), zap.Int16("api_version", req.Version),
				zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
			respond(CloseConn)
		}
	}()
	c.srv.Handler.Serve(req, respond)
}

func (c *conn) writeLoop() {
	w := newWriter(c.nc, c.srv.Stats)
	broken := false
	for s := range c.slots {
		select {
		case <-s.done:
		default:
			// Not answered yet: what is buffered must not wait behind it
			// (a pipelined produce would otherwise hold every answer back
			// until the next one is ready).
			if !broken {
				if err := w.Flush(); err != nil {
					broken = true
					c.close()
				}
			}
			select {
			case <-s.done:
			case <-c.closing:
				// Still wait for the handler: it may hold the frame buffer.
				<-s.done
			}
		}
		if !broken {
			if err := c.writeResponse(w, s); err != nil {
				broken = true
				c.log.Debug("connection write failed", zap.Error(err))
				c.close()
			}
		} else if s.resp.Body != nil {
			s.resp.Body.Release()
		}
		if d := s.resp.Throttle; d > 0 && !broken {
			c.mute(d)
		}
		c.answered(s)
		c.srv.freeSlot(s)
		c.inflight.Add(-1)
		if !broken && len(c.slots) == 0 {
			if err := w.Flush(); err != nil {
				broken = true
				c.close()
			}
		}
	}
	if !broken {
		w.Flush()
	}
}

func (c *conn) writeResponse(w *Writer, s *slot) error {
	r := s.resp
	if r.Body != nil {
		defer r.Body.Release()
	}
	switch {
	case r.Msg != nil:
		if err := w.appendMsg(s.hdr, r.Msg); err != nil {
			return err
		}
	case r.Body != nil:
		flex := responseHeaderFlexible(s.hdr.Key, r.Body.Flexible())
		var hb [9]byte
		h := appendFrameHeader(hb[:0], s.hdr.CorrelationID, flex)
		binary.BigEndian.PutUint32(h, uint32(len(h)-4+r.Body.Len()))
		if _, err := w.Write(h); err != nil {
			return err
		}
		if err := r.Body.WriteTo(w); err != nil {
			return fmt.Errorf("write response body: %w", err)
		}
	case r.Frame != nil:
		if _, err := w.Write(r.Frame); err != nil {
			return err
		}
	case r.Raw != nil:
		var hb [9]byte
		h := appendFrameHeader(hb[:0], s.hdr.CorrelationID, false)
		binary.BigEndian.PutUint32(h, uint32(len(h)-4+len(r.Raw)))
		w.Write(h)
		if _, err := w.Write(r.Raw); err != nil {
			return err
		}
	}
	if r.Close {
		w.Flush()
		return errors.New("handler closed the connection")
	}
	return nil
}

// appendFrameHeader appends a length placeholder, the correlation id and,
// for flexible headers, an empty tag section.
func appendFrameHeader(dst []byte, corr int32, flexible bool) []byte {
	dst = append(dst, 0, 0, 0, 0)
	dst = kbin.AppendInt32(dst, corr)
	if flexible {
		dst = append(dst, 0)
	}
	return dst
}
