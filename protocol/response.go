package protocol

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Response is what a handler answers with.
type Response struct {
	// Msg is encoded with kmsg after the response header.
	Msg kmsg.Response
	// Body, when set instead of Msg, writes a hand-encoded body (a fetch
	// response holding file regions sent with sendfile).
	Body Body
	// Raw, when set, is a body sent as is (private Spool APIs).
	Raw []byte
	// Frame is a whole frame sent as is, length included and no response
	// header (a raw SASL token after SaslHandshake v0).
	Frame []byte
	// None sends nothing back (acks=0 produce). The slot is still
	// consumed in order.
	None bool
	// Close closes the connection after anything else is written; Kafka
	// does this for requests it cannot parse or does not support.
	Close bool
	// Throttle mutes the connection for this long once the response is
	// written (KIP-219): no further request is read from it meanwhile, so
	// a client that ignores throttle_time_ms is held as well.
	Throttle time.Duration
}

// Body is a hand-encoded response body.
type Body interface {
	// Len is the exact number of bytes WriteTo will write.
	Len() int
	// Flexible reports whether the response header needs a tag section.
	Flexible() bool
	// WriteTo writes the body. A short write is fatal for the connection,
	// since the frame length was already sent.
	WriteTo(w *Writer) error
	// Release frees what the body pinned (file regions), after writing or
	// when the connection died first.
	Release()
}

// Msg wraps a kmsg response.
func Msg(m kmsg.Response) Response { return Response{Msg: m} }

// CloseConn is the answer to a request that must close the connection.
var CloseConn = Response{Close: true}
