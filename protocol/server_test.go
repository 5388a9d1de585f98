package protocol

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// startServer serves mux on a loopback port and returns its address.
func startServer(t *testing.T, mux *Mux, maxReq int) (string, *Server) {
	t.Helper()
	srv := NewServer(mux, maxReq, zap.NewNop())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve(ln, "PLAINTEXT")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ln.Addr().String(), srv
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(15 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// writeRequest frames req (its version set) with correlation id corr.
func writeRequest(t *testing.T, c net.Conn, req kmsg.Request, corr int32) {
	t.Helper()
	buf := AppendRequestHeader([]byte{0, 0, 0, 0}, req, corr, "test")
	buf = req.AppendTo(buf)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	if _, err := c.Write(buf); err != nil {
		t.Fatal(err)
	}
}

// readResponse reads one frame and returns its correlation id and body
// (after the header, which is flexible when flex is set).
func readResponse(t *testing.T, c net.Conn, flex bool) (int32, []byte) {
	t.Helper()
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		t.Fatalf("read response: %v", err)
	}
	frame := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, frame); err != nil {
		t.Fatal(err)
	}
	corr := int32(binary.BigEndian.Uint32(frame))
	body := frame[4:]
	if flex {
		r := kbin.Reader{Src: body}
		skipTags(&r)
		body = r.Src
	}
	return corr, body
}

// expectClosed asserts the server closes the connection.
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	if n, err := c.Read(b[:]); err == nil || n > 0 {
		t.Fatalf("connection still open (read %d bytes, err %v)", n, err)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("connection not closed within 10s")
	}
}

func TestApiVersionsAllVersions(t *testing.T) {
	mux := NewMux(zap.NewNop())
	mux.Handle(3, 0, 12, func(r *Request, respond func(Response)) { respond(Msg(r.Msg.ResponseKind())) })
	addr, _ := startServer(t, mux, 1<<20)
	c := dial(t, addr)
	for v := int16(0); v <= 5; v++ {
		req := kmsg.NewPtrApiVersionsRequest()
		req.SetVersion(v)
		req.ClientSoftwareName, req.ClientSoftwareVersion = "spool-test", "1.0"
		writeRequest(t, c, req, int32(v))
		corr, body := readResponse(t, c, false) // ApiVersions always uses header v0
		if corr != int32(v) {
			t.Fatalf("v%d: correlation %d", v, corr)
		}
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.SetVersion(v)
		if err := resp.ReadFrom(body); err != nil {
			t.Fatalf("v%d: decode: %v", v, err)
		}
		if resp.ErrorCode != 0 || len(resp.ApiKeys) != 2 || resp.ApiKeys[0].ApiKey != 3 || resp.ApiKeys[1].ApiKey != 18 {
			t.Fatalf("v%d: %+v", v, resp)
		}
	}
}

// KIP-511: a too-new ApiVersions gets a v0 answer with UNSUPPORTED_VERSION
// and the table, so the client can retry with a version we speak.
func TestApiVersionsTooNew(t *testing.T) {
	addr, _ := startServer(t, NewMux(zap.NewNop()), 1<<20)
	c := dial(t, addr)
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(9)
	writeRequest(t, c, req, 7)
	corr, body := readResponse(t, c, false)
	resp := kmsg.NewPtrApiVersionsResponse() // v0
	if err := resp.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
	if corr != 7 || resp.ErrorCode != kerr.UnsupportedVersion.Code || len(resp.ApiKeys) != 1 || resp.ApiKeys[0].MaxVersion != 5 {
		t.Fatalf("corr %d resp %+v", corr, resp)
	}
}

func TestApiVersionsBadClientSoftware(t *testing.T) {
	addr, _ := startServer(t, NewMux(zap.NewNop()), 1<<20)
	c := dial(t, addr)
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(3)
	req.ClientSoftwareName, req.ClientSoftwareVersion = "-bad name-", "1"
	writeRequest(t, c, req, 1)
	_, body := readResponse(t, c, false)
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(3)
	if err := resp.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("error %d, want INVALID_REQUEST", resp.ErrorCode)
	}
}

func TestClosesOnUnknownKeyAndUnsupportedVersion(t *testing.T) {
	mux := NewMux(zap.NewNop())
	mux.Handle(3, 0, 12, func(r *Request, respond func(Response)) { respond(Msg(r.Msg.ResponseKind())) })
	addr, _ := startServer(t, mux, 1<<20)

	c := dial(t, addr)
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(13) // registered only up to 12
	writeRequest(t, c, req, 1)
	expectClosed(t, c)

	c = dial(t, addr)
	fetch := kmsg.NewPtrFetchRequest() // not registered at all
	fetch.SetVersion(4)
	writeRequest(t, c, fetch, 1)
	expectClosed(t, c)

	// The server is still serving.
	c = dial(t, addr)
	req.SetVersion(12)
	writeRequest(t, c, req, 2)
	if corr, _ := readResponse(t, c, true); corr != 2 {
		t.Fatalf("correlation %d", corr)
	}
}

