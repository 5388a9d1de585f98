package broker

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

// catchUpWait bounds how long a forwarded admin request waits for its
// records to reach this broker's image; the records are committed either
// way, so running out only means a client may briefly read the old state.
const catchUpWait = 5 * time.Second

// catchUpMetadata waits until this broker's image holds everything the
// active controller had committed when it was asked, so that a client
// altering configs or partitions through this broker reads its own write
// on the next request.
func (b *Broker) catchUpMetadata(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, catchUpWait)
	defer cancel()
	req := kmsg.NewPtrDescribeQuorumRequest()
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = metadataTopic
	t.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
	req.Topics = append(req.Topics, t)
	raw, err := b.controllers.Request(ctx, req)
	if err != nil {
		return
	}
	resp := raw.(*kmsg.DescribeQuorumResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		return
	}
	hw := resp.Topics[0].Partitions[0].HighWatermark
	b.meta.waitUntil(ctx, func(img *metadata.Image) bool { return img.Offset+1 >= hw })
}
