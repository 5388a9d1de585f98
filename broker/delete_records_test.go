package broker

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func deleteRecords(t *testing.T, e *dataEnv, topic string, partition int32, offset int64) kmsg.DeleteRecordsResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrDeleteRecordsRequest()
	req.SetVersion(2)
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Partition, rp.Offset = partition, offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return call(t, e.b.async(e.b.handleDeleteRecords), req).Msg.(*kmsg.DeleteRecordsResponse).Topics[0].Partitions[0]
}

func TestDeleteRecords(t *testing.T) {
	e := newDataEnv(t, nil)
	e.topic("d", 2, nil, 1)
	e.topic("compacted", 1, map[string]string{"cleanup.policy": "compact"})
	e.append("d", 0, testBatch(5, 10, 1, 0), testBatch(5, 10, 1, 0))

	cases := []struct {
		topic  string
		part   int32
		offset int64
		code   int16
		low    int64
	}{
		{"d", 0, 3, 0, 3},
		{"d", 0, 2, 0, 3}, // never moves backwards
		{"d", 0, 11, kerr.OffsetOutOfRange.Code, -1},
		{"d", 0, -2, kerr.OffsetOutOfRange.Code, -1},
		{"d", 0, -1, 0, 10}, // -1 is the high watermark
		{"d", 1, 0, kerr.NotLeaderForPartition.Code, -1},
		{"nope", 0, 0, kerr.UnknownTopicOrPartition.Code, -1},
		{"compacted", 0, 0, kerr.PolicyViolation.Code, -1},
	}
	for _, c := range cases {
		got := deleteRecords(t, e, c.topic, c.part, c.offset)
		if got.ErrorCode != c.code || got.LowWatermark != c.low {
			t.Errorf("%s-%d before %d: error %d low %d, want error %d low %d", c.topic, c.part, c.offset, got.ErrorCode, got.LowWatermark, c.code, c.low)
		}
	}
	if got := listOffsets(t, e, 9, 0, "d", map[int32]int64{0: listEarliest})[0]; got.Offset != 10 {
		t.Errorf("earliest offset %d after deleting everything, want 10", got.Offset)
	}
}