func TestClosesOnOversizedAndGarbageFrames(t *testing.T) {
	mux := NewMux(zap.NewNop())
	mux.Handle(3, 0, 12, func(r *Request, respond func(Response)) { respond(Msg(r.Msg.ResponseKind())) })
	addr, _ := startServer(t, mux, 1024)

	c := dial(t, addr)
	c.Write([]byte{0, 0, 8, 0}) // 2048 > 1024
	expectClosed(t, c)

	c = dial(t, addr)
	c.Write([]byte{0, 0, 0, 3, 1, 2, 3}) // shorter than a header
	expectClosed(t, c)

	c = dial(t, addr)
	// A Metadata v12 header followed by a body that claims 1e9 topics.
	garbage := []byte{0, 3, 0, 12, 0, 0, 0, 1, 0xff, 0xff, 0, 0x80, 0x80, 0x80, 0x80, 0x04}
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(garbage)))
	c.Write(append(frame, garbage...))
	expectClosed(t, c)
}

// Answers go out in request order even when handlers answer out of order.
func TestPipelinedResponsesInOrder(t *testing.T) {
	mux := NewMux(zap.NewNop())
	release := make(chan struct{})
	mux.Handle(3, 0, 12, func(r *Request, respond func(Response)) {
		resp := r.Msg.ResponseKind()
		if r.CorrelationID == 1 {
			go func() { <-release; respond(Msg(resp)) }()
			return
		}
		respond(Msg(resp))
		if r.CorrelationID == 3 {
			close(release)
		}
	})
	addr, _ := startServer(t, mux, 1<<20)
	c := dial(t, addr)
	for corr := int32(1); corr <= 3; corr++ {
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(12)
		writeRequest(t, c, req, corr)
	}
	for want := int32(1); want <= 3; want++ {
		if corr, _ := readResponse(t, c, true); corr != want {
			t.Fatalf("response %d arrived in position %d", corr, want)
		}
	}
}

// An answered request goes out at once even while a later one on the same
// connection is still unanswered: a pipelining producer must not see each
// acknowledgement held back until the next one is ready.
func TestAnswerNotHeldBehindLaterRequest(t *testing.T) {
	mux := NewMux(zap.NewNop())
	release := make(chan struct{})
	mux.Handle(3, 0, 12, func(r *Request, respond func(Response)) {
		resp := r.Msg.ResponseKind()
		if r.CorrelationID == 2 {
			go func() { <-release; respond(Msg(resp)) }()
			return
		}
		respond(Msg(resp))
	})
	addr, _ := startServer(t, mux, 1<<20)
	c := dial(t, addr)
	for corr := int32(1); corr <= 2; corr++ {
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(12)
		writeRequest(t, c, req, corr)
	}
	defer close(release)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if corr, _ := readResponse(t, c, true); corr != 1 {
		t.Fatalf("first response has correlation %d", corr)
	}
}

func TestHandlerPanicClosesOnlyThatConnection(t *testing.T) {
	mux := NewMux(zap.NewNop())
	mux.Handle(3, 0, 12, func(r *Request, respond func(Response)) {
		if r.CorrelationID == 66 {
			panic("boom")
		}
		respond(Msg(r.Msg.ResponseKind()))
	})
	addr, _ := startServer(t, mux, 1<<20)
	c := dial(t, addr)
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(12)
	writeRequest(t, c, req, 66)
	expectClosed(t, c)
	c = dial(t, addr)
	writeRequest(t, c, req, 1)
	if corr, _ := readResponse(t, c, true); corr != 1 {
		t.Fatalf("correlation %d", corr)
	}
}

func TestClientRoundTrip(t *testing.T) {
	mux := NewMux(zap.NewNop())
	addr, _ := startServer(t, mux, 1<<20)
	cl := NewClient(addr, "test")
	defer cl.Close()
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(4)
	req.ClientSoftwareName, req.ClientSoftwareVersion = "t", "1"
	resp, err := cl.Request(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.(*kmsg.ApiVersionsResponse).ApiKeys) != 1 {
		t.Fatalf("%+v", resp)
	}
}

// KIP-1242: ApiVersions v5 names the cluster and node the client meant;
// a mismatch is REBOOTSTRAP_REQUIRED, naming only one is INVALID_REQUEST,
// and either error comes without the table, as Kafka answers.
func TestApiVersionsTarget(t *testing.T) {
	mux := NewMux(zap.NewNop())
	mux.ClusterID, mux.NodeID = "cluster-a", 3
	addr, _ := startServer(t, mux, 1<<20)
	c := dial(t, addr)
	for i, tc := range []struct {
		cluster *string
		node    int32
		code    int16
	}{
		{kmsg.StringPtr("cluster-a"), 3, 0},
		{nil, -1, 0},
		{kmsg.StringPtr("cluster-b"), 3, kerr.RebootstrapRequired.Code},
		{kmsg.StringPtr("cluster-a"), 4, kerr.RebootstrapRequired.Code},
		{kmsg.StringPtr("cluster-a"), -1, kerr.InvalidRequest.Code},
		{nil, 3, kerr.InvalidRequest.Code},
	} {
		req := kmsg.NewPtrApiVersionsRequest()
		req.SetVersion(5)
		req.ClientSoftwareName, req.ClientSoftwareVersion = "spool-test", "1.0"
		req.ClusterID, req.NodeID = tc.cluster, tc.node
		writeRequest(t, c, req, int32(i))
		_, body := readResponse(t, c, false)
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.SetVersion(5)
		if err := resp.ReadFrom(body); err != nil {
			t.Fatal(err)
		}
		if resp.ErrorCode != tc.code || (tc.code == 0) != (len(resp.ApiKeys) > 0) {
			t.Errorf("case %d: error %d with %d keys, want error %d", i, resp.ErrorCode, len(resp.ApiKeys), tc.code)
		}
	}
}
