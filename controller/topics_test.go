package controller

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
	"spool/controller/metadata"
)

// imageWith builds an image with brokers (fenced ones negative) and topics.
func imageWith(t *testing.T, brokers []int32, topics ...string) *metadata.Image {
	t.Helper()
	d := metadata.NewDelta(metadata.Empty())
	for _, id := range brokers {
		fenced := id < 0
		if fenced {
			id = -id
		}
		if err := d.Replay(&metadata.RegisterBrokerRecord{BrokerID: id, BrokerEpoch: int64(id), Fenced: fenced}); err != nil {
			t.Fatal(err)
		}
	}
	for i, name := range topics {
		id := [16]byte{byte(i + 1)}
		d.Replay(&metadata.TopicRecord{Name: name, TopicID: id})
		d.Replay(&metadata.PartitionRecord{PartitionID: 0, TopicID: id, Replicas: []int32{brokers[0]}, ISR: []int32{brokers[0]}, Leader: brokers[0]})
	}
	return d.Apply()
}

func TestCreateTopicValidation(t *testing.T) {
	img := imageWith(t, []int32{1, 2, 3, -4}, "orders.v1")
	static := config.MustNew(map[string]string{"num.partitions": "6", "default.replication.factor": "2"})
	cfg := func(name, value string) []kmsg.CreateTopicsRequestTopicConfig {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = name, &value
		return []kmsg.CreateTopicsRequestTopicConfig{c}
	}
	cases := []struct {
		name       string
		topic      string
		partitions int32
		rf         int16
		configs    []kmsg.CreateTopicsRequestTopicConfig
		want       *kerr.Error
		wantParts  int32
		wantRF     int16
	}{
		{"defaults", "t1", -1, -1, nil, nil, 6, 2},
		{"explicit", "t2", 3, 3, nil, nil, 3, 3},
		{"rf counts unfenced only", "t3", 1, 4, nil, kerr.InvalidReplicationFactor, 0, 0},
		{"collision", "orders_v1", 1, 1, nil, kerr.InvalidTopicException, 0, 0},
		{"exists", "orders.v1", 1, 1, nil, kerr.TopicAlreadyExists, 0, 0},
		{"empty name", "", 1, 1, nil, kerr.InvalidTopicException, 0, 0},
		{"dotdot", "..", 1, 1, nil, kerr.InvalidTopicException, 0, 0},
		{"negative partitions", "t4", -2, 1, nil, kerr.InvalidPartitions, 0, 0},
		{"unknown config", "t5", 1, 1, cfg("segment.size", "1"), kerr.InvalidConfig, 0, 0},
		{"invalid config", "t6", 1, 1, cfg("min.insync.replicas", "0"), kerr.InvalidConfig, 0, 0},
		{"valid config", "t7", 1, 1, cfg("min.insync.replicas", "2"), nil, 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc2 := newTopicCreator(img, static)
			req := kmsg.NewCreateTopicsRequestTopic()
			req.Topic, req.NumPartitions, req.ReplicationFactor, req.Configs = tc.topic, tc.partitions, tc.rf, tc.configs
			resp := kmsg.NewCreateTopicsResponseTopic()
			recs, err := tc2.create(&req, &resp)
			if tc.want != nil {
				if err == nil || err.err != tc.want || recs != nil {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v: %s", err.err, err.msg)
			}
			if resp.NumPartitions != tc.wantParts || resp.ReplicationFactor != tc.wantRF {
				t.Fatalf("partitions %d rf %d", resp.NumPartitions, resp.ReplicationFactor)
			}
			// TopicRecord, configs, then one PartitionRecord per partition
			// whose replicas are distinct unfenced brokers.
			nparts := 0
			for _, r := range recs {
				if pr, ok := r.(*metadata.PartitionRecord); ok {
					nparts++
					if len(pr.Replicas) != int(tc.wantRF) || pr.Leader != pr.Replicas[0] || !slices.Equal(pr.ISR, pr.Replicas) {
						t.Fatalf("partition %+v", pr)
					}
					seen := map[int32]bool{}
					for _, b := range pr.Replicas {
						if seen[b] || b == 4 {
							t.Fatalf("replicas %v: duplicate or fenced broker", pr.Replicas)
						}
						seen[b] = true
					}
				}
			}
			if nparts != int(tc.wantParts) {
				t.Fatalf("%d partition records", nparts)
			}
		})
	}
}

