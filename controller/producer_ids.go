package controller

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
)

// ProducerIDBlockSize is how many producer ids a broker gets per request,
// as in Kafka.
const ProducerIDBlockSize = 1000

// AllocateProducerIDs hands broker a block of producer ids; the block is
// durable (a ProducerIdsRecord) before the broker may use it, so no id is
// ever given out twice, even across controller failover.
func (c *Controller) AllocateProducerIDs(ctx context.Context, req *kmsg.AllocateProducerIDsRequest) (start int64, err error) {
	err = c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		b := img.Brokers[req.BrokerID]
		if b == nil {
			return nil, kerr.BrokerIDNotRegistered
		}
		if b.Epoch != req.BrokerEpoch {
			return nil, kerr.StaleBrokerEpoch
		}
		start = img.NextProducerID
		return []metadata.Record{&metadata.ProducerIdsRecord{
			BrokerID: req.BrokerID, BrokerEpoch: req.BrokerEpoch, NextProducerID: start + ProducerIDBlockSize,
		}}, nil
	})
	return start, err
}

func (c *Controller) serveAllocateProducerIDs(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.AllocateProducerIDsRequest)
	resp := r.ResponseKind().(*kmsg.AllocateProducerIDsResponse)
	start, err := c.AllocateProducerIDs(ctx, r)
	resp.ErrorCode = errorCode(err)
	if err == nil {
		resp.ProducerIDStart, resp.ProducerIDLen = start, ProducerIDBlockSize
	}
	return protocol.Msg(resp)
}
