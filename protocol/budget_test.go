package protocol

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// hostileProduce is a flexible Produce body of n empty topics.
func hostileProduce(n int) []byte {
	var b []byte
	b = kbin.AppendCompactNullableString(b, nil)
	b = kbin.AppendInt16(b, 1)
	b = kbin.AppendInt32(b, 1000)
	b = kbin.AppendCompactArrayLen(b, n)
	for range n {
		b = append(b, 1, 1, 0) // "" topic, no partitions, no tags
	}
	return append(b, 0)
}

func TestProduceDecodeBound(t *testing.T) {
	body := hostileProduce(1 << 20)
	req := &Request{Header: Header{Key: 0, Version: 9}, Msg: kmsg.NewPtrProduceRequest(), Body: body}
	req.Msg.SetVersion(9)
	if err := req.Decode(); !errors.Is(err, errDecodeBound) {
		t.Fatalf("1M empty topics: %v", err)
	}
	// Genuine requests of every shape pass: one partition, many
	// partitions with small batches, many topics.
	for _, shape := range []struct{ topics, parts int }{{1, 1}, {1, 2000}, {500, 4}} {
		for _, v := range []int16{3, 8, 9, 12} {
			p := kmsg.NewPtrProduceRequest()
			p.SetVersion(v)
			for i := range shape.topics {
				pt := kmsg.NewProduceRequestTopic()
				pt.Topic = string(rune('a'+i%26)) + "-topic"
				for j := range shape.parts {
					pp := kmsg.NewProduceRequestTopicPartition()
					pp.Partition = int32(j)
					pp.Records = make([]byte, 70) // the smallest batch of one record
					pt.Partitions = append(pt.Partitions, pp)
				}
				p.Topics = append(p.Topics, pt)
			}
			req := &Request{Header: Header{Key: 0, Version: v}, Msg: kmsg.NewPtrProduceRequest(), Body: p.AppendTo(nil)}
			req.Msg.SetVersion(v)
			if err := req.Decode(); err != nil {
				t.Fatalf("v%d %d topics x %d partitions refused: %v", v, shape.topics, shape.parts, err)
			}
		}
	}
}

// A connection whose next frame does not fit in queued.max.request.bytes
// stops reading until requests in flight are answered.
func TestBudgetStopsReading(t *testing.T) {
	release := make(chan struct{})
	mux := NewMux(zap.NewNop())
	mux.Handle(3, 0, 12, func(r *Request, respond func(Response)) {
		go func() { <-release; respond(Msg(r.Msg.ResponseKind())) }()
	})
	l := DefaultLimits()
	l.QueuedBytes = 50 << 10
	addr, srv := startLimited(t, mux, l)
	// Two 30 KiB Metadata frames (a long client id, which is no part of
	// the body a decode is charged for): the first is read, the second
	// waits.
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(12)
	frame := AppendRequestHeader([]byte{0, 0, 0, 0}, req, 1, "pad"+string(make([]byte, 30<<10)))
	frame = req.AppendTo(frame)
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	a, b := dial(t, addr), dial(t, addr)
	a.Write(frame)
	waitFor(t, func() bool { return srv.QueuedBytes() > 0 })
	b.Write(frame)
	time.Sleep(200 * time.Millisecond)
	if got := srv.QueuedBytes(); got != int64(len(frame)-4) {
		t.Fatalf("%d bytes held, want only the first frame's %d", got, len(frame)-4)
	}
	close(release)
	readResponse(t, a, true)
	readResponse(t, b, true)
	waitFor(t, func() bool { return srv.QueuedBytes() == 0 })
}

func TestQueuedBytesDefault(t *testing.T) {
	if got := QueuedBytes(5000, 100); got != 5000 {
		t.Fatalf("configured: %d", got)
	}
	got := QueuedBytes(-1, 100<<20)
	if got < 200<<20 || got > 1<<30 {
		t.Fatalf("derived queued.max.request.bytes %d", got)
	}
}

// The pool keeps small buffers by class and large ones within its limit,
// at their size rounded to a MiB, not to a power of two.
func TestFramePoolKeepsLargeFramesWithinItsLimit(t *testing.T) {
	p := framePool{limit: 16 << 20}
	b := p.get(8<<20 + 1)
	if len(*b) != 8<<20+1 || cap(*b) != 9<<20 {
		t.Fatalf("large frame len %d cap %d", len(*b), cap(*b))
	}
	p.put(b)
	if *b != nil {
		t.Fatal("large frame still referenced by its caller")
	}
	again := p.get(9 << 20)
	if p.big.Held() != 9<<20 {
		t.Fatalf("pool holds %d bytes after lending a 9 MiB frame again", p.big.Held())
	}
	p.put(again)
	p.get(10 << 20)
	if held := p.big.Held(); held > p.limit {
		t.Fatalf("pool holds %d bytes, limit %d", held, p.limit)
	}
	s := p.get(3000)
	if len(*s) != 3000 || cap(*s) != 4096 {
		t.Fatalf("small frame len %d cap %d", len(*s), cap(*s))
	}
}

// A request other than Produce is charged its worst decoded size before it
// is decoded: one that could outgrow the whole budget closes its
// connection, one that fits holds its charge until it is answered.
func TestDecodeCharge(t *testing.T) {
	release := make(chan struct{})
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	mux := NewMux(zap.NewNop())
	mux.Handle(3, 0, 12, func(r *Request, respond func(Response)) {
		go func() { <-release; respond(Msg(r.Msg.ResponseKind())) }()
	})
	l := DefaultLimits()
	l.QueuedBytes = 8 << 20
	addr, srv := startLimited(t, mux, l)
	// Metadata v12 of n topics named by id only: 18 bytes each on the
	// wire, a struct each once decoded.
	metadata := func(topics int) []byte {
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(12)
		for range topics {
			req.Topics = append(req.Topics, kmsg.NewMetadataRequestTopic())
		}
		frame := AppendRequestHeader([]byte{0, 0, 0, 0}, req, 1, "c")
		frame = req.AppendTo(frame)
		binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
		return frame
	}
	small, huge := metadata(1000), metadata(20_000)
	if charge := decodeCharge(3, len(huge)); charge <= l.QueuedBytes {
		t.Fatalf("a %d-byte Metadata charged %d, within the budget", len(huge), charge)
	}
	c := dial(t, addr)
	c.Write(huge)
	expectClosed(t, c)
	if srv.Stats.BadFrames.Load() != 1 || srv.QueuedBytes() != 0 {
		t.Fatalf("%d bad frames, %d bytes still held", srv.Stats.BadFrames.Load(), srv.QueuedBytes())
	}
	a := dial(t, addr)
	a.Write(small)
	waitFor(t, func() bool { return srv.QueuedBytes() > int64(len(small)) })
	if held, most := srv.QueuedBytes(), int64(len(small))*worstFor(3); held > most || held < most/2 {
		t.Fatalf("%d bytes held for a %d-byte Metadata, want its decode charge (up to %d)", held, len(small), most)
	}
	close(release)
	readResponse(t, a, true)
	waitFor(t, func() bool { return srv.QueuedBytes() == 0 })
}
