package protocol

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ApiVersionsKey always uses response header v0 (KIP-511), even when the
// request is flexible, so that a client can parse the answer before it
// knows which versions the broker speaks.
const ApiVersionsKey = 18

// Header is a parsed request header (v0 to v2).
type Header struct {
	Key           int16
	Version       int16
	CorrelationID int32
	ClientID      *string
}

var errShortHeader = errors.New("request header truncated")

// parseHeader reads the request header from a frame and returns the body.
// The flexibility of the header follows from the key and version, so a key
// kmsg does not know can only be parsed up to the client id.
func parseHeader(frame []byte) (Header, kmsg.Request, []byte, error) {
	if len(frame) < 8 {
		return Header{}, nil, nil, errShortHeader
	}
	r := kbin.Reader{Src: frame}
	h := Header{Key: r.Int16(), Version: r.Int16(), CorrelationID: r.Int32()}
	// The client id stays a non-compact nullable string even in header v2.
	h.ClientID = r.NullableString()
	if err := r.Complete(); err != nil && !r.Ok() {
		return h, nil, nil, errShortHeader
	}
	req := kmsg.RequestForKey(h.Key)
	if req == nil {
		return h, nil, r.Src, nil
	}
	req.SetVersion(h.Version)
	if req.IsFlexible() {
		skipTags(&r)
		if !r.Ok() {
			return h, nil, nil, fmt.Errorf("request header tags truncated")
		}
	}
	return h, req, r.Src, nil
}

func skipTags(r *kbin.Reader) {
	for n := r.Uvarint(); n > 0 && r.Ok(); n-- {
		r.Uvarint()
		r.Span(int(r.Uvarint()))
	}
}

// AppendRequestHeader writes a request header for req (used by Client).
func AppendRequestHeader(dst []byte, req kmsg.Request, corr int32, clientID string) []byte {
	dst = kbin.AppendInt16(dst, req.Key())
	dst = kbin.AppendInt16(dst, req.GetVersion())
	dst = kbin.AppendInt32(dst, corr)
	dst = kbin.AppendString(dst, clientID)
	if req.IsFlexible() {
		dst = append(dst, 0)
	}
	return dst
}

// responseHeaderFlexible reports whether the response header carries a tag
// section: flexible responses do, except ApiVersions.
func responseHeaderFlexible(key int16, flexible bool) bool {
	return flexible && key != ApiVersionsKey
}
