package security

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
)

// AuthedConn is a connection that authenticated with SASL. Reauthenticate
// is not done in place: a client whose session nears its end (KIP-368)
// should close it and dial again before its next request.
type AuthedConn struct {
	net.Conn
	renewAt time.Time // zero: never
}

// Expired reports whether the session is near or past its lifetime.
func (c *AuthedConn) Expired(now time.Time) bool {
	return !c.renewAt.IsZero() && !now.Before(c.renewAt)
}

// authenticate runs SaslHandshake v1 and SaslAuthenticate v1 on nc.
func authenticate(ctx context.Context, nc net.Conn, mech sasl.Mechanism, clientID, host string) (*AuthedConn, error) {
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	} else {
		nc.SetDeadline(time.Now().Add(30 * time.Second))
	}
	defer nc.SetDeadline(time.Time{})
	rt := &roundTripper{nc: nc, clientID: clientID}
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, mech.Name()
	hresp := kmsg.NewPtrSASLHandshakeResponse()
	if err := rt.do(hs, hresp); err != nil {
		return nil, err
	}
	if err := kerr.ErrorForCode(hresp.ErrorCode); err != nil {
		return nil, fmt.Errorf("handshake: %w (the server enables %v)", err, hresp.SupportedMechanisms)
	}
	sess, tok, err := mech.Authenticate(ctx, host)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	for {
		req := kmsg.NewPtrSASLAuthenticateRequest()
		req.Version, req.SASLAuthBytes = 1, tok
		resp := kmsg.NewPtrSASLAuthenticateResponse()
		if err := rt.do(req, resp); err != nil {
			return nil, err
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			if resp.ErrorMessage != nil {
				return nil, fmt.Errorf("%w: %s", err, *resp.ErrorMessage)
			}
			return nil, err
		}
		done, next, err := sess.Challenge(resp.SASLAuthBytes)
		if err != nil {
			return nil, err
		}
		if done {
			c := &AuthedConn{Conn: nc}
			if life := time.Duration(resp.SessionLifetimeMillis) * time.Millisecond; life > 0 {
				// Renew well before the server would close the connection,
				// as Kafka's clients do (at 85-95% of the lifetime).
				c.renewAt = start.Add(life * 85 / 100)
			}
			return c, nil
		}
		tok = next
	}
}

type roundTripper struct {
	nc       net.Conn
	clientID string
	corr     int32
	buf      []byte
}

// do sends req with a v1 request header (both SASL requests are not
// flexible at v1) and reads resp.
func (r *roundTripper) do(req kmsg.Request, resp kmsg.Response) error {
	r.corr++
	b := append(r.buf[:0], 0, 0, 0, 0)
	b = kbin.AppendInt16(b, req.Key())
	b = kbin.AppendInt16(b, req.GetVersion())
	b = kbin.AppendInt32(b, r.corr)
	b = kbin.AppendString(b, r.clientID)
	b = req.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	r.buf = b
	if _, err := r.nc.Write(b); err != nil {
		return err
	}
	var size [4]byte
	if _, err := io.ReadFull(r.nc, size[:]); err != nil {
		return fmt.Errorf("reading the %s response: %w", kmsg.NameForKey(req.Key()), err)
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 || n > 1<<20 {
		return fmt.Errorf("%s response of %d bytes", kmsg.NameForKey(req.Key()), n)
	}
	frame := make([]byte, n)
	if _, err := io.ReadFull(r.nc, frame); err != nil {
		return err
	}
	if int32(binary.BigEndian.Uint32(frame)) != r.corr {
		return fmt.Errorf("%s response has the wrong correlation id", kmsg.NameForKey(req.Key()))
	}
	resp.SetVersion(req.GetVersion())
	return resp.ReadFrom(frame[4:])
}
