package broker

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/protocol"
)

// handleWriteTxnMarkers writes the commit or abort markers a transaction
// coordinator sends to the partitions this broker leads.
func (b *Broker) handleWriteTxnMarkers(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.WriteTxnMarkersRequest)
	if !b.fromBroker(req) {
		return protocol.Msg(refuseTxnMarkers(r))
	}
	return protocol.Msg(b.applyTxnMarkers(ctx, r))
}

// applyTxnMarkers writes the markers of req to the partitions this broker
// leads and waits until each is committed (acks=all), partitions in
// parallel. A marker on a __consumer_offsets partition then completes the
// transaction's offset commits in the group coordinator.
func (b *Broker) applyTxnMarkers(ctx context.Context, req *kmsg.WriteTxnMarkersRequest) *kmsg.WriteTxnMarkersResponse {
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	img := b.Image()
	var wg sync.WaitGroup
	for _, m := range req.Markers {
		rm := kmsg.NewWriteTxnMarkersResponseMarker()
		rm.ProducerID = m.ProducerID
		mk := txnMarker{producerID: m.ProducerID, producerEpoch: m.ProducerEpoch, commit: m.Committed, coordinatorEpoch: m.CoordinatorEpoch}
		for _, t := range m.Topics {
			rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			rt.Topic = t.Topic
			rt.Partitions = make([]kmsg.WriteTxnMarkersResponseMarkerTopicPartition, len(t.Partitions))
			topic := img.Topics.ByName(t.Topic)
			for i, id := range t.Partitions {
				rp := &rt.Partitions[i]
				*rp = kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				rp.Partition = id
				p, code := b.leaderPartition(topic, id, noLeaderEpoch)
				if code != 0 {
					rp.ErrorCode = code
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					rp.ErrorCode = b.writeMarker(ctx, p, mk)
				}()
			}
			rm.Topics = append(rm.Topics, rt)
		}
		resp.Markers = append(resp.Markers, rm)
	}
	wg.Wait()
	return resp
}

// writeMarker writes one marker and lets the group coordinator apply the
// outcome to transactional offset commits once it is durable.
func (b *Broker) writeMarker(ctx context.Context, p *partition, m txnMarker) int16 {
	code, err := p.appendMarker(ctx, m)
	if code != 0 {
		if code == kerr.KafkaStorageError.Code {
			b.log.Error("write transaction marker", zap.String("topic", p.topic), zap.Int32("partition", p.id), zap.Error(err))
		}
		return code
	}
	if p.topic == offsetsTopic {
		b.groups.completeTxn(p.id, m.producerID, m.commit)
	}
	return 0
}
