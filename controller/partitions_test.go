package controller

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

func TestAddPartitionsValidation(t *testing.T) {
	img := imageWith(t, []int32{1, 2, 3, -4}, "orders")
	brokers := usableBrokers(img)
	if !slices.Equal(brokers, []int32{1, 2, 3}) {
		t.Fatalf("usable brokers %v", brokers)
	}
	req := func(topic string, count int32, assignment ...[]int32) *kmsg.CreatePartitionsRequestTopic {
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = topic, count
		for _, a := range assignment {
			ra := kmsg.NewCreatePartitionsRequestTopicAssignment()
			ra.Replicas = a
			rt.Assignment = append(rt.Assignment, ra)
		}
		return &rt
	}
	cases := []struct {
		name string
		req  *kmsg.CreatePartitionsRequestTopic
		want *kerr.Error
		n    int
	}{
		{"increase", req("orders", 4), nil, 3},
		{"same count", req("orders", 1), kerr.InvalidPartitions, 0},
		{"decrease", req("orders", 0), kerr.InvalidPartitions, 0},
		{"unknown topic", req("nope", 3), kerr.UnknownTopicOrPartition, 0},
		{"manual", req("orders", 3, []int32{2}, []int32{3}), nil, 2},
		{"manual too few", req("orders", 3, []int32{2}), kerr.InvalidReplicaAssignment, 0},
		{"manual wrong rf", req("orders", 2, []int32{2, 3}), kerr.InvalidReplicaAssignment, 0},
		{"manual unknown broker", req("orders", 2, []int32{9}), kerr.InvalidReplicaAssignment, 0},
		{"manual only fenced", req("orders", 2, []int32{4}), kerr.InvalidReplicaAssignment, 0},
	}
	for _, tc := range cases {
		recs, e := addPartitions(img, brokers, tc.req, 0)
		if tc.want != nil {
			if e == nil || e.err != tc.want {
				t.Errorf("%s: got %v, want %v", tc.name, e, tc.want)
			}
			continue
		}
		if e != nil {
			t.Errorf("%s: %v: %s", tc.name, e.err, e.msg)
			continue
		}
		if len(recs) != tc.n {
			t.Errorf("%s: %d records, want %d", tc.name, len(recs), tc.n)
		}
		for i, r := range recs {
			pr := r.(*metadata.PartitionRecord)
			if pr.PartitionID != int32(1+i) || pr.TopicID != img.Topics.ByName("orders").ID || pr.Leader != pr.Replicas[0] {
				t.Errorf("%s: record %d: %+v", tc.name, i, pr)
			}
		}
	}
}

func TestAddPartitionsPlacement(t *testing.T) {
	img := imageWith(t, []int32{1, 2, 3})
	d := metadata.NewDelta(img)
	id := [16]byte{9}
	d.Replay(&metadata.TopicRecord{Name: "t", TopicID: id})
	// Created by place() starting at broker index 1 (broker 2), rf 2.
	for p, replicas := range place([]int32{1, 2, 3}, nil, 2, 2, 1) {
		d.Replay(&metadata.PartitionRecord{PartitionID: int32(p), TopicID: id, Replicas: replicas, ISR: replicas, Leader: replicas[0]})
	}
	img = d.Apply()
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = "t", 6
	recs, e := addPartitions(img, usableBrokers(img), &rt, 0)
	if e != nil {
		t.Fatal(e.msg)
	}
	// The whole topic must look as if it had been created with 6 partitions.
	want := place([]int32{1, 2, 3}, nil, 6, 2, 1)[2:]
	leaders := map[int32]int{}
	for i, r := range recs {
		pr := r.(*metadata.PartitionRecord)
		if !slices.Equal(pr.Replicas, want[i]) {
			t.Errorf("partition %d replicas %v, want %v", pr.PartitionID, pr.Replicas, want[i])
		}
		if len(pr.Replicas) != 2 || pr.Replicas[0] == pr.Replicas[1] {
			t.Errorf("partition %d replicas %v: want 2 distinct", pr.PartitionID, pr.Replicas)
		}
		leaders[pr.Leader]++
	}
	for _, b := range []int32{1, 2, 3} {
		if leaders[b] == 0 {
			t.Errorf("broker %d leads none of the new partitions: %v", b, leaders)
		}
	}
	// Without enough brokers for the topic's replication factor.
	one := imageWith(t, []int32{1, -2, -3})
	d = metadata.NewDelta(one)
	d.Replay(&metadata.TopicRecord{Name: "t", TopicID: id})
	d.Replay(&metadata.PartitionRecord{PartitionID: 0, TopicID: id, Replicas: []int32{1, 2}, ISR: []int32{1, 2}, Leader: 1})
	one = d.Apply()
	if _, e := addPartitions(one, usableBrokers(one), &rt, 0); e == nil || e.err != kerr.InvalidReplicationFactor {
		t.Errorf("rf 2 on one usable broker: got %v", e)
	}
}
