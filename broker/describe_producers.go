package broker

import (
	"cmp"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleDescribeProducers lists the producers each led partition knows,
// with the start of each one's open transaction (-1 when none) and the
// coordinator epoch of its last marker (-1 before any): what
// kafka-transactions.sh find-hanging reads.
func (b *Broker) handleDescribeProducers(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DescribeProducersRequest)
	resp := r.ResponseKind().(*kmsg.DescribeProducersResponse)
	img := b.Image()
	for _, t := range r.Topics {
		rt := kmsg.NewDescribeProducersResponseTopic()
		rt.Topic = t.Topic
		mt := img.Topics.ByName(t.Topic)
		for _, id := range t.Partitions {
			rp := kmsg.NewDescribeProducersResponseTopicPartition()
			rp.Partition = id
			p := b.replicas.get(tp{t.Topic, id})
			switch {
			case mt == nil || mt.Partition(id) == nil:
				rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case p == nil:
				rp.ErrorCode = kerr.NotLeaderForPartition.Code
			default:
				if leader, _ := p.leadership(); !leader {
					rp.ErrorCode = kerr.NotLeaderForPartition.Code
					break
				}
				rp.ActiveProducers = p.activeProducers()
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	respond(protocol.Msg(resp))
}

// activeProducers snapshots the partition's producer state, by id.
func (p *partition) activeProducers() []kmsg.DescribeProducersResponseTopicPartitionActiveProducer {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	out := make([]kmsg.DescribeProducersResponseTopicPartitionActiveProducer, 0, p.producers.len())
	for id, e := range p.producers.m {
		ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
		ap.ProducerID, ap.ProducerEpoch = id, int32(e.epoch)
		ap.LastSequence, ap.LastTimestamp = e.lastSeq, e.lastTimestamp
		ap.CoordinatorEpoch, ap.CurrentTxnStartOffset = e.coordEpoch, e.txnFirst
		out = append(out, ap)
	}
	slices.SortFunc(out, func(a, b kmsg.DescribeProducersResponseTopicPartitionActiveProducer) int {
		return cmp.Compare(a.ProducerID, b.ProducerID)
	})
	return out
}
