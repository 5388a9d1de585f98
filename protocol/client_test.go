package protocol

import (
	"context"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
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
