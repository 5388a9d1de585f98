package controller

import (
	"context"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"spool/protocol"
)

// transport sends raft messages to the other members, one goroutine and
// one connection per peer, so a slow or dead peer never blocks the raft
// loop. Peers come and go with the quorum's membership (setPeer and
// removePeer, called from the loop only).
type transport struct {
	self    uint64
	peers   map[uint64]*peer
	log     *zap.Logger
	timeout time.Duration
	dial    protocol.DialFunc
	ctx     context.Context // set by start; nil before
	// unreachable reports peers whose send failed back to the raft loop;
	// snapshots reports how each snapshot message went, which raft must
	// hear to stop waiting on a snapshot that did not arrive.
	unreachable chan uint64
	snapshots   chan snapshotSent
	// unknown is called (on the loop) for a message to a raft id the
	// transport has no address for.
	unknown func(id uint64)
}

type snapshotSent struct {
	to     uint64
	failed bool
}

type peer struct {
	id     uint64
	addr   string
	client *protocol.Client
	queue  chan *raftpb.Message
	cancel context.CancelFunc
}

// peerQueue bounds the messages waiting for one peer. raft tolerates lost
// messages, so a full queue drops rather than blocks.
const peerQueue = 4096

func newTransport(self uint64, addrs map[uint64]string, timeout time.Duration, dial protocol.DialFunc, log *zap.Logger) *transport {
	t := &transport{self: self, peers: map[uint64]*peer{}, log: log, timeout: timeout, dial: dial, unreachable: make(chan uint64, 64), snapshots: make(chan snapshotSent, 64)}
	for id, addr := range addrs {
		t.setPeer(id, addr)
	}
	return t
}

// setPeer points the transport at addr for raft id; a peer whose address
// changed gets a new connection.
func (t *transport) setPeer(id uint64, addr string) {
	if id == t.self {
		return
	}
	if p, ok := t.peers[id]; ok {
		if p.addr == addr {
			return
		}
		t.removePeer(id)
	}
	p := &peer{id: id, addr: addr, client: protocol.NewClientDial(addr, "spool-raft", t.dial), queue: make(chan *raftpb.Message, peerQueue)}
	t.peers[id] = p
	if t.ctx != nil {
		t.launch(p)
	}
}

func (t *transport) removePeer(id uint64) {
	p, ok := t.peers[id]
	if !ok {
		return
	}
	delete(t.peers, id)
	if p.cancel != nil {
		p.cancel()
	} else {
		p.client.Close()
	}
}

func (t *transport) start(ctx context.Context) {
	t.ctx = ctx
	for _, p := range t.peers {
		t.launch(p)
	}
}

func (t *transport) launch(p *peer) {
	ctx, cancel := context.WithCancel(t.ctx)
	p.cancel = cancel
	go t.run(ctx, p)
}

func (t *transport) send(msgs []*raftpb.Message) {
	for _, m := range msgs {
		p, ok := t.peers[m.GetTo()]
		if !ok {
			if t.unknown != nil {
				t.unknown(m.GetTo())
			}
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
			if m.GetType() == raftpb.MsgSnap {
				// The snapshot message carries only the snapshot's id; the
				// follower fetches the file itself (FetchSnapshot).
				select {
				case t.snapshots <- snapshotSent{to: p.id, failed: err != nil}:
				case <-ctx.Done():
				}
			}
			if err != nil {
				select {
				case t.unreachable <- p.id:
				default:
				}
			}
		}
	}
}
