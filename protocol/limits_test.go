package protocol

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"spool/config"
)

func metadataMux() *Mux {
	mux := NewMux(zap.NewNop())
	mux.Handle(3, 0, 12, func(r *Request, respond func(Response)) { respond(Msg(r.Msg.ResponseKind())) })
	return mux
}

func startLimited(t *testing.T, mux *Mux, l Limits) (string, *Server) {
	t.Helper()
	srv := NewServer(mux, 1<<20, zap.NewNop())
	srv.Limits = l
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

func roundTrip(t *testing.T, c net.Conn, corr int32) {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(12)
	writeRequest(t, c, req, corr)
	if got, _ := readResponse(t, c, true); got != corr {
		t.Fatalf("correlation %d, want %d", got, corr)
	}
}

// flakyListener fails Accept with EMFILE a number of times before passing
// through, as a process out of descriptors does.
type flakyListener struct {
	net.Listener
	failures atomic.Int32
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.failures.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	return l.Listener.Accept()
}

func TestAcceptSurvivesEMFILE(t *testing.T) {
	srv := NewServer(metadataMux(), 1<<20, zap.NewNop())
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &flakyListener{Listener: inner}
	ln.failures.Store(20)
	srv.Serve(ln, "PLAINTEXT")
	defer srv.Shutdown(context.Background())
	c := dial(t, inner.Addr().String())
	roundTrip(t, c, 1)
	if n := srv.Stats.AcceptErrors.Load(); n != 20 {
		t.Fatalf("%d accept errors counted, want 20", n)
	}
}

func TestMaxConnections(t *testing.T) {
	l := DefaultLimits()
	l.MaxConnections = 2
	addr, srv := startLimited(t, metadataMux(), l)
	a, b := dial(t, addr), dial(t, addr)
	roundTrip(t, a, 1)
	roundTrip(t, b, 1)
	c := dial(t, addr)
	expectClosed(t, c)
	if n := srv.Stats.ConnectionsRejected.Load(); n != 1 {
		t.Fatalf("%d rejected, want 1", n)
	}
	if got := srv.Connections()["PLAINTEXT"]; got != 2 {
		t.Fatalf("%d connections counted on PLAINTEXT, want 2", got)
	}
	a.Close()
	waitFor(t, func() bool { return srv.Connections()["PLAINTEXT"] == 1 })
	roundTrip(t, dial(t, addr), 2)
}

func TestMaxConnectionsExemptListener(t *testing.T) {
	l := DefaultLimits()
	l.MaxConnections = 1
	l.Exempt = map[string]bool{"PLAINTEXT": true}
	addr, _ := startLimited(t, metadataMux(), l)
	for i := range 3 {
		roundTrip(t, dial(t, addr), int32(i))
	}
}

// listener.name.<l>.max.connections bounds one listener, the exempt
// inter-broker one too, and is read from the prefixed key.
func TestMaxConnectionsPerListener(t *testing.T) {
	c := config.MustNew(map[string]string{"listener.name.plaintext.max.connections": "2"})
	l, err := LimitsFromConfig(c, "PLAINTEXT")
	if err != nil {
		t.Fatal(err)
	}
	if l.PerListener["PLAINTEXT"] != 2 {
		t.Fatalf("per-listener limits %v", l.PerListener)
	}
	addr, srv := startLimited(t, metadataMux(), l)
	a, b := dial(t, addr), dial(t, addr)
	roundTrip(t, a, 1)
	roundTrip(t, b, 1)
	expectClosed(t, dial(t, addr))
	if n := srv.Stats.ConnectionsRejected.Load(); n != 1 {
		t.Fatalf("%d rejected, want 1", n)
	}
	b.Close()
	waitFor(t, func() bool { return srv.Connections()["PLAINTEXT"] == 1 })
	roundTrip(t, dial(t, addr), 2)
	if _, problems, _ := config.New(map[string]string{"listener.name.plaintext.max.connections": "-1"}); len(problems) != 1 {
		t.Fatalf("negative per-listener limit: %v", problems)
	}
}

func TestMaxConnectionsPerIPAndOverride(t *testing.T) {
	l := DefaultLimits()
	l.MaxPerIP = 1
	addr, _ := startLimited(t, metadataMux(), l)
	roundTrip(t, dial(t, addr), 1)
	expectClosed(t, dial(t, addr))

	l.PerIP = map[netip.Addr]int{netip.MustParseAddr("127.0.0.1"): 3}
	addr, _ = startLimited(t, metadataMux(), l)
	for i := range 3 {
		roundTrip(t, dial(t, addr), int32(i))
	}
	expectClosed(t, dial(t, addr))
}

func TestLimitsFromConfig(t *testing.T) {
	c := config.MustNew(map[string]string{"max.connections.per.ip": "0", "max.connections.per.ip.overrides": "127.0.0.1:5,[::1]:2,localhost:4"})
	l, err := LimitsFromConfig(c, "REPLICATION")
	if err != nil {
		t.Fatal(err)
	}
	if l.PerIP[netip.MustParseAddr("127.0.0.1")] == 0 || l.PerIP[netip.MustParseAddr("::1")] == 0 || !l.Exempt["REPLICATION"] || l.Idle != 10*time.Minute {
		t.Fatalf("%+v", l)
	}
	if _, err := LimitsFromConfig(config.MustNew(map[string]string{"max.connections.per.ip": "0"})); err == nil {
		t.Fatal("max.connections.per.ip=0 without overrides accepted")
	}
	if _, problems, _ := config.New(map[string]string{"max.connections.per.ip.overrides": "host"}); len(problems) != 1 {
		t.Fatalf("bad overrides: %v", problems)
	}
}

func TestIdleConnectionClosed(t *testing.T) {
	l := DefaultLimits()
	l.Idle = 200 * time.Millisecond
	addr, srv := startLimited(t, metadataMux(), l)
	c := dial(t, addr)
	roundTrip(t, c, 1)
	start := time.Now()
	expectClosed(t, c)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", d)
	}
	if srv.Stats.IdleClosed.Load() != 1 {
		t.Fatal("idle close not counted")
	}
}

