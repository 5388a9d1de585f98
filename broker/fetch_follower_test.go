package broker

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
	"spool/controller/metadata"
)

// outOfISR leaves only the leader (broker 2) in the partition's ISR.
func (e *dataEnv) outOfISR(topicID [16]byte, p int32) {
	e.apply(func(d *metadata.Delta) {
		r := metadata.NewPartitionChangeRecord(topicID, p)
		r.ISR = []int32{2}
		e.replay(d, r)
	})
}

// racks registers brokers 1 and 2 again, in the racks given.
func (e *dataEnv) racks(r1, r2 string) {
	e.apply(func(d *metadata.Delta) {
		for id, rack := range map[int32]string{1: r1, 2: r2} {
			rack := rack
			e.replay(d, &metadata.RegisterBrokerRecord{BrokerID: id, BrokerEpoch: 1, Rack: &rack, EndPoints: []metadata.BrokerEndpoint{
				{Name: "PLAINTEXT", Host: "127.0.0.1", Port: e.port + uint16(id) - 1},
			}})
		}
	})
}

func consumerFetch(t *testing.T, e *dataEnv, version int16, id [16]byte, name, rack string, offset int64) kmsg.FetchResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(version)
	req.ReplicaID, req.MaxBytes, req.Rack = -1, 1<<20, rack
	req.SessionEpoch = sessionEpochFinal
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = name, id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = offset, 1<<20, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := fetchDirect(t, e, req)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("response %+v", resp)
	}
	return resp.Topics[0].Partitions[0]
}

// An in-sync follower serves consumers that may read from followers
// (v11+), up to its high watermark, and counts the bytes; older versions,
// and any version once it leaves the ISR, are sent to the leader.
func TestFollowerServesInSyncConsumerFetches(t *testing.T) {
	e := newDataEnv(t, nil)
	id := e.topic("f", 1, nil, 0) // led by broker 2
	e.append("f", 0, testBatch(5, 100, 1000, 1))

	if p := consumerFetch(t, e, 10, id, "f", "", 0); p.ErrorCode != kerr.NotLeaderForPartition.Code {
		t.Fatalf("v10 from a follower: error %d, want NOT_LEADER_OR_FOLLOWER", p.ErrorCode)
	}
	p := consumerFetch(t, e, 12, id, "f", "b", 0)
	if p.ErrorCode != 0 || len(p.RecordBatches) == 0 || p.HighWatermark != 5 || p.PreferredReadReplica != -1 {
		t.Fatalf("v12 from an in-sync follower: %+v", p)
	}
	if got := e.b.readReplicas.servedBytes.Load(); got != uint64(len(p.RecordBatches)) {
		t.Fatalf("follower bytes %d, want %d", got, len(p.RecordBatches))
	}
	// Beyond the follower's log end: out of range, so the consumer asks
	// the leader (as Kafka answers); at the end, nothing yet.
	if p := consumerFetch(t, e, 12, id, "f", "b", 6); p.ErrorCode != kerr.OffsetOutOfRange.Code {
		t.Fatalf("beyond the follower's log end: error %d", p.ErrorCode)
	}
	if p := consumerFetch(t, e, 12, id, "f", "b", 5); p.ErrorCode != 0 || len(p.RecordBatches) != 0 {
		t.Fatalf("at the follower's log end: %+v", p)
	}

	e.outOfISR(id, 0)
	if p := consumerFetch(t, e, 12, id, "f", "b", 0); p.ErrorCode != kerr.NotLeaderForPartition.Code {
		t.Fatalf("from a follower out of the ISR: error %d, want NOT_LEADER_OR_FOLLOWER", p.ErrorCode)
	}
}

// With the rack-aware selector the leader names an in-sync follower in the
// consumer's rack that has the offset, and sends no records; it serves the
// consumer itself when it shares the rack, when the client has no rack,
// when the follower lacks the offset, or with the default selector.
func TestLeaderNamesTheFollowerInTheClientsRack(t *testing.T) {
	for _, selector := range []string{config.RackAwareSelectorClass, config.LeaderSelectorClass} {
		e := newDataEnv(t, map[string]string{"replica.selector.class": selector})
		e.racks("a", "b")
		id := e.topic("g", 1, nil)
		e.append("g", 0, testBatch(5, 100, 1000, 1))
		e.b.followerFetched(e.part("g", 0), 2, 5, time.Now())
		want := int32(2)
		if selector == config.LeaderSelectorClass {
			want = -1
		}
		p := consumerFetch(t, e, 12, id, "g", "b", 0)
		if p.ErrorCode != 0 || p.PreferredReadReplica != want || (want >= 0) != (len(p.RecordBatches) == 0) || p.HighWatermark != 5 {
			t.Fatalf("%s, rack b: %+v", selector, p)
		}
		for _, rack := range []string{"a", "", "c"} {
			if p := consumerFetch(t, e, 12, id, "g", rack, 0); p.PreferredReadReplica != -1 || len(p.RecordBatches) == 0 {
				t.Fatalf("%s, rack %q: %+v", selector, rack, p)
			}
		}
		e.part("g", 0).noteFollowerLogStart(2, 2)
		if p := consumerFetch(t, e, 12, id, "g", "b", 1); p.PreferredReadReplica != -1 || len(p.RecordBatches) == 0 {
			t.Fatalf("%s, follower's log starts after the offset: %+v", selector, p)
		}
		e.b.followerFetched(e.part("g", 0), 2, 3, time.Now())
		if p := consumerFetch(t, e, 12, id, "g", "b", 4); p.PreferredReadReplica != -1 || len(p.RecordBatches) == 0 {
			t.Fatalf("%s, follower behind the offset: %+v", selector, p)
		}
	}
}
