package protocol

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// FuzzRequest feeds arbitrary frames through header parsing, version checks
// and kmsg decoding for every API kmsg knows. None may panic: a panic here
// would take a connection (or, outside the per-connection recover, the
// process) down.
func FuzzRequest(f *testing.F) {
	for _, key := range []int16{0, 1, 2, 3, 8, 9, 10, 11, 18, 19, 20, 32, 60} {
		req := kmsg.RequestForKey(key)
		for _, v := range []int16{0, req.MaxVersion() / 2, req.MaxVersion()} {
			req.SetVersion(v)
			f.Add(req.AppendTo(AppendRequestHeader(nil, req, 1, "fuzz")))
		}
	}
	mux := NewMux(zap.NewNop())
	for key := int16(0); key < 100; key++ {
		req := kmsg.RequestForKey(key)
		if req == nil || key == ApiVersionsKey {
			continue
		}
		mux.Handle(key, 0, req.MaxVersion(), func(r *Request, respond func(Response)) {
			respond(Msg(r.Msg.ResponseKind()))
		})
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		hdr, msg, body, err := parseHeader(frame)
		if err != nil {
			return
		}
		req := &Request{Header: hdr, Body: body, Msg: msg, Listener: "PLAINTEXT", Remote: fakeAddr{}}
		mux.Serve(req, func(Response) {})
	})
}

type fakeAddr struct{}

func (fakeAddr) Network() string { return "tcp" }
func (fakeAddr) String() string  { return "fuzz" }
