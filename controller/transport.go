package controller

import (
	"context"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"spool/protocol"
)

// transport sends raft messages to the other voters, one goroutine and one
// connection per peer, so a slow or dead peer never blocks the raft loop.
type transport struct {
	self    uint64
	peers   map[uint64]*peer
	log     *zap.Logger
	timeout time.Duration
	// unreachable reports peers whose send failed back to the raft loop.
	unreachable chan uint64
}

type peer struct {
	id     uint64
	client *protocol.Client
	queue  chan *raftpb.Message
}

// peerQueue bounds the messages waiting for one peer. raft tolerates lost
// messages, so a full queue drops rather than blocks.
const peerQueue = 4096

func newTransport(self uint64, addrs map[uint64]string, timeout time.Duration, dial protocol.DialFunc, log *zap.Logger) *transport {
	t := &transport{self: self, peers: map[uint64]*peer{}, log: log, timeout: timeout, unreachable: make(chan uint64, 64)}
	for id, addr := range addrs {
		if id == self {
			continue
		}
		t.peers[id] = &peer{id: id, client: protocol.NewClientDial(addr, "spool-raft", dial), queue: make(chan *raftpb.Message, peerQueue)}
	}
	return t
}

func (t *transport) start(ctx context.Context) {
	for _, p := range t.peers {
		go t.run(ctx, p)
	}
}

func (t *transport) send(msgs []*raftpb.Message) {
	for _, m := range msgs {
		p, ok := t.peers[m.GetTo()]
		if !ok {
			continue
		}
		select {
		case p.queue <- m:
		default:
			t.log.Debug("raft message queue full; dropping", zap.Uint64("to", p.id))
		}
	}
}

func (t *transport) run(ctx context.Context, p *peer) {
	defer p.client.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-p.queue:
			raw, err := proto.Marshal(m)
			if err != nil {
				t.log.Error("marshal raft message", zap.Error(err))
				continue
			}
			rctx, cancel := context.WithTimeout(ctx, t.timeout)
			_, err = p.client.RequestRaw(rctx, protocol.RaftMessageKey, 0, raw)
			cancel()
			if err != nil {
				select {
				case t.unreachable <- p.id:
				default:
				}
			}
		}
	}
}
