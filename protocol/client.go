package protocol

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Client sends requests to one Spool process (a broker to its controller, a
// controller to a peer) over one connection, one request at a time. It
// redials after any error. Versions are set by the caller: both ends are
// Spool, so there is nothing to negotiate.
type Client struct {
	addr     string
	clientID string
	dial     DialFunc

	mu   sync.Mutex
	nc   net.Conn
	corr int32
	buf  []byte
	// resp is the response buffer kept by ReuseResponses.
	resp []byte
	// reuse: see ReuseResponses.
	reuse bool
}

// maxReusedResponse bounds the response buffer a client keeps.
const maxReusedResponse = 64 << 20

// ReuseResponses makes the client read every response into one buffer it
// keeps, instead of a fresh one each time: a response's byte fields (kmsg
// decodes them in place) are then valid only until the next request. For a
// caller that is done with each response before sending the next, such as
// a replica fetcher, this spares allocating and zeroing megabytes per fetch.
func (c *Client) ReuseResponses() {
	c.mu.Lock()
	c.reuse = true
	c.mu.Unlock()
}

// DialFunc opens a connection ready for requests: plain TCP, or TCP with
// TLS and SASL done (security.ClientConfig.Dialer).
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// NewClient returns a client for addr over plain TCP.
func NewClient(addr, clientID string) *Client {
	return NewClientDial(addr, clientID, nil)
}

// NewClientDial returns a client for addr that connects with dial (nil:
// plain TCP).
func NewClientDial(addr, clientID string, dial DialFunc) *Client {
	if dial == nil {
		d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
		dial = d.DialContext
	}
	return &Client{addr: addr, clientID: clientID, dial: dial}
}

// expiring is a connection whose SASL session ends (KIP-368): the client
// dials again, authenticating anew, before the server would close it.
type expiring interface{ Expired(time.Time) bool }

// Addr is the address the client talks to.
func (c *Client) Addr() string { return c.addr }

// Close closes the connection; the next request redials.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop()
}

func (c *Client) drop() {
	if c.nc != nil {
		c.nc.Close()
		c.nc = nil
	}
}

// Request sends req (its version already set) and reads the response.
func (c *Client) Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	body, err := c.roundTrip(ctx, func(dst []byte, corr int32) []byte {
		dst = AppendRequestHeader(dst, req, corr, c.clientID)
		return req.AppendTo(dst)
	}, responseHeaderFlexible(req.Key(), req.IsFlexible()))
	if err != nil {
		return nil, err
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decode %s response from %s: %w", kmsg.NameForKey(req.Key()), c.addr, err)
	}
	return resp, nil
}

// RequestRaw sends a request of a private key whose body is opaque bytes,
// with a v1 (non-flexible) request header, and returns the response body.
func (c *Client) RequestRaw(ctx context.Context, key, version int16, payload []byte) ([]byte, error) {
	return c.roundTrip(ctx, func(dst []byte, corr int32) []byte {
		dst = kbin.AppendInt16(dst, key)
		dst = kbin.AppendInt16(dst, version)
		dst = kbin.AppendInt32(dst, corr)
		dst = kbin.AppendString(dst, c.clientID)
		return append(dst, payload...)
	}, false)
}

func (c *Client) roundTrip(ctx context.Context, encode func([]byte, int32) []byte, flexHeader bool) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.nc.(expiring); ok && e.Expired(time.Now()) {
		c.drop()
	}
	if c.nc == nil {
		nc, err := c.dial(ctx, "tcp", c.addr)
		if err != nil {
			return nil, err
		}
		c.nc = nc
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	c.nc.SetDeadline(deadline)
	// The cancel hook runs on its own goroutine, possibly after this call
	// failed and dropped c.nc: it must touch only this call's connection.
	nc := c.nc
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c.corr++
	corr := c.corr
	c.buf = encode(append(c.buf[:0], 0, 0, 0, 0), corr)
	binary.BigEndian.PutUint32(c.buf, uint32(len(c.buf)-4))
	if _, err := c.nc.Write(c.buf); err != nil {
		c.drop()
		return nil, c.ctxErr(ctx, err)
	}
	var hdr [4]byte
	if _, err := io.ReadFull(c.nc, hdr[:]); err != nil {
		c.drop()
		return nil, c.ctxErr(ctx, err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 4 || n > 1<<30 {
		c.drop()
		return nil, fmt.Errorf("response from %s: bad frame size %d", c.addr, n)
	}
	frame := c.responseBuffer(int(n))
	if _, err := io.ReadFull(c.nc, frame); err != nil {
		c.drop()
		return nil, c.ctxErr(ctx, err)
	}
	if got := int32(binary.BigEndian.Uint32(frame)); got != corr {
		c.drop()
		return nil, fmt.Errorf("response from %s: correlation id %d, want %d", c.addr, got, corr)
	}
	body := frame[4:]
	if flexHeader {
		r := kbin.Reader{Src: body}
		skipTags(&r)
		if !r.Ok() {
			c.drop()
			return nil, fmt.Errorf("response from %s: truncated header", c.addr)
		}
		body = r.Src
	}
	return body, nil
}

// responseBuffer returns n bytes to read a response into; c.mu held.
func (c *Client) responseBuffer(n int) []byte {
	if !c.reuse {
		return make([]byte, n)
	}
	if cap(c.resp) >= n {
		return c.resp[:n]
	}
	b := make([]byte, n)
	if n <= maxReusedResponse {
		c.resp = b
	}
	return b
}

func (c *Client) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%s: %w", c.addr, err)
}
