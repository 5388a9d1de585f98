package broker

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestDescribeProducersErrors(t *testing.T) {
	e := newDataEnv(t, nil)
	e.topic("t", 2, nil, 1)
	req := kmsg.NewPtrDescribeProducersRequest()
	for _, name := range []string{"t", "nope"} {
		rt := kmsg.NewDescribeProducersRequestTopic()
		rt.Topic, rt.Partitions = name, []int32{0, 1, 2}
		req.Topics = append(req.Topics, rt)
	}
	resp := call(t, e.b.handleDescribeProducers, req).Msg.(*kmsg.DescribeProducersResponse)
	want := map[string][]int16{
		"t":    {0, kerr.NotLeaderForPartition.Code, kerr.UnknownTopicOrPartition.Code},
		"nope": {kerr.UnknownTopicOrPartition.Code, kerr.UnknownTopicOrPartition.Code, kerr.UnknownTopicOrPartition.Code},
	}
	for _, rt := range resp.Topics {
		for i, rp := range rt.Partitions {
			if rp.ErrorCode != want[rt.Topic][i] {
				t.Errorf("%s-%d: error %d, want %d", rt.Topic, rp.Partition, rp.ErrorCode, want[rt.Topic][i])
			}
		}
	}
}