// A request still being served (a long poll) keeps the connection open past
// the idle timeout.
func TestRequestInFlightIsNotIdle(t *testing.T) {
	mux := NewMux(zap.NewNop())
	mux.Handle(3, 0, 12, func(r *Request, respond func(Response)) {
		go func() { time.Sleep(600 * time.Millisecond); respond(Msg(r.Msg.ResponseKind())) }()
	})
	l := DefaultLimits()
	l.Idle = 100 * time.Millisecond
	addr, _ := startLimited(t, mux, l)
	roundTrip(t, dial(t, addr), 1)
}

func TestSlowFrameClosed(t *testing.T) {
	l := DefaultLimits()
	l.FrameTimeout = 300 * time.Millisecond
	addr, srv := startLimited(t, metadataMux(), l)
	c := dial(t, addr)
	// A frame announcing 100 bytes, sent a byte every 50 ms: 5 s in all.
	c.Write([]byte{0, 0, 0, 100})
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for range 100 {
			if _, err := c.Write([]byte{0}); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	expectClosed(t, c)
	if srv.Stats.SlowClosed.Load() != 1 {
		t.Fatal("slow frame not counted")
	}
	c.Close()
	<-closed
}

// A flood of bad frames from one connection logs one line per interval.
func TestBadFrameLogsRateLimited(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	srv := NewServer(metadataMux(), 1024, zap.New(core))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve(ln, "PLAINTEXT")
	defer srv.Shutdown(context.Background())
	for range 50 {
		c := dial(t, ln.Addr().String())
		c.Write([]byte{0, 0, 8, 0}) // over 1024 bytes
		expectClosed(t, c)
	}
	if n := srv.Stats.BadFrames.Load(); n != 50 {
		t.Fatalf("%d bad frames counted, want 50", n)
	}
	if n := logs.FilterMessageSnippet("too large").Len(); n < 1 || n > 10 {
		t.Fatalf("%d log lines for 50 bad frames", n)
	}
}

func TestRequestContextCancelledOnClose(t *testing.T) {
	got := make(chan context.Context, 1)
	mux := NewMux(zap.NewNop())
	mux.Handle(3, 0, 12, func(r *Request, respond func(Response)) {
		got <- r.Context()
		go func() { <-r.Context().Done(); respond(CloseConn) }()
	})
	addr, _ := startLimited(t, mux, DefaultLimits())
	c := dial(t, addr)
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(12)
	writeRequest(t, c, req, 1)
	ctx := <-got
	if ctx.Err() != nil {
		t.Fatal("context cancelled before the connection closed")
	}
	c.Close()
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("request context not cancelled when its connection closed")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
