package broker

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// producerIDs hands out producer ids from blocks the controller allocates.
type producerIDs struct {
	b    *Broker
	mu   sync.Mutex
	next int64
	end  int64 // exclusive
}

// Next returns a producer id never handed out before in this cluster.
func (p *producerIDs) Next(ctx context.Context) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next >= p.end {
		req := kmsg.NewPtrAllocateProducerIDsRequest()
		req.BrokerID, req.BrokerEpoch = p.b.cfg.NodeID, p.b.life.epoch.Load()
		raw, err := p.b.controllers.Request(ctx, req)
		if err != nil {
			return -1, err
		}
		resp := raw.(*kmsg.AllocateProducerIDsResponse)
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return -1, err
		}
		p.next, p.end = resp.ProducerIDStart, resp.ProducerIDStart+int64(resp.ProducerIDLen)
	}
	id := p.next
	p.next++
	return id, nil
}
