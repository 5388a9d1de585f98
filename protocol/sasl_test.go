package protocol

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// On a listener without SASL both SASL requests get ILLEGAL_SASL_STATE and
// the connection stays open, as Kafka answers them.
func TestSaslRequestsOnPlaintextListener(t *testing.T) {
	for _, req := range []kmsg.Request{kmsg.NewPtrSASLHandshakeRequest(), kmsg.NewPtrSASLAuthenticateRequest()} {
		var got Response
		r := &Request{Msg: req, Auth: &ConnAuth{}}
		if _, ok := req.(*kmsg.SASLHandshakeRequest); ok {
			ServeSaslHandshake(r, func(resp Response) { got = resp })
		} else {
			ServeSaslAuthenticate(r, func(resp Response) { got = resp })
		}
		if got.Close {
			t.Errorf("%s closed the connection", kmsg.NameForKey(req.Key()))
		}
		var code int16
		switch m := got.Msg.(type) {
		case *kmsg.SASLHandshakeResponse:
			code = m.ErrorCode
		case *kmsg.SASLAuthenticateResponse:
			code = m.ErrorCode
		}
		if code != illegalSaslState {
			t.Errorf("%s: error code %d, want ILLEGAL_SASL_STATE", kmsg.NameForKey(req.Key()), code)
		}
	}
}
