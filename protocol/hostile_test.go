package protocol

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// hugeTagCountApiVersions is a 1 KiB ApiVersions v3 frame (no length
// prefix) whose body claims 2^32-1 tagged fields. kmsg before v1.15.1 went
// on looping over the count after its reader had failed: 54 CPU-seconds for
// one frame.
func hugeTagCountApiVersions() []byte {
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(3)
	frame := AppendRequestHeader(nil, req, 1, "hostile")
	frame = kbin.AppendCompactString(frame, "a")
	frame = kbin.AppendCompactString(frame, "1")
	frame = kbin.AppendUvarint(frame, 1<<32-1)
	for len(frame) < 1024 {
		frame = append(frame, 0xff)
	}
	return frame
}

func TestHugeTaggedFieldCountIsCheap(t *testing.T) {
	mux := NewMux(zap.NewNop())
	frame := hugeTagCountApiVersions()
	start := time.Now()
	for range 10 {
		hdr, msg, body, err := parseHeader(frame)
		if err != nil {
			t.Fatal(err)
		}
		closed := false
		mux.Serve(&Request{Header: hdr, Msg: msg, Body: body, Remote: fakeAddr{}}, func(r Response) { closed = r.Close })
		if !closed {
			t.Fatal("a frame with a truncated tag section was answered instead of closing the connection")
		}
	}
	// Ten frames used to take nine CPU-minutes; anything near a second
	// means the decoder loops on the count again.
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("ten hostile ApiVersions frames took %v", d)
	}
}