// Placement rotates leaders over the brokers and never repeats a broker in
// one partition.
func TestPlaceSpreadsLeaders(t *testing.T) {
	brokers := []int32{1, 2, 3}
	got := place(brokers, nil, 6, 3, 0)
	leaders := map[int32]int{}
	for _, replicas := range got {
		leaders[replicas[0]]++
		seen := map[int32]bool{}
		for _, r := range replicas {
			if seen[r] {
				t.Fatalf("duplicate replica in %v", replicas)
			}
			seen[r] = true
		}
	}
	for _, b := range brokers {
		if leaders[b] != 2 {
			t.Fatalf("leaders per broker %v, want 2 each", leaders)
		}
	}
}

func TestFenceMovesLeadership(t *testing.T) {
	d := metadata.NewDelta(metadata.Empty())
	for _, id := range []int32{1, 2} {
		d.Replay(&metadata.RegisterBrokerRecord{BrokerID: id, BrokerEpoch: int64(id)})
	}
	id := [16]byte{9}
	d.Replay(&metadata.TopicRecord{Name: "t", TopicID: id})
	d.Replay(&metadata.PartitionRecord{PartitionID: 0, TopicID: id, Replicas: []int32{1, 2}, ISR: []int32{1, 2}, Leader: 1})
	d.Replay(&metadata.PartitionRecord{PartitionID: 1, TopicID: id, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1})
	img := d.Apply()

	next := metadata.NewDelta(img)
	for _, r := range fence(img, 1) {
		if err := next.Replay(r); err != nil {
			t.Fatal(err)
		}
	}
	after := next.Apply()
	p0, p1 := after.Topics.ByID(id).Partitions[0], after.Topics.ByID(id).Partitions[1]
	if !after.Brokers[1].Fenced || p0.Leader != 2 || !slices.Equal(p0.ISR, []int32{2}) {
		t.Fatalf("p0 after fencing 1: leader %d isr %v", p0.Leader, p0.ISR)
	}
	// The only in-sync replica keeps its ISR place and the partition waits
	// leaderless for it: no unclean election.
	if p1.Leader != metadata.NoLeader || !slices.Equal(p1.ISR, []int32{1}) {
		t.Fatalf("p1 after fencing 1: leader %d isr %v", p1.Leader, p1.ISR)
	}
	back := metadata.NewDelta(after)
	for _, r := range unfence(after, 1) {
		back.Replay(r)
	}
	again := back.Apply()
	if again.Brokers[1].Fenced || again.Topics.ByID(id).Partitions[1].Leader != 1 {
		t.Fatalf("unfence did not restore leadership of p1")
	}
}

// With racks, every partition of RF 3 over three racks uses all three.
func TestPlaceRackAware(t *testing.T) {
	brokers := []int32{1, 2, 3, 4, 5, 6}
	racks := map[int32]string{1: "a", 2: "a", 3: "b", 4: "b", 5: "c", 6: "c"}
	for start := 0; start < 6; start++ {
		for _, replicas := range place(brokers, racks, 12, 3, start) {
			seen := map[string]bool{}
			for _, r := range replicas {
				seen[racks[r]] = true
			}
			if len(seen) != 3 || len(replicas) != 3 {
				t.Fatalf("replicas %v span racks %v", replicas, seen)
			}
		}
	}
	leaders := map[int32]int{}
	for _, replicas := range place(brokers, racks, 12, 3, 0) {
		leaders[replicas[0]]++
	}
	for _, b := range brokers {
		if leaders[b] != 2 {
			t.Fatalf("leaders %v, want 2 per broker", leaders)
		}
	}
}
