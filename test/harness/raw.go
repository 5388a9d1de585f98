package harness

import (
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Request sends one request to addr on a fresh connection and returns the
// response, without the version negotiation or routing a client library
// would do: for controller listeners, which serve only the KRaft APIs, and
// for tests of raw protocol behaviour. req's version must be set.
func Request(addr string, req kmsg.Request, timeout time.Duration) (kmsg.Response, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return RequestOn(c, req, timeout)
}

// RequestTLS is Request over TLS with cfg.
func RequestTLS(addr string, cfg *tls.Config, req kmsg.Request, timeout time.Duration) (kmsg.Response, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: timeout}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return RequestOn(c, req, timeout)
}

// RequestOn sends req on an open connection and reads its response.
func RequestOn(c net.Conn, req kmsg.Request, timeout time.Duration) (kmsg.Response, error) {
	c.SetDeadline(time.Now().Add(timeout))
	buf := []byte{0, 0, 0, 0}
	buf = kbin.AppendInt16(buf, req.Key())
	buf = kbin.AppendInt16(buf, req.GetVersion())
	buf = kbin.AppendInt32(buf, 1)
	buf = kbin.AppendString(buf, "spool-test")
	if req.IsFlexible() {
		buf = append(buf, 0)
	}
	buf = req.AppendTo(buf)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	if _, err := c.Write(buf); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return nil, err
	}
	frame := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, frame); err != nil {
		return nil, err
	}
	body := frame[4:]
	if req.IsFlexible() && req.Key() != 18 {
		if len(body) == 0 || body[0] != 0 {
			return nil, fmt.Errorf("unexpected response header tags")
		}
		body = body[1:]
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	return resp, resp.ReadFrom(body)
}
