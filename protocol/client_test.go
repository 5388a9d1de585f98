package protocol

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// A request cancelled while its connection fails must not crash the
// process: the cancel hook runs on its own goroutine and may fire after
// the client dropped the connection.
func TestClientCancelRacingConnectionLoss(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ln.Close()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				var b [1]byte
				c.Read(b[:]) // the request has arrived: fail the connection
				time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
				c.Close()
			}()
		}
	}()
	cl := NewClient(ln.Addr().String(), "test")
	defer cl.Close()
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(3)
	for i := 0; i < 1000; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := cl.Request(ctx, req); err == nil {
				t.Error("a request on a dropped connection succeeded")
			}
		}()
		time.Sleep(time.Duration(rand.IntN(400)) * time.Microsecond)
		cancel()
		<-done
	}
}

// With ReuseResponses, responses of growing and shrinking sizes still
// decode whole, each read into the kept buffer.
func TestClientReusesResponseBuffer(t *testing.T) {
	mux := NewMux(zap.NewNop())
	mux.Handle(3, 0, 12, func(r *Request, respond func(Response)) {
		req := r.Msg.(*kmsg.MetadataRequest)
		resp := req.ResponseKind().(*kmsg.MetadataResponse)
		for _, rt := range req.Topics {
			mt := kmsg.NewMetadataResponseTopic()
			mt.Topic = rt.Topic
			resp.Topics = append(resp.Topics, mt)
		}
		respond(Msg(resp))
	})
	addr, _ := startServer(t, mux, 1<<20)
	cl := NewClient(addr, "test")
	defer cl.Close()
	cl.ReuseResponses()
	for _, n := range []int{50, 3, 200, 0, 7} {
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(12)
		for i := 0; i < n; i++ {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(fmt.Sprintf("topic-%d-%d", n, i))
			req.Topics = append(req.Topics, rt)
		}
		raw, err := cl.Request(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		got := raw.(*kmsg.MetadataResponse).Topics
		if len(got) != n {
			t.Fatalf("%d topics back, want %d", len(got), n)
		}
		for i, mt := range got {
			if want := fmt.Sprintf("topic-%d-%d", n, i); mt.Topic == nil || *mt.Topic != want {
				t.Fatalf("topic %d is %v, want %s", i, mt.Topic, want)
			}
		}
	}
}
